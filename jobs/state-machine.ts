/**
 * The Step Functions state machine of a stepped job, generated from its catalogue entry: what the Pulumi
 * program deploys (infra/components/state-machines.ts) and what the local stack runs
 * (local/state-machines.ts), one definition for both.
 *
 * Shape (Amazon States Language, JSONPath):
 *
 *     NoOverlap ─▶ Alone? ──(another execution runs)──────────────▶ AlreadyRunning (Fail: Job.AlreadyRunning)
 *       ▲            │  └──(the one it continues still runs)─▶ Predecessor? ─▶ Awaiting? ─▶ AwaitPredecessor ─┐
 *       └────────────┼────────────────────────────────────────────────────────────────────────────────────┘
 *                    ▼
 *                  Begin ─▶ Step ─▶ Count ─▶ Done? ──(done)──────────▶ Finished (Succeed)
 *                            ▲                 │ (MAX steps taken) ─▶ Handover ─▶ ContinueAsNew ─▶ Continued
 *                            │                 │ (waitSeconds > 0) ─▶ Pause ─┐
 *                            └─────────────────┴─────────────────────────────┘
 *
 * - **NoOverlap** lists the machine's own RUNNING executions (`aws-sdk:sfn:listExecutions` on
 *   `$$.StateMachine.Id`, so the definition needs no ARN of its own). The execution itself is one of them;
 *   a second one means another run of the job is under way, and this execution fails with
 *   `Job.AlreadyRunning` before any step: a second start is refused, never run alongside. Two executions
 *   started at the same instant may both see each other and both be refused: never both run. The one
 *   exception is an execution this machine started to continue a run (below): while the execution it
 *   continues (named in its input's `continues`) is still ending, it waits and looks again.
 * - **Begin** sets `state: null` and `steps: 0`: the first step reads the execution's input (the job's start
 *   options, or `{"resumeFrom": <state>}` to carry on a failed run) and makes the initial state.
 * - **Step** invokes the job's function with `{execution, input, state}` (see runtime/stepped.ts) and
 *   **Count** keeps `{state, done, waitSeconds, report}` from its answer (`report`: the run's, once done; the
 *   execution's output), counting the steps. Lambda's transient errors are retried with backoff; a step
 *   that timed out or crashed (`Sandbox.Timedout`, `Lambda.Unknown`, or the Task's own `States.Timeout`)
 *   is run again, twice at most, with the same input, which the step contract makes safe (effects are
 *   idempotent and written before the state that records them). Any other error (the job's own, typed)
 *   fails the execution, which alarms.
 * - **Continue as new.** An execution's history holds at most 25,000 events, a hard quota ("Avoid reaching
 *   the history quota", Step Functions developer guide: past it the execution fails). After
 *   {@link MAX_STEPS_PER_EXECUTION} steps, **Handover** and **ContinueAsNew** start a fresh execution of the
 *   same machine with `{"resumeFrom": <state>, "continues": <this execution's name>}`, named after this one
 *   (an MD5 of its name: a retried start finds it there, `ExecutionAlreadyExists`, and never starts a
 *   second), and this one ends `Continued`, its output naming the new one (`continuedAs`).
 */
import type { JobEntry } from "./catalogue.js";

/** The error a refused second start fails with (the Fail state's `Error`). */
export const ALREADY_RUNNING_ERROR = "Job.AlreadyRunning";

/** The states of every generated machine, by role: the local runner overrides the two Tasks by these names. */
export const STATE_NAMES = {
  guard: "NoOverlap",
  alone: "Alone?",
  predecessor: "Predecessor?",
  awaiting: "Awaiting?",
  awaitPredecessor: "AwaitPredecessor",
  refused: "AlreadyRunning",
  begin: "Begin",
  step: "Step",
  count: "Count",
  done: "Done?",
  pause: "Pause",
  finished: "Finished",
  handover: "Handover",
  continueAsNew: "ContinueAsNew",
  continued: "Continued",
} as const;

/** Step Functions' hard quota on an execution's history ("Avoid reaching the history quota"). */
export const HISTORY_EVENT_LIMIT = 25_000;

