import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../in-memory/clock.js";
import { SlidingWindowRateLimiter } from "./rate-limiter.js";

/** The admission times of `count` calls of `key` made at once. */
async function admitAll(limiter: SlidingWindowRateLimiter, clock: ManualClock, key: string, count: number) {
  const start = clock.now().getTime();
  return Promise.all(
    Array.from({ length: count }, () => limiter.acquire(key).then(() => clock.now().getTime() - start)),
  );
}

describe("SlidingWindowRateLimiter", () => {
  it("admits the limit at once, then spaces later calls by the window", async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowRateLimiter({ updates: 2 }, { clock, sleeper: clock });
    expect(await admitAll(limiter, clock, "updates", 5)).toEqual([0, 0, 1000, 1000, 2000]);
  });

  it("lets a key without a limit through at once, and keys do not wait for each other", async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowRateLimiter<string>({ slow: 1 }, { clock, sleeper: clock });
    await limiter.acquire("slow");
    await limiter.acquire("slow");
    const afterSlow = clock.now().getTime();
    await limiter.acquire("free");
    await limiter.acquire("free");
    expect(clock.now().getTime()).toBe(afterSlow);
  });

  it("forgets calls once they leave the window", async () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowRateLimiter({ reads: 3 }, { clock, sleeper: clock });
    await admitAll(limiter, clock, "reads", 3);
    clock.advance(1000);
    expect(await admitAll(limiter, clock, "reads", 3)).toEqual([0, 0, 0]);
  });

  it("admits without waiting while the window has room, and refuses past it, counting only admissions", () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowRateLimiter<string>({ k: 2 }, { clock, sleeper: clock });
    expect([limiter.tryAcquire("k"), limiter.tryAcquire("k"), limiter.tryAcquire("k")]).toEqual([
      true,
      true,
      false,
    ]);
    clock.advance(999);
    expect(limiter.tryAcquire("k")).toBe(false);
    clock.advance(1);
    expect([limiter.tryAcquire("k"), limiter.tryAcquire("k"), limiter.tryAcquire("k")]).toEqual([
      true,
      true,
      false,
    ]);
    expect(limiter.tryAcquire("unlimited")).toBe(true);
    expect(limiter.limitOf("k")).toBe(2);
  });

  it("refuses a limit that is not a whole number of at least 1, naming the key", () => {
    const clock = new ManualClock();
    for (const limit of [0, -1, 2.5, Number.NaN]) {
      expect(() => new SlidingWindowRateLimiter({ reads: limit }, { clock, sleeper: clock })).toThrow(
        expect.objectContaining({ code: "CONFIG.INVALID", field: "rateLimits.reads" }),
      );
    }
  });

  it("never lets more than the limit into any window, whatever the timing of the calls", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        fc.array(
          fc.record({ gapMs: fc.integer({ min: 0, max: 700 }), burst: fc.integer({ min: 1, max: 8 }) }),
          {
            minLength: 1,
            maxLength: 25,
          },
        ),
        async (limit, waves) => {
          const clock = new ManualClock();
          const limiter = new SlidingWindowRateLimiter({ k: limit }, { clock, sleeper: clock });
          const admitted: number[] = [];
          for (const { gapMs, burst } of waves) {
            clock.advance(gapMs);
            await Promise.all(
              Array.from({ length: burst }, () =>
                limiter.acquire("k").then(() => admitted.push(clock.now().getTime())),
              ),
            );
          }
          // The fullest window of a set of instants starts at one of them.
          for (const start of admitted) {
            const inWindow = admitted.filter((t) => t >= start && t < start + 1000).length;
            expect(inWindow).toBeLessThanOrEqual(limit);
          }
          expect(admitted).toHaveLength(waves.reduce((n, wave) => n + wave.burst, 0));
        },
      ),
    );
  });
});
