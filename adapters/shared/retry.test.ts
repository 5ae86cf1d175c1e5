import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isThrottlingError, ThrottlingError } from "../../core/errors.js";
import { fullJitterDelayMs, withRetry } from "./retry.js";

function recordingSleeper() {
  const sleeps: number[] = [];
  return { sleeps, sleeper: { sleep: async (ms: number) => void sleeps.push(ms) } };
}

describe("withRetry", () => {
  it("retries throttling with growing, jittered waits, then returns the result", async () => {
    const { sleeps, sleeper } = recordingSleeper();
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 4) throw new ThrottlingError("AdminDeleteUser", 25);
        return "done";
      },
      { sleeper, random: () => 0.5, baseDelayMs: 100, maxDelayMs: 5000 },
    );
    expect(result).toBe("done");
    expect(calls).toBe(4);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it("rethrows the last throttling error as it is once the attempts are spent", async () => {
    const { sleeps, sleeper } = recordingSleeper();
    const errors: Error[] = [];
    const error = await withRetry(
      async () => {
        const e = Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
        errors.push(e);
        throw e;
      },
      { sleeper, maxAttempts: 3, random: () => 0 },
    ).catch((e: unknown) => e);
    expect(errors).toHaveLength(3);
    expect(error).toBe(errors[2]);
    expect(isThrottlingError(error)).toBe(true);
    expect(sleeps).toHaveLength(2);
  });

  it("does not retry other errors", async () => {
    const { sleeps, sleeper } = recordingSleeper();
    let calls = 0;
    const failure = new Error("User does not exist.");
    await expect(
      withRetry(
        async () => {
          calls += 1;
          throw failure;
        },
        { sleeper },
      ),
    ).rejects.toBe(failure);
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
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
