import { ThrottlingError } from "../../core/errors.js";
import type { Clock } from "../../core/ports/clock.js";

/**
 * Counts calls per one-second window of the given clock and throws Cognito's throttling error past the
 * limit, the way the real service answers once a quota category is exhausted.
 */
export class WindowRateLimiter {
  private windows = new Map<string, { second: number; calls: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: Readonly<Record<string, number>>,
  ) {}

  take(category: string, operation: string): void {
    const limit = this.limits[category];
    if (limit === undefined) return;
    const second = Math.floor(this.clock.now().getTime() / 1000);
    const window = this.windows.get(category);
    if (!window || window.second !== second) {
      this.windows.set(category, { second, calls: 1 });
      return;
    }
    if (window.calls >= limit) throw new ThrottlingError(operation, limit);
    window.calls += 1;
  }
}
