import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { DEFAULT_STEP_MARGIN_MS } from "../core/steps/step.js";
import { steppedHandler } from "../runtime/stepped.js";
import { countingJob } from "../runtime/testing/counting-job.js";
import { RecordingObservability } from "../runtime/testing/recording-observability.js";
import { ALREADY_RUNNING_ERROR, type SteppedJob } from "../jobs/state-machine.js";
import { aslErrors } from "../jobs/testing/asl.js";
import { type LambdaEndpoint, type LocalFunctionDefinition, startLambdaEndpoint } from "./lambda-endpoint.js";
import { localStateMachines } from "./state-machines.js";

const JOB: SteppedJob = {
  name: "counting",
  description: "Scheduled: counts",
  start: "scheduled",
  timeoutSeconds: 900,
  memoryMb: 256,
  stateMachine: true,
};

let endpoint: LambdaEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

/**
 * The counting job served on a local Lambda endpoint. Each invocation has 62.5 s on a manual clock and each
 * unit of work takes 1 s: three units per step before the 60 s margin, so `total` needs several steps.
 */
async function serve(
  total: number,
  options: { gate?: Promise<void>; crashAt?: string[]; maxStepsPerExecution?: number } = {},
) {
  const clock = new ManualClock();
  const store = new Map<string, number>();
  const crashes = new Set(options.crashAt);
  const job = countingJob({
    clock,
    store,
    total,
    beforeWrite: async (key) => {
      await options.gate;
      if (crashes.delete(key)) throw Object.assign(new Error("the sandbox died"), { name: "Lambda.Unknown" });
    },
  });
  const handler = steppedHandler({ clock, observability: new RecordingObservability() }, job);
  const functions = new Map<string, LocalFunctionDefinition>([
    [
      JOB.name,
      {
        timeoutMs: 900_000,
        handler: (event) => {
          const end = clock.now().getTime() + DEFAULT_STEP_MARGIN_MS + 2_500;
          return handler(event, { getRemainingTimeInMillis: () => end - clock.now().getTime() });
        },
      },
    ],
  ]);
  endpoint = await startLambdaEndpoint({ functions });
  const machines = localStateMachines({
    region: "us-east-1",
    lambdaUrl: endpoint.url,
    jobs: [JOB],
    retryIntervalMs: 0,
    waitMs: 10,
    ...(options.maxStepsPerExecution === undefined
      ? {}
      : { maxStepsPerExecution: options.maxStepsPerExecution }),
  });
  return { store, machines };
}