/**
 * Steps one execution takes before it continues as a new one. A step costs 9 events (the Task's 5, Count's
 * and Done?'s 2 each), 35 when it takes every retry and a Pause: 600 of those, the guard and the ends stay
 * under {@link HISTORY_EVENT_LIMIT} (jobs/state-machine.test.ts counts it from the definition). A 10M-user
 * snapshot takes about 16 steps, a 40M one about 60 (README, "Workflows"): a continuation only happens to a
 * run far longer than any measured.
 */
export const MAX_STEPS_PER_EXECUTION = 600;

/** The Task resource of the guard: an AWS SDK integration call of Step Functions' own ListExecutions. */
export const LIST_EXECUTIONS_RESOURCE = "arn:aws:states:::aws-sdk:sfn:listExecutions";
/** The Task resource of a continuation: an AWS SDK integration call of Step Functions' StartExecution. */
export const START_EXECUTION_RESOURCE = "arn:aws:states:::aws-sdk:sfn:startExecution";
/** The Task resource of a step: the optimised Lambda integration (the answer is under `Payload`). */
export const LAMBDA_INVOKE_RESOURCE = "arn:aws:states:::lambda:invoke";

/**
 * Lambda's transient service errors, as Step Functions names them ("Handle Lambda service exceptions",
 * Step Functions developer guide), and throttling (`Lambda.TooManyRequestsException`: a scheduled job's
 * function has a reserved concurrency of 1). Retried with backoff: the step never ran, or runs again safely.
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
] as const;

/**
 * A step that never answered: the function timed out (`Sandbox.Timedout`) or died (out of memory, a crash:
 * `Lambda.Unknown`), or the Task's own time limit passed (`States.Timeout`). The step may have done part of
 * its work; by the step contract, running it again with the same input loses and doubles nothing.
 */
export const STEP_INTERRUPTED_ERRORS = ["Sandbox.Timedout", "Lambda.Unknown", "States.Timeout"] as const;

/** How many times an interrupted step is run again before the execution fails (and alarms). */
export const INTERRUPTED_STEP_RETRIES = 2;

/** A Task's time limit beyond the function's own: Lambda answers a timeout itself, well within this. */
const TASK_TIMEOUT_GRACE_SECONDS = 60;

