/**
 * A stepped job run on the local stack through the state machine the Pulumi program deploys: the generated
 * definition, executed by aws-local-stepfunctions, its Step Task invoking the function on the local Lambda
 * endpoint with a time limit small enough that the job needs several steps; and a second start while one
 * runs, refused by the overlap guard before any step.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_STEP_MARGIN_MS } from "../core/steps/step.js";
import { steppedHandler } from "../runtime/stepped.js";
import { countingJob } from "../runtime/testing/counting-job.js";
import { RecordingObservability } from "../runtime/testing/recording-observability.js";
import { ALREADY_RUNNING_ERROR, type SteppedJob } from "../jobs/state-machine.js";
import { type LocalStack, startLocalStack } from "../local/stack.js";

const JOB: SteppedJob = {
  name: "counting",
  description: "Scheduled: writes numbered items, a few per step",
  start: "scheduled",
  timeoutSeconds: 61,
  memoryMb: 128,
  stateMachine: true,
};

let stack: LocalStack;
const store = new Map<string, number>();
let gate: Promise<void> = Promise.resolve();

beforeAll(async () => {
  const clock = { now: () => new Date() };
  const job = countingJob({
    clock,
    store,
    total: 9,
    workMs: 150,
    beforeWrite: () => gate,
  });
  stack = await startLocalStack({
    stateFile: false,
    stepRetryIntervalMs: 0,
    extraSteppedJobs: [
      {
        job: JOB,
        // Each invocation gets the margin and half a second: a few units of work per step.
        function: {
          timeoutMs: DEFAULT_STEP_MARGIN_MS + 500,
          handler: steppedHandler({ clock, observability: new RecordingObservability() }, job),
        },
      },
    ],
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 30_000);

describe("a stepped job on the local stack, through its state machine", () => {
  it("runs to completion over several steps, each item written once", async () => {
    const outcome = await stack.startExecution(JOB.name, { name: "local-run-1" }).result;
    expect(outcome).toMatchObject({ status: "SUCCEEDED", output: { done: true, state: { next: 9 } } });
    expect(outcome.steps).toBeGreaterThan(1);
    expect([...store.keys()].filter((key) => key.startsWith("local-run-1/"))).toHaveLength(9);
    // Every step went through the local Lambda endpoint, with the step protocol's event.
    const invocations = stack.lambda.received.filter((r) => r.functionName === JOB.name);
    expect(invocations).toHaveLength(outcome.steps);
    expect(invocations[0]!.event).toEqual({ execution: "local-run-1", input: {}, state: null });
  });

  it("refuses a second start while one runs; the first finishes alone", async () => {
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const before = stack.lambda.received.length;
    const first = stack.startExecution(JOB.name, { name: "local-run-2" });
    while (stack.lambda.received.length === before) await new Promise((r) => setTimeout(r, 10));
    const second = await stack.startExecution(JOB.name, { name: "local-run-3" }).result;
    expect(second).toMatchObject({ status: "FAILED", error: ALREADY_RUNNING_ERROR, steps: 0 });
    open();
    gate = Promise.resolve();
    expect(await first.result).toMatchObject({ status: "SUCCEEDED" });
    expect([...store.keys()].filter((key) => key.startsWith("local-run-3/"))).toEqual([]);
    expect(stack.stateMachines.listExecutions(JOB.name, "RUNNING")).toEqual([]);
  });
});
