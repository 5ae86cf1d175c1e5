import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock, VirtualClock } from "../in-memory/clock.js";
import { AdaptiveRateLimiter, SlidingWindowRateLimiter } from "./rate-limiter.js";

describe("SlidingWindowRateLimiter", () => {
  it("admits while the window has room, and refuses past it, counting only admissions", () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowRateLimiter<string>({ k: 2 }, { clock });
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
    expect(limiter.limitOf("k")).toBe(2);
  });

  it("always admits a key without a limit, and counts keys apart", () => {
    const clock = new ManualClock();
    const limiter = new SlidingWindowRateLimiter<string>({ slow: 1 }, { clock });
    expect([limiter.tryAcquire("slow"), limiter.tryAcquire("slow")]).toEqual([true, false]);
    expect(Array.from({ length: 100 }, () => limiter.tryAcquire("free")).every(Boolean)).toBe(true);
    expect(limiter.limitOf("free")).toBeUndefined();
  });

  it("refuses a limit that is not a whole number of at least 1, naming the key", () => {
    const clock = new ManualClock();
    for (const limit of [0, -1, 2.5, Number.NaN]) {
      expect(() => new SlidingWindowRateLimiter({ reads: limit }, { clock })).toThrow(
        expect.objectContaining({ code: "CONFIG.INVALID", field: "rateLimits.reads" }),
      );
    }
  });

  it("never lets more than the limit into any window, whatever the timing of the calls", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(
          fc.record({ gapMs: fc.integer({ min: 0, max: 700 }), burst: fc.integer({ min: 1, max: 8 }) }),
          { minLength: 1, maxLength: 25 },
        ),
        (limit, waves) => {
          const clock = new ManualClock();
          const limiter = new SlidingWindowRateLimiter({ k: limit }, { clock });
          const admitted: number[] = [];
          for (const { gapMs, burst } of waves) {
            clock.advance(gapMs);
            for (let i = 0; i < burst; i++) if (limiter.tryAcquire("k")) admitted.push(clock.now().getTime());
          }
          // The fullest window of a set of instants starts at one of them.
          for (const start of admitted) {
            const inWindow = admitted.filter((t) => t >= start && t < start + 1000).length;
            expect(inWindow).toBeLessThanOrEqual(limit);
          }
          // A wave that follows a whole window of quiet is admitted up to the limit.
          expect(admitted.length).toBeGreaterThanOrEqual(
            Math.min(limit, (waves[0] as { burst: number }).burst),
          );
        },
      ),
    );
  });
});

