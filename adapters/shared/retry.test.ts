import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isQuotaDeadlineError, ThrottlingError } from "../../core/errors.js";
import { ManualClock } from "../in-memory/clock.js";
import { fullJitterDelayMs, retryThrottled, type ThrottledRetryOptions } from "./retry.js";

function options(clock: ManualClock, overrides: Partial<ThrottledRetryOptions> = {}) {
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      operation: "AdminDeleteUser",
      clock,
      sleeper: { sleep: async (ms: number) => (sleeps.push(ms), clock.sleep(ms)) },
      giveUpAt: clock.now().getTime() + 60_000,
      random: () => 0.5,
      ...overrides,
    } satisfies ThrottledRetryOptions,
  };
}

describe("retryThrottled", () => {
  it("retries throttling however many times it takes, with growing jittered waits, then returns", async () => {
    const clock = new ManualClock();
    const { sleeps, options: opts } = options(clock, { baseDelayMs: 100, maxDelayMs: 1000 });
    let calls = 0;
    const events: string[] = [];
    const result = await retryThrottled(
      async () => {
        calls += 1;
        if (calls <= 12) throw new ThrottlingError("AdminDeleteUser", 25);
        return "done";
      },
      { ...opts, onThrottled: () => events.push("throttled"), onAnswered: () => events.push("answered") },
    );
    expect(result).toBe("done");
    expect(calls).toBe(13);
    expect(sleeps).toEqual([50, 100, 200, 400, 500, 500, 500, 500, 500, 500, 500, 500]);
    expect(events).toEqual([...Array.from({ length: 12 }, () => "throttled"), "answered"]);
  });

  it("stops at the deadline with QuotaDeadlineError, the last throttling error its cause", async () => {
    const clock = new ManualClock();
    const { options: opts } = options(clock, { giveUpAt: clock.now().getTime() + 10_000 });
    const errors: Error[] = [];
    const error = await retryThrottled(async () => {
      const e = Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
      errors.push(e);
      throw e;
    }, opts).catch((e: unknown) => e);
    expect(isQuotaDeadlineError(error)).toBe(true);
    expect(error).toMatchObject({
      name: "QuotaDeadlineError",
      code: "QUOTA.DEADLINE_REACHED",
      details: { operation: "AdminDeleteUser" },
    });
    expect((error as Error).cause).toBe(errors.at(-1));
    expect(errors.length).toBeGreaterThan(3);
    expect(clock.now().getTime()).toBeLessThanOrEqual(opts.giveUpAt);
  });

  it("does not call at all when the pacing's next turn comes after the deadline", async () => {
    const clock = new ManualClock();
    const { options: opts } = options(clock);
    let calls = 0;
    const error = await retryThrottled(async () => (calls += 1), {
      ...opts,
      turn: async () => false,
    }).catch((e: unknown) => e);
    expect(isQuotaDeadlineError(error)).toBe(true);
    expect(calls).toBe(0);
  });

  it("rethrows other errors at once, as they are", async () => {
    const clock = new ManualClock();
    const { sleeps, options: opts } = options(clock);
    const failure = new Error("User does not exist.");
    let calls = 0;
    const fail = async () => {
      calls += 1;
      throw failure;
    };
    await expect(retryThrottled(fail, opts)).rejects.toBe(failure);
    expect([calls, sleeps.length]).toEqual([1, 0]);
  });

  it("waits less than the capped exponential ceiling, and at least 0", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseDelayMs, maxDelayMs, r) => {
          const delay = fullJitterDelayMs(attempt, { baseDelayMs, maxDelayMs, random: () => r });
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(1, Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))));
        },
      ),
    );
  });
});
