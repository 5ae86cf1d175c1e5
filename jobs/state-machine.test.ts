import { describe, expect, it } from "vitest";
import { JOBS, type JobEntry } from "./catalogue.js";
import {
  ALREADY_RUNNING_ERROR,
  isSteppedJob,
  LAMBDA_INVOKE_RESOURCE,
  LAMBDA_TRANSIENT_ERRORS,
  LIST_EXECUTIONS_RESOURCE,
  STATE_NAMES,
  stateMachineDefinition,
  type SteppedJob,
} from "./state-machine.js";
import { aslErrors } from "./testing/asl.js";

const ARN = (name: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${name}`;

/** A job made up for the test, so the generator is checked whatever the catalogue flags today. */
const EXAMPLE: SteppedJob = {
  name: "example-job",
  description: "Scheduled: an example",
  start: "scheduled",
  timeoutSeconds: 900,
  memoryMb: 256,
  stateMachine: true,
};

const stepped = [EXAMPLE, ...(JOBS as readonly JobEntry[]).filter(isSteppedJob)];

describe("the state machine of a stepped job", () => {
  it.each(stepped.map((job) => [job.name, job] as const))(
    "%s: asl-validator finds its definition valid (paths and ARNs checked)",
    (_, job) => {
      expect(aslErrors(stateMachineDefinition(job, ARN(job.name)))).toEqual([]);
    },
  );

  it("is checked by a validator that does refuse a broken definition", () => {
    const broken = structuredClone(stateMachineDefinition(EXAMPLE, ARN("x"))) as {
      States: Record<string, Record<string, unknown>>;
    };
    broken.States[STATE_NAMES.done]!.Default = "Nowhere";
    expect(aslErrors(broken).length).toBeGreaterThan(0);
    const badPath = structuredClone(stateMachineDefinition(EXAMPLE, ARN("x"))) as typeof broken;
    badPath.States[STATE_NAMES.pause]!.SecondsPath = "waitSeconds";
    expect(aslErrors(badPath).length).toBeGreaterThan(0);
  });

  it("starts with the overlap guard: its own running executions, and a named failure when another runs", () => {
    const { StartAt, States } = stateMachineDefinition(EXAMPLE, ARN("x"));
    expect(StartAt).toBe(STATE_NAMES.guard);
    expect(States[STATE_NAMES.guard]).toMatchObject({
      Type: "Task",
      Resource: LIST_EXECUTIONS_RESOURCE,
      Parameters: { "StateMachineArn.$": "$$.StateMachine.Id", StatusFilter: "RUNNING" },
      Next: STATE_NAMES.alone,
    });
    expect(States[STATE_NAMES.alone]).toEqual({
      Type: "Choice",
      Choices: [{ Variable: "$.running", NumericGreaterThan: 1, Next: STATE_NAMES.refused }],
      Default: STATE_NAMES.begin,
    });
    expect(States[STATE_NAMES.refused]).toMatchObject({ Type: "Fail", Error: ALREADY_RUNNING_ERROR });
    // Nothing reaches a step except through the guard.
    const targets = Object.entries(States).flatMap(([name, state]) =>
      [
        state.Next,
        state.Default,
        ...((state.Choices as { Next: string }[] | undefined) ?? []).map((c) => c.Next),
      ]
        .filter((next) => next === STATE_NAMES.begin)
        .map(() => name),
    );
    expect(targets).toEqual([STATE_NAMES.alone]);
  });

  it("invokes exactly the job's function with the execution's name, input and state, and keeps its answer", () => {
    const step = stateMachineDefinition(EXAMPLE, ARN("example-job")).States[STATE_NAMES.step]!;
    expect(step).toMatchObject({
      Type: "Task",
      Resource: LAMBDA_INVOKE_RESOURCE,
      Parameters: {
        FunctionName: ARN("example-job"),
        Payload: {
          "execution.$": "$$.Execution.Name",
          "input.$": "$$.Execution.Input",
          "state.$": "$.state",
        },
      },
      ResultSelector: {
        "state.$": "$.Payload.state",
        "done.$": "$.Payload.done",
        "waitSeconds.$": "$.Payload.waitSeconds",
      },
    });
    // A lost invocation cannot hold the execution forever, nor cut a step Lambda would let finish.
    expect(step.TimeoutSeconds).toBeGreaterThan(EXAMPLE.timeoutSeconds);
  });

  it("retries Lambda's transient errors and interrupted steps, never the job's own errors", () => {
    const retry = stateMachineDefinition(EXAMPLE, ARN("x")).States[STATE_NAMES.step]!.Retry as {
      ErrorEquals: string[];
      MaxAttempts: number;
    }[];
    const retried = retry.flatMap((r) => r.ErrorEquals);
    for (const error of LAMBDA_TRANSIENT_ERRORS) expect(retried).toContain(error);
    expect(retried).toEqual(expect.arrayContaining(["Sandbox.Timedout", "Lambda.Unknown", "States.Timeout"]));
    expect(retried).not.toContain("States.ALL");
    expect(retried).not.toContain("States.TaskFailed");
    expect(retry.every((r) => r.MaxAttempts > 0 && r.MaxAttempts <= 6)).toBe(true);
  });

  it("loops on the step until it says done, through a Wait when it asks for one", () => {
    const { States } = stateMachineDefinition(EXAMPLE, ARN("x"));
    expect(States[STATE_NAMES.done]).toEqual({
      Type: "Choice",
      Choices: [
        { Variable: "$.done", BooleanEquals: true, Next: STATE_NAMES.finished },
        { Variable: "$.waitSeconds", NumericGreaterThan: 0, Next: STATE_NAMES.pause },
      ],
      Default: STATE_NAMES.step,
    });
    expect(States[STATE_NAMES.pause]).toMatchObject({ Type: "Wait", Next: STATE_NAMES.step });
    expect(States[STATE_NAMES.finished]).toEqual({ Type: "Succeed" });
  });
});
