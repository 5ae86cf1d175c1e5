import { ValidationError } from "../../core/errors.js";
import type { Clock, Sleeper } from "../../core/ports/clock.js";

/** Where a limiter reads the time and how it waits; a manual clock makes its waits instant under test. */
export interface RateLimiterOptions {
  readonly clock: Clock;
  readonly sleeper: Sleeper;
  /** The window the limits count over. Default 1000 ms (quotas are per second). */
  readonly windowMs?: number;
}

interface Lane {
  readonly limit: number;
  /** When the calls still inside the window were admitted, oldest first (at most `limit`). */
  readonly admitted: number[];
  /** The end of the queue of callers waiting for this lane, so they are admitted in arrival order. */
  tail: Promise<void>;
  /** Callers queued or waiting for this lane. */
  waiting: number;
}

/**
 * A client-side limiter with one lane per key (a quota category): at most `limit` calls of a key are admitted
 * in any window of `windowMs`, whatever the window's start. A sliding log of admission times gives that
 * guarantee exactly; a token bucket would let a full bucket plus its refill through in one second, twice the
 * quota. Callers of one key are admitted one after another, in order; keys do not wait for each other. A key
 * without a limit is admitted at once.
 */
export class SlidingWindowRateLimiter<K extends string = string> {
  private readonly lanes = new Map<K, Lane>();
  private readonly windowMs: number;

  /**
   * @throws ValidationError `CONFIG.INVALID` (field `rateLimits.<key>`) for a limit that is not a whole number
   *   of at least 1, or a window that is not positive.
   */
  constructor(
    limits: Readonly<Partial<Record<K, number>>>,
    private readonly options: RateLimiterOptions,
  ) {
    this.windowMs = options.windowMs ?? 1000;
    if (!(this.windowMs > 0)) {
      throw new ValidationError("CONFIG.INVALID", "rateLimits.windowMs", "must be a positive number");
    }
    for (const [key, limit] of Object.entries(limits) as [K, number | undefined][]) {
      if (limit === undefined) continue;
      if (!Number.isInteger(limit) || limit < 1) {
        throw new ValidationError(
          "CONFIG.INVALID",
          `rateLimits.${key}`,
          `must be a whole number of calls of at least 1, got ${limit}`,
        );
      }
      this.lanes.set(key, { limit, admitted: [], tail: Promise.resolve(), waiting: 0 });
    }
  }

  /**
   * Admits a call of `key` now if the window has room (and nobody is queued for the lane), counting it;
   * false, counting nothing, otherwise. What a service that refuses rather than waits does.
   */
  tryAcquire(key: K): boolean {
    const lane = this.lanes.get(key);
    if (!lane) return true;
    if (lane.waiting > 0) return false;
    return this.admitNow(lane, this.options.clock.now().getTime());
  }

  /** The limit of `key`, or undefined when it has none. */
  limitOf(key: K): number | undefined {
    return this.lanes.get(key)?.limit;
  }

  /** Resolves when a call of `key` may go out; the call counts from that moment. */
  acquire(key: K): Promise<void> {
    const lane = this.lanes.get(key);
    if (!lane) return Promise.resolve();
    lane.waiting += 1;
    const turn = lane.tail.then(() => this.admit(lane)).finally(() => (lane.waiting -= 1));
    // A failed sleep must not block every later caller of the lane.
    lane.tail = turn.catch(() => undefined);
    return turn;
  }

  private async admit(lane: Lane): Promise<void> {
    for (;;) {
      const now = this.options.clock.now().getTime();
      if (this.admitNow(lane, now)) return;
      await this.options.sleeper.sleep((lane.admitted[0] as number) + this.windowMs - now);
    }
  }

  private admitNow(lane: Lane, now: number): boolean {
    // A call admitted exactly `windowMs` ago shares no half-open window [s, s + windowMs) with this one.
    while (lane.admitted.length > 0 && (lane.admitted[0] as number) <= now - this.windowMs) {
      lane.admitted.shift();
    }
    if (lane.admitted.length >= lane.limit) return false;
    lane.admitted.push(now);
    return true;
  }
}
