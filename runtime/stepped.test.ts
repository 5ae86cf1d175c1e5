import { describe, expect, it } from "vitest";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { callDeadline } from "../adapters/shared/call-deadline.js";
import { QuotaDeadlineError } from "../core/errors.js";
import { DEFAULT_STEP_MARGIN_MS } from "../core/steps/step.js";
import { RunFailedError } from "./invocation.js";
import { type StepAnswer, steppedHandler } from "./stepped.js";
import { countingJob, type CountingReport, type CountingState } from "./testing/counting-job.js";
import { RecordingObservability } from "./testing/recording-observability.js";

/** A Lambda context whose invocation has `ms` left, counted on the clock. */
function contextWith(clock: ManualClock, ms: number) {
  const end = clock.now().getTime() + ms;
  return { awsRequestId: "req-1", getRemainingTimeInMillis: () => end - clock.now().getTime() };
}

function setup(total = 5, extra: Partial<Parameters<typeof countingJob>[0]> = {}) {
  const clock = new ManualClock();
  const store = new Map<string, number>();
  const observability = new RecordingObservability();
  const handler = steppedHandler({ clock, observability }, countingJob({ clock, store, total, ...extra }));
  return { clock, store, observability, handler };
}

type Answer = StepAnswer<CountingState>;