describe("AdaptiveRateLimiter", () => {
  const aLimiter = (clock: ManualClock | VirtualClock, ceiling = 10, extra = {}) =>
    new AdaptiveRateLimiter<string>({ k: ceiling }, { clock, sleeper: clock, ...extra });

  it("starts at its share of the ceiling and spaces calls evenly, in arrival order", async () => {
    const clock = new ManualClock();
    const limiter = aLimiter(clock);
    expect(limiter.rateOf("k")).toBe(5);
    const start = clock.now().getTime();
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      await limiter.acquire("k");
      times.push(clock.now().getTime() - start);
    }
    expect(times).toEqual([0, 200, 400, 600]);
    expect(await limiter.acquire("free")).toBe(true);
  });

  it("slows down by the decrease once per window when throttled, and the next call waits a full interval", async () => {
    const clock = new ManualClock();
    const limiter = aLimiter(clock);
    await limiter.acquire("k");
    limiter.throttled("k");
    limiter.throttled("k");
    expect(limiter.rateOf("k")).toBeCloseTo(3.5);
    const before = clock.now().getTime();
    await limiter.acquire("k");
    expect(clock.now().getTime() - before).toBeCloseTo(1000 / 3.5, 0);
    clock.advance(1000);
    limiter.throttled("k");
    expect(limiter.rateOf("k")).toBeCloseTo(2.45);
  });

  it("climbs back while answered, by about a fifth of the ceiling a second, never above the ceiling", async () => {
    const clock = new ManualClock();
    const limiter = aLimiter(clock, 30);
    const start = clock.now().getTime();
    while ((limiter.rateOf("k") as number) < 30) {
      await limiter.acquire("k");
      limiter.answered("k");
    }
    // From 15 to 30 at about 6 a second: about 2.5 seconds.
    expect(clock.now().getTime() - start).toBeGreaterThan(2000);
    expect(clock.now().getTime() - start).toBeLessThan(3200);
    limiter.answered("k");
    expect(limiter.rateOf("k")).toBe(30);
  });

  it("refuses a turn past the deadline without taking it", async () => {
    const clock = new ManualClock();
    const limiter = aLimiter(clock, 1);
    await limiter.acquire("k");
    const now = clock.now().getTime();
    expect(await limiter.acquire("k", now + 500)).toBe(false);
    expect(clock.now().getTime()).toBe(now);
    expect(await limiter.acquire("k", now + 5000)).toBe(true);
    expect(clock.now().getTime()).toBe(now + 2000);
  });

  it("refuses a ceiling or an option out of range, naming it", () => {
    const clock = new ManualClock();
    for (const ceiling of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => aLimiter(clock, ceiling)).toThrow(
        expect.objectContaining({ code: "CONFIG.INVALID", field: "rateLimits.k" }),
      );
    }
    expect(() => aLimiter(clock, 10, { decrease: 1.5 })).toThrow(
      expect.objectContaining({ field: "pacing.decrease" }),
    );
    expect(() => aLimiter(clock, 10, { startShare: 0 })).toThrow(
      expect.objectContaining({ field: "pacing.startShare" }),
    );
  });

  it("keeps its rate within [minimum, ceiling] and its calls at most the ceiling per window, whatever the answers", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.constantFrom("answered", "throttled", "idle"), { minLength: 1, maxLength: 120 }),
        async (ceiling, events) => {
          const clock = new ManualClock();
          const limiter = aLimiter(clock, ceiling);
          const admitted: number[] = [];
          for (const event of events) {
            if (event === "idle") {
              clock.advance(700);
              continue;
            }
            await limiter.acquire("k");
            admitted.push(clock.now().getTime());
            limiter[event]("k");
            const rate = limiter.rateOf("k") as number;
            expect(rate).toBeGreaterThanOrEqual(Math.min(0.5, ceiling));
            expect(rate).toBeLessThanOrEqual(ceiling);
          }
          for (const start of admitted) {
            const inWindow = admitted.filter((t) => t >= start && t < start + 1000).length;
            expect(inWindow).toBeLessThanOrEqual(Math.ceil(ceiling));
          }
        },
      ),
    );
  });

  it("shares a quota evenly with another caller it cannot see, and together they keep it nearly full", async () => {
    const clock = new VirtualClock();
    const quota = new SlidingWindowRateLimiter<string>({ k: 30 }, { clock });
    const end = clock.now().getTime() + 120_000;
    const counted = clock.now().getTime() + 60_000;
    const admittedAfter = [0, 0];
    const caller = async (index: number, startShare: number) => {
      const limiter = aLimiter(clock, 30, { startShare });
      while (clock.now().getTime() < end) {
        await limiter.acquire("k");
        if (quota.tryAcquire("k")) {
          limiter.answered("k");
          if (clock.now().getTime() >= counted) admittedAfter[index] = (admittedAfter[index] as number) + 1;
        } else {
          limiter.throttled("k");
        }
      }
    };
    // Unequal starts: one at the whole quota, one at a tenth of it.
    await Promise.all([caller(0, 1), caller(1, 0.1)]);
    const [first, second] = admittedAfter as [number, number];
    expect(first + second).toBeGreaterThanOrEqual(0.85 * 30 * 60);
    expect(Math.min(first, second) / Math.max(first, second)).toBeGreaterThan(0.7);
  });
});
