import { isThrottlingError, QuotaDeadlineError } from "../../core/errors.js";
import type { Clock, Sleeper } from "../../core/ports/clock.js";

export interface ThrottledRetryOptions {
  /** The operation's name, for the error thrown when the deadline comes. */
  readonly operation: string;
  readonly clock: Clock;
  readonly sleeper: Sleeper;
  /** No attempt starts after this instant (ms since the epoch): the caller's deadline, less a margin. */
  readonly giveUpAt: number;
  /**
   * Waits for the caller's turn under its pacing before every attempt; resolves false, having waited for
   * nothing, when that turn would come after `giveUpAt`. Default: every attempt may go at once.
   */
  readonly turn?: (giveUpAt: number) => Promise<boolean>;
  /** Told when an attempt was answered without throttling, to speed the pacing up. */
  readonly onAnswered?: () => void;
  /** Told when an attempt was throttled, to slow the pacing down. */
  readonly onThrottled?: () => void;
  /** The cap of the first backoff after a throttle; it doubles per throttle in a row. Default 100 ms. */
  readonly baseDelayMs?: number;
  /** No backoff is longer than this. Default 5000 ms. */
  readonly maxDelayMs?: number;
  /** A number in [0, 1) (default `Math.random`); injected so tests see fixed delays. */
  readonly random?: () => number;
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failed ("full jitter"): uniform in
 * [0, min(maxDelayMs, baseDelayMs · 2^(attempt − 1))). Spreading retries over the whole interval keeps many
 * throttled callers from coming back in step and being throttled again together.
 */
export function fullJitterDelayMs(
  attempt: number,
  options: Pick<ThrottledRetryOptions, "baseDelayMs" | "maxDelayMs" | "random">,
): number {
  const ceiling = Math.min(options.maxDelayMs ?? 5000, (options.baseDelayMs ?? 100) * 2 ** (attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/**
 * Runs `operation` until it is answered. Throttling is a signal to slow down, not a failure: a throttled
 * attempt is retried however many times it takes — after a jittered backoff and the caller's next turn —
 * until the next attempt could only start after `giveUpAt`; then {@link QuotaDeadlineError} is thrown, the
 * last throttling error as its cause. Every other error is rethrown as it is, at once: it is the service's
 * answer (or no answer at all, which the caller reports as such).
 *
 * @throws QuotaDeadlineError `QUOTA.DEADLINE_REACHED` when throttling lasts until `giveUpAt`.
 */
export async function retryThrottled<T>(
  operation: () => Promise<T>,
  options: ThrottledRetryOptions,
): Promise<T> {
  const { clock } = options;
  const started = clock.now().getTime();
  let lastThrottle: unknown;
  let throttles = 0;
  const giveUp = () =>
    new QuotaDeadlineError(options.operation, clock.now().getTime() - started, {
      ...(lastThrottle === undefined ? {} : { cause: lastThrottle }),
    });
  for (;;) {
    if (clock.now().getTime() > options.giveUpAt) throw giveUp();
    if (options.turn && !(await options.turn(options.giveUpAt))) throw giveUp();
    try {
      const result = await operation();
      options.onAnswered?.();
      return result;
    } catch (error) {
      if (!isThrottlingError(error)) throw error;
      options.onThrottled?.();
      lastThrottle = error;
      throttles += 1;
      const backoff = fullJitterDelayMs(throttles, options);
      if (clock.now().getTime() + backoff > options.giveUpAt) throw giveUp();
      await options.sleeper.sleep(backoff);
    }
  }
}
