import { describe, expect, it } from "vitest";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { LifecycleError } from "../errors.js";
import { CrashInjector, everyBoundary, InjectedCrash, runStepsThroughCrashes } from "../testing/crash.js";
import { rejectionOf } from "../testing/errors.js";
import { checkStepState, MAX_STEP_STATE_BYTES, runSteps, type Step, stepShouldYield } from "./step.js";

/** A toy durable job: copies items 0…n-1 into a store, a few per step, under deterministic keys. */
interface CopyState {
  readonly next: number;
  readonly copied: number;
}

interface Store {
  put(key: string, value: number): Promise<void>;
}

function copyJob(store: Store, clock: ManualClock, total: number, msPerItem: number): Step<CopyState> {
  return async (state, deadline) => {
    let { next, copied } = state;
    while (next < total) {
      if (stepShouldYield(clock, deadline, 1_000)) return { state: { next, copied }, done: false };
      await store.put(`item-${next}`, next);
      clock.advance(msPerItem);
      next += 1;
      copied += 1;
    }
    return { state: { next, copied }, done: true };
  };
}

class MapStore implements Store {
  readonly items = new Map<string, number>();
  writes = 0;
  async put(key: string, value: number): Promise<void> {
    this.writes += 1;
    this.items.set(key, value);
  }
}

describe("runSteps", () => {
  it("runs steps until done, each with its own deadline, yielding a margin before it", async () => {
    const clock = new ManualClock();
    const store = new MapStore();
    const deadlines: number[] = [];
    const job = copyJob(store, clock, 50, 1_000);
    const { state, steps } = await runSteps(
      async (s, deadline) => {
        deadlines.push(deadline.getTime() - clock.now().getTime());
        return job(s, deadline);
      },
      { next: 0, copied: 0 },
      { clock, stepBudgetMs: 10_000 },
    );
    expect(state).toEqual({ next: 50, copied: 50 });
    expect(store.items.size).toBe(50);
    // 10 s budget, 1 s per item, a new item starts while at least the 1 s margin is left: 10 per step.
    expect(steps).toBe(5);
    expect(new Set(deadlines)).toEqual(new Set([10_000]));
  });

  it("refuses a job that never finishes, naming the limit", async () => {
    const clock = new ManualClock();
    const error = await rejectionOf(
      runSteps(
        async (s: CopyState) => ({ state: s, done: false }),
        { next: 0, copied: 0 },
        {
          clock,
          stepBudgetMs: 1,
          maxSteps: 5,
        },
      ),
      LifecycleError,
    );
    expect(error.code).toBe("STEP.NO_PROGRESS");
    expect(error.message).toContain("5 steps");
  });

  it("hands each step a copy of the state, as between two invocations", async () => {
    const clock = new ManualClock();
    const seen: object[] = [];
    await runSteps(
      async (s: { n: number }) => {
        seen.push(s);
        return { state: { n: s.n + 1 }, done: s.n === 2 };
      },
      { n: 0 },
      { clock, stepBudgetMs: 1 },
    );
    expect(seen.map((s) => (s as { n: number }).n)).toEqual([0, 1, 2]);
    expect(new Set(seen).size).toBe(3);
  });
});

describe("checkStepState", () => {
  it.each([
    ["a Date", { at: new Date() }],
    ["a Map", { ids: new Map([["a", 1]]) }],
    ["undefined in an array", { cursors: [undefined] }],
    ["NaN", { count: Number.NaN }],
    ["a class instance", { error: new Error("x") }],
  ])("refuses %s: it would not survive Step Functions' JSON", (_, state) => {
    const error = (() => {
      try {
        checkStepState(state);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(LifecycleError);
    expect((error as LifecycleError).code).toBe("STEP.STATE_INVALID");
  });

  it("refuses a state larger than a step may pass on, naming its size", () => {
    const state = { ids: "x".repeat(MAX_STEP_STATE_BYTES) };
    expect(() => checkStepState(state)).toThrow(/bytes, over the/);
  });

  it("accepts plain JSON, with optional fields left out", () => {
    const state = { cursor: "abc", counts: { a: 1 }, list: [1, "2", null], optional: undefined };
    expect(checkStepState(state)).toBe(state);
  });
});

describe("crash injection", () => {
  const scenario = async (injector: CrashInjector) => {
    const clock = new ManualClock();
    const store = new MapStore();
    const wrapped = injector.wrap(store, "store");
    const result = await runStepsThroughCrashes(
      () => copyJob(wrapped, clock, 20, 1_000),
      { next: 0, copied: 0 },
      { clock, stepBudgetMs: 5_000 },
    );
    return { result, store };
  };

  it("counts two boundaries per call: before and after", async () => {
    const boundaries = await everyBoundary(scenario);
    expect(boundaries).toHaveLength(40);
  });

  it("a crash at any boundary, then a rerun from the last state, loses and duplicates nothing", async () => {
    for (const boundary of await everyBoundary(scenario)) {
      const { result, store } = await scenario(new CrashInjector([boundary]));
      expect(result.crashes, `boundary ${boundary}`).toBe(1);
      expect([...store.items.keys()].sort(), `boundary ${boundary}`).toEqual(
        Array.from({ length: 20 }, (_, i) => `item-${i}`).sort(),
      );
      // The counter in the state counts each item once, though a crashed step's writes are repeated.
      expect(result.state.copied, `boundary ${boundary}`).toBe(20);
    }
  });

  it("catches a job that records progress before its effect is written", async () => {
    // Wrong: items are buffered in memory across steps and written every third step, while the state already
    // counts them. A crash loses the buffer; the rerun starts after the lost items.
    const wrongScenario = async (injector: CrashInjector) => {
      const clock = new ManualClock();
      const items = new MapStore();
      const store = injector.wrap(items, "store");
      const wrongJob = (): Step<CopyState> => {
        let buffer: number[] = [];
        return async (state) => {
          buffer.push(state.next);
          if (buffer.length === 3 || state.next === 8) {
            for (const item of buffer) await store.put(`item-${item}`, item);
            buffer = [];
          }
          const next = state.next + 1;
          return { state: { next, copied: state.copied + 1 }, done: next === 9 };
        };
      };
      await runStepsThroughCrashes(wrongJob, { next: 0, copied: 0 }, { clock, stepBudgetMs: 5_000 });
      return items;
    };
    const lost: number[] = [];
    for (const boundary of await everyBoundary(wrongScenario)) {
      const items = await wrongScenario(new CrashInjector([boundary]));
      if (items.items.size < 9) lost.push(boundary);
    }
    expect(lost.length).toBeGreaterThan(0);
  });

  it("a crash escapes runSteps itself: only the crash runner restarts", async () => {
    const clock = new ManualClock();
    const injector = new CrashInjector([1]);
    const store = injector.wrap(new MapStore(), "store");
    await expect(
      runSteps(copyJob(store, clock, 3, 1), { next: 0, copied: 0 }, { clock, stepBudgetMs: 5_000 }),
    ).rejects.toBeInstanceOf(InjectedCrash);
  });
});