describe("a stepped job's Lambda handler", () => {
  it("takes one step per event, within the invocation's remaining time less the step margin", async () => {
    const { clock, store, handler } = setup(5);
    // Three units of work fit before the margin: 62.5 s left, 1 s each, stop with less than 60 s left.
    const first = (await handler(
      { execution: "run-1", input: {}, state: null },
      contextWith(clock, DEFAULT_STEP_MARGIN_MS + 2_500),
    )) as Answer;
    expect(first).toEqual({
      state: { run: "run-1", next: 3, total: 5, dryRun: false },
      done: false,
      waitSeconds: 0,
      report: null,
    });
    expect([...store.keys()]).toEqual(["run-1/0", "run-1/1", "run-1/2"]);

    const second = (await handler(
      { execution: "run-1", input: {}, state: first.state },
      contextWith(clock, 15 * 60_000),
    )) as Answer;
    expect(second).toEqual({
      state: { ...first.state, next: 5 },
      done: true,
      waitSeconds: 0,
      // The last step answers the run's report: the execution's output.
      report: { written: 5, total: 5, dryRun: false },
    });
    expect([...store.values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it("starts from the execution's input: the start options of a direct invocation", async () => {
    const { clock, store, handler } = setup(2);
    const answer = (await handler(
      { execution: "dry", input: { dryRun: true }, state: null },
      contextWith(clock, 15 * 60_000),
    )) as Answer;
    expect(answer.state).toMatchObject({ dryRun: true, next: 2 });
    expect(store.size).toBe(0);
  });

  it("carries on from resumeFrom: the last state of a failed execution", async () => {
    const { clock, store, handler } = setup(4);
    const answer = (await handler(
      {
        execution: "again",
        input: { resumeFrom: { run: "old", next: 3, total: 4, dryRun: false } },
        state: null,
      },
      contextWith(clock, 15 * 60_000),
    )) as Answer;
    expect(answer).toMatchObject({ done: true, state: { run: "old", next: 4 } });
    expect([...store.keys()]).toEqual(["old/3"]);
  });

  it("carries on from resumeFrom in an execution that continues another (a fresh history)", async () => {
    const { clock, store, handler } = setup(4);
    const answer = (await handler(
      {
        execution: "c0ffee",
        input: { resumeFrom: { run: "long", next: 2, total: 4, dryRun: false }, continues: "long" },
        state: null,
      },
      contextWith(clock, 15 * 60_000),
    )) as Answer;
    expect(answer).toMatchObject({ done: true, state: { run: "long", next: 4 } });
    expect([...store.keys()]).toEqual(["long/2", "long/3"]);
  });

  it("runs a retried step again with the same input: nothing lost, nothing doubled", async () => {
    let crashes = 1;
    const { clock, store, handler } = setup(3, {
      beforeWrite: (key) => {
        if (key === "r/1" && crashes-- > 0) throw new Error("killed");
      },
    });
    const event = { execution: "r", input: {}, state: { run: "r", next: 1, total: 3, dryRun: false } };
    await expect(handler(event, contextWith(clock, 15 * 60_000))).rejects.toThrow("killed");
    const answer = (await handler(event, contextWith(clock, 15 * 60_000))) as Answer;
    expect(answer.done).toBe(true);
    expect([...store.entries()]).toEqual([
      ["r/1", 1],
      ["r/2", 1],
    ]);
  });

  it.each([
    [{ execution: "x", state: null, extra: 1 }, "event", "extra"],
    [{ execution: "x", input: { dryRun: true, limit: 3 }, state: null }, "event.input", "limit"],
    [{ execution: "x", input: { resumeFrom: {}, dryRun: true }, state: null }, "event.input", "dryRun"],
    [
      { execution: "x", input: { resumeFrom: {}, continues: "a b" }, state: null },
      "event.input.continues",
      "execution name",
    ],
    [{ execution: "a:b", state: null }, "event.execution", "execution name"],
    [{ execution: "x" }, "event.state", "required"],
    [{ execution: "x", state: { run: "x", next: -1, total: 3, dryRun: false } }, "state", "counting state"],
    [{ dryRun: true, state: null }, "event", "state"],
  ])("refuses %j, naming %s, and does nothing", async (event, field, words) => {
    const { clock, store, handler, observability } = setup(2);
    const error = await handler(event, contextWith(clock, 15 * 60_000)).catch((e: unknown) => e);
    expect(error).toMatchObject({ field });
    expect(String((error as Error).message)).toContain(words);
    expect(store.size).toBe(0);
    expect(observability.counters.get("CountingFailed")).toBe(1);
  });

  it("yields a step throttled until its deadline: the state it was given, not done, and carries on after", async () => {
    const { clock, store } = setup(3);
    const deadlines: (Date | undefined)[] = [];
    let throttled = false;
    const handler = steppedHandler(
      { clock, observability: new RecordingObservability() },
      countingJob({
        clock,
        store,
        total: 3,
        beforeWrite: (key) => {
          deadlines.push(callDeadline());
          if (key === "run-1/1" && !throttled) {
            throttled = true;
            throw new QuotaDeadlineError("ListUsers", 50_000);
          }
        },
      }),
    );
    const end = clock.now().getTime() + 15 * 60_000;
    const first = (await handler(
      { execution: "run-1", input: {}, state: null },
      contextWith(clock, 15 * 60_000),
    )) as Answer;
    expect(first).toEqual({
      state: { run: "run-1", next: 0, total: 3, dryRun: false },
      done: false,
      waitSeconds: 0,
      report: null,
    });
    expect(deadlines[0]?.getTime()).toBe(end);
    const second = (await handler(
      { execution: "run-1", input: {}, state: first.state },
      contextWith(clock, 15 * 60_000),
    )) as Answer;
    expect(second.done).toBe(true);
    // The interrupted step's write is done again under the same key, as after a crash.
    expect(Object.fromEntries(store)).toEqual({ "run-1/0": 2, "run-1/1": 1, "run-1/2": 1 });
  });

  it("fails the last step when the report holds failures, so the execution fails and alarms", async () => {
    const clock = new ManualClock();
    const observability = new RecordingObservability();
    const job = countingJob({ clock, store: new Map(), total: 2 });
    // Done, yet short of its total: a run whose report counts failures.
    const failing = steppedHandler(
      { clock, observability },
      { ...job, step: async (state) => ({ state, done: true }) },
    );
    await expect(
      failing({ execution: "f", input: {}, state: null }, contextWith(clock, 60_000)),
    ).rejects.toBeInstanceOf(RunFailedError);
    expect(observability.counters.get("CountingFailed")).toBe(1);
    expect(observability.lines.at(-1)).toMatchObject({ level: "error", attributes: { execution: "f" } });
  });

  it("never logs the state (it may hold usernames), only the execution, the outcome and codes", async () => {
    const { clock, handler, observability } = setup(1);
    await handler({ execution: "quiet", input: {}, state: null }, contextWith(clock, 15 * 60_000));
    expect(observability.text()).not.toContain('"run"');
    expect(observability.lines.map((l) => l.message)).toEqual(["Counting step", "Counting finished"]);
    expect(observability.lines[0]!.attributes).toEqual({
      execution: "quiet",
      first: true,
      done: true,
      waitSeconds: 0,
    });
  });

  it("tells the state machine how long to wait when the job asks, never after the last step", async () => {
    const { clock, handler } = setup(3, { waitSeconds: 30 });
    const first = (await handler(
      { execution: "w", input: {}, state: null },
      contextWith(clock, DEFAULT_STEP_MARGIN_MS + 1_000),
    )) as Answer;
    expect(first).toMatchObject({ done: false, waitSeconds: 30 });
    const last = (await handler(
      { execution: "w", input: {}, state: first.state },
      contextWith(clock, 15 * 60_000),
    )) as Answer;
    expect(last).toMatchObject({ done: true, waitSeconds: 0 });
  });

  describe("invoked directly with the start options (as before state machines)", () => {
    it("runs every step in this invocation and returns the report", async () => {
      const { clock, store, handler } = setup(4);
      const report = (await handler({}, contextWith(clock, 15 * 60_000))) as CountingReport;
      expect(report).toEqual({ written: 4, total: 4, dryRun: false });
      expect(store.size).toBe(4);
      const dry = (await handler({ dryRun: true }, contextWith(clock, 15 * 60_000))) as CountingReport;
      expect(dry.dryRun).toBe(true);
    });

    it("stops at the invocation's deadline and fails with the report when the run is not finished", async () => {
      const { clock, store, handler } = setup(1_000);
      const error = await handler({}, contextWith(clock, 120_000)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunFailedError);
      expect(store.size).toBeGreaterThan(0);
      expect(store.size).toBeLessThan(1_000);
    });

    it("refuses an unknown field, naming it", async () => {
      const { clock, handler } = setup(1);
      await expect(handler({ dryrun: true }, contextWith(clock, 60_000))).rejects.toThrow("dryrun");
    });
  });
});