describe("a stepped job's state machine, run locally", () => {
  it("runs the deployed definition (valid by asl-validator) to completion over several steps", async () => {
    const { store, machines } = await serve(10);
    expect(aslErrors(machines.definition(JOB.name))).toEqual([]);
    const execution = machines.startExecution(JOB.name, { name: "nightly-1" });
    const outcome = await execution.result;
    expect(outcome).toMatchObject({
      status: "SUCCEEDED",
      output: { done: true, state: { run: "nightly-1", next: 10 } },
    });
    expect(outcome.steps).toBe(4);
    expect([...store.values()]).toEqual(Array(10).fill(1));
    expect(machines.listExecutions(JOB.name)).toEqual([{ name: "nightly-1", status: "SUCCEEDED" }]);
  });

  it("refuses a second start while one runs, before any step; the first finishes alone", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { store, machines } = await serve(4, { gate });
    const first = machines.startExecution(JOB.name, { name: "first" });
    // Wait until the first is inside its first step.
    for (let i = 0; i < 200 && endpointCalls() === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const second = await machines.startExecution(JOB.name, { name: "second" }).result;
    expect(second).toMatchObject({ status: "FAILED", error: ALREADY_RUNNING_ERROR, steps: 0 });
    open();
    expect(await first.result).toMatchObject({ status: "SUCCEEDED" });
    expect([...store.keys()]).toEqual(["first/0", "first/1", "first/2", "first/3"]);
    // Once the first has ended, a new start runs.
    expect(await machines.startExecution(JOB.name, { name: "third" }).result).toMatchObject({
      status: "SUCCEEDED",
    });
  });

  it("runs an interrupted step again with the same input: nothing lost, nothing doubled", async () => {
    const { store, machines } = await serve(7, { crashAt: ["crashy/4"] });
    const outcome = await machines.startExecution(JOB.name, { name: "crashy" }).result;
    expect(outcome).toMatchObject({ status: "SUCCEEDED" });
    // Steps: [0,1,2], [3, crash at 4], [3,4,5] again with the same input, [6]. The rerun writes the same keys.
    expect(outcome.steps).toBe(4);
    expect([...store.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `crashy/${i}`));
  });

  it("fails on the job's own error without retrying, and resumes from the last state in a new execution", async () => {
    const { store, machines } = await serve(5);
    const failed = await machines.startExecution(JOB.name, { name: "bad", input: { dryRun: "yes" } }).result;
    expect(failed).toMatchObject({ status: "FAILED", error: "ValidationError", steps: 1 });
    expect(failed.cause).toContain("event.input.dryRun");
    const resumed = await machines.startExecution(JOB.name, {
      name: "resumed",
      input: { resumeFrom: { run: "bad", next: 3, total: 5, dryRun: false } },
    }).result;
    expect(resumed).toMatchObject({ status: "SUCCEEDED", output: { state: { run: "bad", next: 5 } } });
    expect([...store.keys()]).toEqual(["bad/3", "bad/4"]);
  });

  it("names executions as Step Functions does: a name is used once, and must follow its rules", async () => {
    const { machines } = await serve(1);
    await machines.startExecution(JOB.name, { name: "once" }).result;
    expect(() => machines.startExecution(JOB.name, { name: "once" })).toThrow(
      expect.objectContaining({ name: "ExecutionAlreadyExists" }),
    );
    expect(() => machines.startExecution(JOB.name, { name: "2026-01-01T00:00:00Z" })).toThrow(
      expect.objectContaining({ name: "InvalidName" }),
    );
    expect(() => machines.startExecution("nope")).toThrow(
      expect.objectContaining({ name: "StateMachineDoesNotExist" }),
    );
  });

  it("continues as a new execution from its state when one has taken its share of steps: nothing lost, nothing doubled", async () => {
    // Three items per step, two steps per execution: 14 items take two executions and part of a third.
    const { store, machines } = await serve(14, { maxStepsPerExecution: 2 });
    const first = await machines.startExecution(JOB.name, { name: "long-run" }).result;
    expect(first).toMatchObject({ status: "SUCCEEDED", steps: 2 });
    const next = (first.output as { continuedAs: string }).continuedAs;
    expect(next).toMatch(/:execution:counting:[0-9a-f]{32}$/);
    const second = await machines.execution(JOB.name, next.split(":").pop()!).result;
    expect(second).toMatchObject({
      status: "SUCCEEDED",
      input: { resumeFrom: { run: "long-run", next: 6 }, continues: "long-run" },
    });
    const third = await machines.execution(
      JOB.name,
      (second.output as { continuedAs: string }).continuedAs.split(":").pop()!,
    ).result;
    expect(third).toMatchObject({ status: "SUCCEEDED", output: { done: true, state: { next: 14 } } });
    expect([...store.keys()]).toEqual(Array.from({ length: 14 }, (_, i) => `long-run/${i}`));
    expect([...store.values()]).toEqual(Array(14).fill(1));
    // The continuation waited for its predecessor, then ran alone; a start during the run is still refused.
    expect(machines.listExecutions(JOB.name).map((e) => e.status)).toEqual([
      "SUCCEEDED",
      "SUCCEEDED",
      "SUCCEEDED",
    ]);
  });

  it("refuses a start that claims to continue an execution which is not running", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { machines } = await serve(4, { gate });
    const running = machines.startExecution(JOB.name, { name: "nightly" });
    for (let i = 0; i < 200 && endpointCalls() === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const forged = await machines.startExecution(JOB.name, {
      name: "forged",
      input: { resumeFrom: { run: "x", next: 0, total: 4, dryRun: false }, continues: "someone-else" },
    }).result;
    expect(forged).toMatchObject({ status: "FAILED", error: ALREADY_RUNNING_ERROR, steps: 0 });
    open();
    expect(await running.result).toMatchObject({ status: "SUCCEEDED" });
  });
});

function endpointCalls(): number {
  return endpoint?.received.length ?? 0;
}
