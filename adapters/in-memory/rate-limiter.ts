import { ThrottlingError } from "../../core/errors.js";
import type { Clock } from "../../core/ports/clock.js";
import { SlidingWindowRateLimiter } from "../shared/rate-limiter.js";

/** What a category of an account's quota saw: calls let through and calls refused. */
export interface QuotaUsage {
  readonly admitted: number;
  readonly throttled: number;
}

/**
 * The request-rate quotas of one AWS account, enforced the way Cognito answers: at most `limit` calls of a
 * category in any one-second window of the clock, and Cognito's throttling error (TooManyRequestsException)
 * for every call past it — refused calls do not count. Every directory given the same instance shares its
 * quotas, as every caller in an account shares Cognito's: two directories are two callers of one account.
 */
export class AccountQuotas {
  private readonly window: SlidingWindowRateLimiter;
  private readonly usage = new Map<string, { admitted: number; throttled: number }>();

  /** `limits`: calls per second per category; a category left out is not limited. */
  constructor(clock: Clock, limits: Readonly<Partial<Record<string, number>>>) {
    this.window = new SlidingWindowRateLimiter(limits, { clock });
  }

  /**
   * Counts one call of `operation` against `category`.
   *
   * @throws ThrottlingError (`DIRECTORY.THROTTLED`, named TooManyRequestsException) past the category's quota.
   */
  take(category: string, operation: string): void {
    const counts = this.countsOf(category);
    if (!this.window.tryAcquire(category)) {
      counts.throttled += 1;
      throw new ThrottlingError(operation, this.window.limitOf(category) ?? 0);
    }
    counts.admitted += 1;
  }

  /** The calls of `category` let through and refused since this account was made. */
  usageOf(category: string): QuotaUsage {
    return { ...this.countsOf(category) };
  }

  private countsOf(category: string): { admitted: number; throttled: number } {
    let counts = this.usage.get(category);
    if (!counts) {
      counts = { admitted: 0, throttled: 0 };
      this.usage.set(category, counts);
    }
    return counts;
  }
}