/** The ASL JSON of a state machine (only what this generator writes). */
export interface StateMachineDefinition {
  readonly Comment: string;
  readonly StartAt: string;
  readonly States: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A job that runs as a state machine. */
export type SteppedJob = JobEntry & { readonly stateMachine: true };

/** Whether the catalogue entry declares a state machine. */
export function isSteppedJob(job: JobEntry): job is SteppedJob {
  return job.stateMachine === true;
}

export interface DefinitionOptions {
  /** Steps per execution before it continues as a new one (tests). Default {@link MAX_STEPS_PER_EXECUTION}. */
  readonly maxStepsPerExecution?: number;
}

/**
 * The definition of `job`'s state machine, its steps run by the function `functionArn` (the unqualified ARN
 * in AWS; any ARN of that function locally).
 */
export function stateMachineDefinition(
  job: SteppedJob,
  functionArn: string,
  options: DefinitionOptions = {},
): StateMachineDefinition {
  const s = STATE_NAMES;
  const maxSteps = options.maxStepsPerExecution ?? MAX_STEPS_PER_EXECUTION;
  return {
    Comment: `${job.name}: runs the job in durable steps, one run at a time (generated from jobs/catalogue.ts)`,
    StartAt: s.guard,
    States: {
      [s.guard]: {
        Type: "Task",
        Comment: "This machine's running executions: this one, and any other run of the job",
        Resource: LIST_EXECUTIONS_RESOURCE,
        Parameters: { "StateMachineArn.$": "$$.StateMachine.Id", StatusFilter: "RUNNING", MaxResults: 3 },
        ResultSelector: {
          "running.$": "States.ArrayLength($.Executions)",
          "names.$": "$.Executions[*].Name",
        },
        ResultPath: "$.guard",
        Retry: [{ ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
        Next: s.alone,
      },
      [s.alone]: {
        Type: "Choice",
        Choices: [
          { Variable: "$.guard.running", NumericLessThanEquals: 1, Next: s.begin },
          {
            And: [
              { Variable: "$.continues", IsPresent: true },
              { Variable: "$.continues", IsString: true },
              { Variable: "$.guard.running", NumericEquals: 2 },
            ],
            Next: s.predecessor,
          },
        ],
        Default: s.refused,
      },
      [s.predecessor]: {
        Type: "Pass",
        Comment: "Whether the other running execution is the one this continues",
        Parameters: { "running.$": "States.ArrayContains($.guard.names, $.continues)" },
        ResultPath: "$.predecessor",
        Next: s.awaiting,
      },
      [s.awaiting]: {
        Type: "Choice",
        Choices: [{ Variable: "$.predecessor.running", BooleanEquals: true, Next: s.awaitPredecessor }],
        Default: s.refused,
      },
      [s.awaitPredecessor]: {
        Type: "Wait",
        Comment: "The execution this continues is ending (it started this one as its last act)",
        Seconds: 1,
        Next: s.guard,
      },
      [s.refused]: {
        Type: "Fail",
        Error: ALREADY_RUNNING_ERROR,
        Cause: `Another execution of ${job.name} is running: this start is refused, not run alongside it`,
      },
      [s.begin]: {
        Type: "Pass",
        Comment: "The first step makes the initial state from the execution's input",
        Result: { state: null, steps: 0 },
        Next: s.step,
      },
      [s.step]: {
        Type: "Task",
        Resource: LAMBDA_INVOKE_RESOURCE,
        Parameters: {
          FunctionName: functionArn,
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
          "report.$": "$.Payload.report",
        },
        ResultPath: "$.answer",
        TimeoutSeconds: job.timeoutSeconds + TASK_TIMEOUT_GRACE_SECONDS,
        Retry: [
          {
            ErrorEquals: [...LAMBDA_TRANSIENT_ERRORS],
            IntervalSeconds: 2,
            MaxAttempts: 6,
            BackoffRate: 2,
            JitterStrategy: "FULL",
          },
          {
            ErrorEquals: [...STEP_INTERRUPTED_ERRORS],
            IntervalSeconds: 10,
            MaxAttempts: INTERRUPTED_STEP_RETRIES,
            BackoffRate: 2,
          },
        ],
        Next: s.count,
      },
      [s.count]: {
        Type: "Pass",
        Comment: "The step's answer, and the steps this execution has taken",
        Parameters: {
          "state.$": "$.answer.state",
          "done.$": "$.answer.done",
          "waitSeconds.$": "$.answer.waitSeconds",
          "report.$": "$.answer.report",
          "steps.$": "States.MathAdd($.steps, 1)",
        },
        Next: s.done,
      },
      [s.done]: {
        Type: "Choice",
        Choices: [
          { Variable: "$.done", BooleanEquals: true, Next: s.finished },
          { Variable: "$.steps", NumericGreaterThanEquals: maxSteps, Next: s.handover },
          { Variable: "$.waitSeconds", NumericGreaterThan: 0, Next: s.pause },
        ],
        Default: s.step,
      },
      [s.handover]: {
        Type: "Pass",
        Comment: "The input of the execution that carries on: the state, and this execution's name",
        Parameters: { "resumeFrom.$": "$.state", "continues.$": "$$.Execution.Name" },
        Next: s.continueAsNew,
      },
      [s.continueAsNew]: {
        Type: "Task",
        Comment: "A fresh execution (a fresh history) carries on from the state",
        Resource: START_EXECUTION_RESOURCE,
        Parameters: {
          "StateMachineArn.$": "$$.StateMachine.Id",
          "Name.$": "States.Hash(States.Format('{}+next', $$.Execution.Name), 'MD5')",
          "Input.$": "States.JsonToString($)",
        },
        ResultSelector: { "continuedAs.$": "$.ExecutionArn" },
        Retry: [
          {
            ErrorEquals: ["Sfn.SfnException", "Sfn.ExecutionLimitExceededException"],
            IntervalSeconds: 2,
            MaxAttempts: 3,
            BackoffRate: 2,
          },
        ],
        // Started already (a retried start): the continuation is there.
        Catch: [
          { ErrorEquals: ["Sfn.ExecutionAlreadyExistsException"], ResultPath: null, Next: s.continued },
        ],
        Next: s.continued,
      },
      [s.continued]: { Type: "Succeed" },
      [s.pause]: {
        Type: "Wait",
        Comment: "The step asked to be called again later (e.g. an import job still running)",
        SecondsPath: "$.waitSeconds",
        Next: s.step,
      },
      [s.finished]: { Type: "Succeed" },
    },
  };
}
