import { isThrottlingError } from "../../core/errors.js";
import type { Sleeper } from "../../core/ports/clock.js";

export interface RetryOptions {
  readonly sleeper: Sleeper;
  /** Attempts in all, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** The cap of the first backoff; it doubles per attempt. Default 100 ms. */
  readonly baseDelayMs?: number;
  /** No backoff is longer than this. Default 5000 ms. */
  readonly maxDelayMs?: number;
  /** A number in [0, 1) (default `Math.random`); injected so tests see fixed delays. */
  readonly random?: () => number;
  /** Which errors are worth another attempt. Default: throttling errors only. */
  readonly retryable?: (error: unknown) => boolean;
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failed ("full jitter"): uniform in
 * [0, min(maxDelayMs, baseDelayMs · 2^(attempt − 1))). Spreading retries over the whole interval keeps many
 * throttled callers from coming back in step and being throttled again together.
 */
export function fullJitterDelayMs(
  attempt: number,
  options: Pick<RetryOptions, "baseDelayMs" | "maxDelayMs" | "random">,
): number {
  const ceiling = Math.min(options.maxDelayMs ?? 5000, (options.baseDelayMs ?? 100) * 2 ** (attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/**
 * Runs `operation` until it succeeds, fails with an error that is not retryable, or has been tried
 * `maxAttempts` times, sleeping with exponential backoff and full jitter between attempts. The last error is
 * rethrown as it is, so callers still recognise it (`isThrottlingError`).
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 5;
  const retryable = options.retryable ?? isThrottlingError;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !retryable(error)) throw error;
      await options.sleeper.sleep(fullJitterDelayMs(attempt, options));
    }
  }
}
