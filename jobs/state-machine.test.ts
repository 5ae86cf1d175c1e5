import { describe, expect, it } from "vitest";
import { JOBS, type JobEntry } from "./catalogue.js";
import {
  ALREADY_RUNNING_ERROR,
  isSteppedJob,
  LAMBDA_INVOKE_RESOURCE,
  LAMBDA_TRANSIENT_ERRORS,
  LIST_EXECUTIONS_RESOURCE,
  HISTORY_EVENT_LIMIT,
  MAX_STEPS_PER_EXECUTION,
  START_EXECUTION_RESOURCE,
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
    expect(States[STATE_NAMES.alone]).toMatchObject({
      Type: "Choice",
      Choices: [
        { Variable: "$.guard.running", NumericLessThanEquals: 1, Next: STATE_NAMES.begin },
        expect.objectContaining({ Next: STATE_NAMES.predecessor }),
      ],
      Default: STATE_NAMES.refused,
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

  it("loops on the step until it says done, through a Wait when it asks for one, counting the steps", () => {
    const { States } = stateMachineDefinition(EXAMPLE, ARN("x"));
    expect(States[STATE_NAMES.done]).toEqual({
      Type: "Choice",
      Choices: [
        { Variable: "$.done", BooleanEquals: true, Next: STATE_NAMES.finished },
        {
          Variable: "$.steps",
          NumericGreaterThanEquals: MAX_STEPS_PER_EXECUTION,
          Next: STATE_NAMES.handover,
        },
        { Variable: "$.waitSeconds", NumericGreaterThan: 0, Next: STATE_NAMES.pause },
      ],
      Default: STATE_NAMES.step,
    });
    expect(States[STATE_NAMES.pause]).toMatchObject({ Type: "Wait", Next: STATE_NAMES.step });
    expect(States[STATE_NAMES.finished]).toEqual({ Type: "Succeed" });
  });

  it("starts a fresh execution from the state before its history could reach Step Functions' 25,000 events", () => {
    const { States } = stateMachineDefinition(EXAMPLE, ARN("x"));
    expect(States[STATE_NAMES.handover]).toMatchObject({
      Type: "Pass",
      Parameters: { "resumeFrom.$": "$.state", "continues.$": "$$.Execution.Name" },
      Next: STATE_NAMES.continueAsNew,
    });
    expect(States[STATE_NAMES.continueAsNew]).toMatchObject({
      Type: "Task",
      Resource: START_EXECUTION_RESOURCE,
      Parameters: { "StateMachineArn.$": "$$.StateMachine.Id", "Input.$": "States.JsonToString($)" },
      Catch: [{ ErrorEquals: ["Sfn.ExecutionAlreadyExistsException"], Next: STATE_NAMES.continued }],
    });
    // Named after its predecessor: a retried start finds the continuation there, never starts a second.
    expect(
      String((States[STATE_NAMES.continueAsNew]!.Parameters as Record<string, string>)["Name.$"]),
    ).toContain("$$.Execution.Name");
  });

  it("keeps the worst case of an execution's history under the limit: every retry taken at every step", () => {
    const { States } = stateMachineDefinition(EXAMPLE, ARN("x"));
    const retries = (state: string) =>
      ((States[state]!.Retry as { MaxAttempts: number }[] | undefined) ?? []).reduce(
        (n, r) => n + r.MaxAttempts,
        0,
      );
    // Events, as Step Functions records them: a Task 5 (Entered, Scheduled, Started, Succeeded, Exited), and
    // 3 per retry (Failed, Scheduled, Started); a Pass, Choice or Wait 2 (Entered, Exited).
    const perStep = 5 + 3 * retries(STATE_NAMES.step) + 2 /* Count */ + 2 /* Done? */ + 2; /* Pause */
    // The guard, waiting up to a minute for a predecessor (13 events a round), and the ends.
    const guardRound = 5 + 3 * retries(STATE_NAMES.guard) + 2 + 2 + 2 + 2;
    const ends =
      1 /* ExecutionStarted */ + 2 /* Begin */ + 2 + 5 + 3 * retries(STATE_NAMES.continueAsNew) + 2 + 1;
    const worst = MAX_STEPS_PER_EXECUTION * perStep + 60 * guardRound + ends;
    expect(worst).toBeLessThan(HISTORY_EVENT_LIMIT);
    expect(HISTORY_EVENT_LIMIT).toBe(25_000);
    // A 40M-user snapshot takes about 60 steps (README, "Workflows"): far fewer than one execution allows.
    expect(MAX_STEPS_PER_EXECUTION).toBeGreaterThan(60);
  });
});
