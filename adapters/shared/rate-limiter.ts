import { ValidationError } from "../../core/errors.js";
import type { Clock, Sleeper } from "../../core/ports/clock.js";

/** Where a window reads the time. */
export interface SlidingWindowOptions {
  readonly clock: Clock;
  /** The window the limits count over. Default 1000 ms (quotas are per second). */
  readonly windowMs?: number;
}

interface WindowLane {
  readonly limit: number;
  /** When the calls still inside the window were admitted, oldest first (at most `limit`). */
  readonly admitted: number[];
}

/**
 * A quota as a service enforces it, with one lane per key (a quota category): at most `limit` calls of a
 * key are admitted in any window of `windowMs`, whatever the window's start, and a call past it is refused,
 * not delayed. A sliding log of admission times gives that guarantee exactly; a token bucket would let a
 * full bucket plus its refill through in one second, twice the quota. A key without a limit is always
 * admitted.
 */
export class SlidingWindowRateLimiter<K extends string = string> {
  private readonly lanes = new Map<K, WindowLane>();
  private readonly windowMs: number;

  /**
   * @throws ValidationError `CONFIG.INVALID` (field `rateLimits.<key>`) for a limit that is not a whole number
   *   of at least 1, or a window that is not positive.
   */
  constructor(
    limits: Readonly<Partial<Record<K, number>>>,
    private readonly options: SlidingWindowOptions,
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
      this.lanes.set(key, { limit, admitted: [] });
    }
  }

  /** Admits a call of `key` now if the window has room, counting it; false, counting nothing, otherwise. */
  tryAcquire(key: K): boolean {
    const lane = this.lanes.get(key);
    if (!lane) return true;
    const now = this.options.clock.now().getTime();
    // A call admitted exactly `windowMs` ago shares no half-open window [s, s + windowMs) with this one.
    while (lane.admitted.length > 0 && (lane.admitted[0] as number) <= now - this.windowMs) {
      lane.admitted.shift();
    }
    if (lane.admitted.length >= lane.limit) return false;
    lane.admitted.push(now);
    return true;
  }

  /** The limit of `key`, or undefined when it has none. */
  limitOf(key: K): number | undefined {
    return this.lanes.get(key)?.limit;
  }
}

/** How an {@link AdaptiveRateLimiter} starts, slows down and speeds up. Every field has a default. */
export interface AdaptivePacingOptions {
  readonly clock: Clock;
  readonly sleeper: Sleeper;
  /** The share of its ceiling each lane starts at: the caller assumes it is not alone. Default 0.5. */
  readonly startShare?: number;
  /** The factor a rate is multiplied by when throttled. Default 0.7 (the AWS SDKs' adaptive mode's). */
  readonly decrease?: number;
  /** How much faster a lane goes per second without throttling, as a share of its ceiling. Default 0.2. */
  readonly increaseShare?: number;
  /** The slowest a lane goes, in calls per second. Default 0.5 (the AWS SDKs' adaptive mode's). */
  readonly minRate?: number;
  /** The quota's window: throttles within one window of a slow-down slow it no further. Default 1000 ms. */
  readonly windowMs?: number;
}

interface AdaptiveLane {
  readonly ceiling: number;
  /** Calls per second this lane spaces its calls at now. */
  rate: number;
  /** The earliest instant the next call may go. */
  nextAt: number;
  /** When the rate was last cut; -Infinity before the first cut. */
  cutAt: number;
  /** The end of the queue of callers waiting for this lane, so they are admitted in arrival order. */
  tail: Promise<unknown>;
}

/**
 * Client-side pacing for a quota shared with callers it cannot see (AIMD, as TCP shares a link): each lane
 * spaces its calls at a rate that starts at a share of the lane's ceiling, drops multiplicatively when the
 * service throttles a call ({@link throttled}), and climbs additively while calls are answered
 * ({@link answered}), never above the ceiling (the quota itself) nor below `minRate`. Callers that share a
 * quota this way converge to sharing it evenly and, together, keep it nearly full; one alone climbs to the
 * quota within seconds.
 *
 * The AWS SDKs' adaptive retry mode does the same with a CUBIC curve over a token bucket, but it reads the
 * wall clock and real timers itself, starts unpaced (its first burst is throttled) and knows no ceiling, so
 * it cannot run on a virtual clock nor stay under a quota that is known in advance.
 *
 * Calls are spaced evenly (no burst): a lane at the quota's rate never exceeds the quota in any window.
 */
export class AdaptiveRateLimiter<K extends string = string> {
  private readonly lanes = new Map<K, AdaptiveLane>();
  private readonly decrease: number;
  private readonly increaseShare: number;
  private readonly minRate: number;
  private readonly windowMs: number;

  /**
   * @param ceilings the highest rate per key, in calls per second; a key left out (or `undefined`) is not
   *   paced at all.
   * @throws ValidationError `CONFIG.INVALID` (field `rateLimits.<key>`) for a ceiling that is not a positive
   *   number, or (field `pacing.<option>`) for options out of range.
   */
  constructor(
    ceilings: Readonly<Partial<Record<K, number | undefined>>>,
    private readonly options: AdaptivePacingOptions,
  ) {
    const startShare = checkRange("startShare", options.startShare ?? 0.5, 0, 1);
    this.decrease = checkRange("decrease", options.decrease ?? 0.7, 0, 1);
    this.increaseShare = checkRange("increaseShare", options.increaseShare ?? 0.2, 0, Infinity);
    this.minRate = checkRange("minRate", options.minRate ?? 0.5, 0, Infinity);
    this.windowMs = checkRange("windowMs", options.windowMs ?? 1000, 0, Infinity);
    for (const [key, ceiling] of Object.entries(ceilings) as [K, number | undefined][]) {
      if (ceiling === undefined) continue;
      if (!(Number.isFinite(ceiling) && ceiling > 0)) {
        throw new ValidationError(
          "CONFIG.INVALID",
          `rateLimits.${key}`,
          `must be a positive number of calls per second, got ${ceiling}`,
        );
      }
      const rate = Math.min(ceiling, Math.max(this.minRate, ceiling * startShare));
      this.lanes.set(key, { ceiling, rate, nextAt: -Infinity, cutAt: -Infinity, tail: Promise.resolve() });
    }
  }

  /** The rate a key's calls are spaced at now, in calls per second; undefined when it is not paced. */
  rateOf(key: K): number | undefined {
    return this.lanes.get(key)?.rate;
  }

  /**
   * Resolves true when a call of `key` may go out (its turn, in arrival order, at the lane's rate), or false
   * at once — taking no turn — when that turn would come after `notAfter` (ms since the epoch).
   */
  acquire(key: K, notAfter = Infinity): Promise<boolean> {
    const lane = this.lanes.get(key);
    if (!lane) return Promise.resolve(true);
    const turn = lane.tail.then(() => this.admit(lane, notAfter));
    // A failed sleep must not block every later caller of the lane.
    lane.tail = turn.catch(() => undefined);
    return turn;
  }

  /** A call of `key` was answered without throttling: the lane speeds up, by about `increaseShare` a second. */
  answered(key: K): void {
    const lane = this.lanes.get(key);
    if (!lane) return;
    // One call's share of a second's increase: the lane climbs by increaseShare · ceiling per second of calls.
    lane.rate = Math.min(lane.ceiling, lane.rate + (this.increaseShare * lane.ceiling) / lane.rate);
  }

  /**
   * A call of `key` was throttled: the lane slows down by `decrease` — once per window, however many of its
   * calls that window throttled — and its next call waits a full interval at the new rate.
   */
  throttled(key: K): void {
    const lane = this.lanes.get(key);
    if (!lane) return;
    const now = this.options.clock.now().getTime();
    if (now - lane.cutAt >= this.windowMs) {
      lane.rate = Math.max(this.minRate, lane.rate * this.decrease);
      lane.cutAt = now;
    }
    lane.nextAt = Math.max(lane.nextAt, now + 1000 / lane.rate);
  }

  private async admit(lane: AdaptiveLane, notAfter: number): Promise<boolean> {
    for (;;) {
      const now = this.options.clock.now().getTime();
      if (lane.nextAt <= now) {
        // From the instant it goes, not from its slot: a late call never lets the next one in early.
        lane.nextAt = now + 1000 / lane.rate;
        return true;
      }
      if (lane.nextAt > notAfter) return false;
      await this.options.sleeper.sleep(lane.nextAt - now);
    }
  }
}

function checkRange(option: string, value: number, above: number, atMost: number): number {
  if (!(value > above && value <= atMost)) {
    throw new ValidationError(
      "CONFIG.INVALID",
      `pacing.${option}`,
      `must be a number above ${above}${atMost === Infinity ? "" : ` and at most ${atMost}`}, got ${value}`,
    );
  }
  return value;
}
