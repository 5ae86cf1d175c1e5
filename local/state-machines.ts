/**
 * The state machines of the stepped jobs, run locally: the very definitions the Pulumi program deploys
 * (jobs/state-machine.ts), executed by aws-local-stepfunctions (an interpreter of the Amazon States Language;
 * it needs Node 22, which every npm script runs on). Two Tasks are overridden, as a local stand-in for the
 * AWS side of each:
 *
 * - `Step` (`lambda:invoke`) invokes the job's function on the local Lambda endpoint with the Task's
 *   `Payload`, answers `{Payload, StatusCode}` as the optimised Lambda integration does, and fails with the
 *   function's `errorType` as the error name (what Step Functions reports for a function error);
 * - `NoOverlap` (`aws-sdk:sfn:listExecutions`) answers from this module's registry of executions, so a second
 *   start while one runs is refused exactly as in AWS.
 *
 * Execution names follow Step Functions' rules and are unique per machine (`ExecutionAlreadyExists`).
 */
import { randomUUID } from "node:crypto";
import { StateMachine } from "aws-local-stepfunctions";
import { jobEntry, JOBS, type JobEntry, type JobName } from "../jobs/catalogue.js";
import { isSteppedJob, STATE_NAMES, stateMachineDefinition, type SteppedJob } from "../jobs/state-machine.js";
import { invokeLocal } from "./lambda-endpoint.js";

/** A JSON value, as the interpreter types a Task's result. */
type JsonValue = Parameters<StateMachine["run"]>[0];

export const LOCAL_ACCOUNT = "000000000000";

/** The ARN a local machine is known by (`$$.StateMachine.Id`). */
export function localStateMachineArn(region: string, job: string): string {
  return `arn:aws:states:${region}:${LOCAL_ACCOUNT}:stateMachine:${job}`;
}

/** The ARN the local definition names the job's function by (the endpoint takes ARNs as names). */
export function localFunctionArn(region: string, job: string): string {
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${job}`;
}

/** Step Functions' execution name rule (see runtime/stepped.ts): checked again here, at the start. */
const EXECUTION_NAME = /^[A-Za-z0-9_.-]{1,80}$/;

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";

export interface ExecutionOutcome {
  readonly name: string;
  /** The execution's input (the job's start options, or `{resumeFrom}`). */
  readonly input: unknown;
  readonly status: Exclude<ExecutionStatus, "RUNNING">;
  /** The execution's output (the last step's `{state, done, waitSeconds}`) when it succeeded. */
  readonly output?: unknown;
  /** The error name of a failed execution (`Job.AlreadyRunning`, a function's `errorType`, …). */
  readonly error?: string;
  readonly cause?: string;
  /** How many steps were invoked (retries included). */
  readonly steps: number;
  /**
   * The state the last step was invoked with (null for the first): where a failed execution stopped, what
   * `{"resumeFrom": …}` carries on from. In AWS: the `state` of the last Step's TaskScheduled event.
   */
  readonly lastState: unknown;
}

/** An execution as DescribeExecution tells it, with where it stands. */
export interface ExecutionDescription {
  readonly name: string;
  readonly arn: string;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly steps: number;
  readonly lastState: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

export interface LocalExecution {
  readonly name: string;
  readonly arn: string;
  /** Settles when the execution ends; never rejects (a failure is an outcome). */
  readonly result: Promise<ExecutionOutcome>;
  /** Stops the execution (StopExecution): it ends ABORTED. */
  abort(): void;
}

export interface StartExecutionOptions {
  /** Default: a random UUID, as Step Functions names an execution started without one. */
  readonly name?: string;
  /** The execution's input: the job's start options, or `{resumeFrom: <state>}`. Default `{}`. */
  readonly input?: unknown;
}

export interface LocalStateMachinesOptions {
  readonly region: string;
  /** The local Lambda endpoint's URL. */
  readonly lambdaUrl: string;
  /** Which jobs have a machine: default every stepped job of the catalogue. */
  readonly jobs?: readonly SteppedJob[];
  /** Pause between retries of a failed Task, in ms (default: the definition's own intervals). */
  readonly retryIntervalMs?: number;
  /** Length of a Wait the job asks for, or of a continuation's wait for its predecessor, in ms (default: the definition's). */
  readonly waitMs?: number;
  /** Steps per execution before it continues as a new one (default: the deployed definition's). */
  readonly maxStepsPerExecution?: number;
  /** One line per execution start and end. */
  readonly log?: (line: string) => void;
}

export interface LocalStateMachines {
  /** The jobs that run as state machines here. */
  readonly jobs: readonly string[];
  /** The definition a job's machine runs (the deployed one, with the local function ARN). */
  definition(job: string): ReturnType<typeof stateMachineDefinition>;
  /**
   * Starts an execution of `job`'s machine, as StartExecution does.
   * @throws Error `StateMachineDoesNotExist`, `InvalidName`, `ExecutionAlreadyExists`.
   */
  startExecution(job: string, options?: StartExecutionOptions): LocalExecution;
  /** The executions of `job`'s machine with this status (ListExecutions). */
  listExecutions(job: string, status?: ExecutionStatus): { name: string; status: ExecutionStatus }[];
  /**
   * One execution and where it stands (DescribeExecution, with the last step's state from its history).
   * @throws Error `ExecutionDoesNotExist`.
   */
  describeExecution(job: string, name: string): ExecutionDescription;
  /** An execution started on `job`'s machine (by a caller, or by an execution continuing as new). */
  execution(job: string, name: string): LocalExecution;
  /** Aborts every running execution and waits for them to end. */
  stopAll(): Promise<void>;
}

class StepFunctionsError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Entry {
  status: ExecutionStatus;
  readonly execution: LocalExecution;
  readonly input: unknown;
  steps: number;
  lastState: unknown;
  outcome?: ExecutionOutcome;
}

export function localStateMachines(options: LocalStateMachinesOptions): LocalStateMachines {
  const jobs =
    options.jobs ??
    (JOBS as readonly JobEntry<JobName>[]).filter(isSteppedJob).map((job) => jobEntry(job.name));
  const byName = new Map<
    string,
    { job: SteppedJob; machine: StateMachine; definition: ReturnType<typeof stateMachineDefinition> }
  >();
  for (const job of jobs) {
    if (!isSteppedJob(job)) throw new Error(`${job.name} declares no state machine`);
    const definition = stateMachineDefinition(
      job,
      localFunctionArn(options.region, job.name),
      options.maxStepsPerExecution === undefined
        ? {}
        : { maxStepsPerExecution: options.maxStepsPerExecution },
    );
    // Validated by the interpreter as well (paths and ARNs), as Step Functions validates at creation.
    byName.set(job.name, {
      job,
      definition,
      machine: new StateMachine(definition as unknown as ConstructorParameters<typeof StateMachine>[0]),
    });
  }
  const registry = new Map<string, Map<string, Entry>>([...byName.keys()].map((name) => [name, new Map()]));
  const log = options.log ?? (() => undefined);

  /** The job whose local machine has this ARN, as the AWS SDK integration finds it (else its error). */
  const machineOfArn = (stateMachineArn: string): string => {
    const machine = [...byName.keys()].find(
      (job) => localStateMachineArn(options.region, job) === stateMachineArn,
    );
    if (!machine) throw new StepFunctionsError("Sfn.StateMachineDoesNotExistException", stateMachineArn);
    return machine;
  };

  const startExecution = (jobName: string, start: StartExecutionOptions = {}): LocalExecution => {
    const found = byName.get(jobName);
    const executions = registry.get(jobName);
    if (!found || !executions)
      throw new StepFunctionsError("StateMachineDoesNotExist", `No state machine for ${jobName}`);
    const name = start.name ?? randomUUID();
    if (!EXECUTION_NAME.test(name))
      throw new StepFunctionsError("InvalidName", `Invalid execution name: ${name}`);
    if (executions.has(name)) {
      throw new StepFunctionsError("ExecutionAlreadyExists", `Execution already exists: ${name}`);
    }
    const machineArn = localStateMachineArn(options.region, jobName);
    const arn = `arn:aws:states:${options.region}:${LOCAL_ACCOUNT}:execution:${jobName}:${name}`;
    const input = (start.input ?? {}) as Parameters<StateMachine["run"]>[0];
    // Registered RUNNING before the first state runs, as StartExecution does: the guard must see it.
    const entry: Entry = {
      status: "RUNNING",
      execution: undefined as unknown as LocalExecution,
      input,
      steps: 0,
      lastState: null,
    };
    executions.set(name, entry);
    const ended = () => ({ name, input, steps: entry.steps, lastState: entry.lastState });
    const run = found.machine.run(input, {
      context: {
        Execution: { Id: arn, Name: name, Input: input, StartTime: new Date().toISOString() },
        StateMachine: { Id: machineArn, Name: jobName },
      },
      overrides: {
        taskResourceLocalHandlers: {
          [STATE_NAMES.guard]: async (parameters: unknown) => {
            const { StateMachineArn, StatusFilter } = parameters as {
              StateMachineArn: string;
              StatusFilter: ExecutionStatus;
            };
            const machine = machineOfArn(StateMachineArn);
            return {
              Executions: listExecutions(machine, StatusFilter).map((e) => ({
                Name: e.name,
                Status: e.status,
              })),
            };
          },
          [STATE_NAMES.continueAsNew]: async (parameters: unknown) => {
            const { StateMachineArn, Name, Input } = parameters as {
              StateMachineArn: string;
              Name: string;
              Input: string;
            };
            const machine = machineOfArn(StateMachineArn);
            try {
              const next = startExecution(machine, { name: Name, input: JSON.parse(Input) as unknown });
              return { ExecutionArn: next.arn, StartDate: new Date().toISOString() };
            } catch (error) {
              // As the AWS SDK integration names a service's errors: `Sfn.<Name>Exception`.
              if (error instanceof StepFunctionsError && error.name === "ExecutionAlreadyExists") {
                throw new StepFunctionsError("Sfn.ExecutionAlreadyExistsException", error.message);
              }
              throw error;
            }
          },
          [STATE_NAMES.step]: async (parameters: unknown) => {
            const { FunctionName, Payload } = parameters as {
              FunctionName: string;
              Payload: { state?: unknown };
            };
            entry.steps += 1;
            entry.lastState = Payload.state ?? null;
            const answer = await invokeLocal(options.lambdaUrl, FunctionName, Payload);
            if (!answer.ok) {
              throw new StepFunctionsError(
                answer.errorType,
                JSON.stringify({ errorType: answer.errorType, errorMessage: answer.errorMessage }),
              );
            }
            return { Payload: answer.result as JsonValue, StatusCode: 200, ExecutedVersion: "$LATEST" };
          },
        },
        ...(options.retryIntervalMs === undefined
          ? {}
          : {
              retryIntervalOverrides: {
                [STATE_NAMES.guard]: options.retryIntervalMs,
                [STATE_NAMES.step]: options.retryIntervalMs,
              },
            }),
        ...(options.waitMs === undefined
          ? {}
          : {
              waitTimeOverrides: {
                [STATE_NAMES.pause]: options.waitMs,
                [STATE_NAMES.awaitPredecessor]: options.waitMs,
              },
            }),
      },
    });
    log(`⚙ ${jobName}: execution ${name} started`);
    const result = run.result
      .then(
        (output): ExecutionOutcome => ({ ...ended(), status: "SUCCEEDED", output }),
        (error: unknown): ExecutionOutcome => {
          if (error instanceof Error && error.name === "ExecutionAbortedError")
            return { ...ended(), status: "ABORTED" };
          const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
          return {
            ...ended(),
            status: "FAILED",
            error: cause instanceof Error ? cause.name : "States.Runtime",
            cause: cause instanceof Error ? cause.message : String(cause),
          };
        },
      )
      .then((outcome) => {
        entry.status = outcome.status;
        entry.outcome = outcome;
        log(
          `⚙ ${jobName}: execution ${name} ${outcome.status}${outcome.error ? ` (${outcome.error}: ${outcome.cause})` : ""} after ${outcome.steps} step(s)`,
        );
        return outcome;
      });
    const execution: LocalExecution = { name, arn, result, abort: () => run.abort() };
    Object.assign(entry, { execution });
    return execution;
  };

  const listExecutions = (jobName: string, status?: ExecutionStatus) =>
    [...(registry.get(jobName) ?? new Map<string, Entry>()).entries()]
      .filter(([, entry]) => status === undefined || entry.status === status)
      .map(([name, entry]) => ({ name, status: entry.status }));

  const describeExecution = (jobName: string, name: string): ExecutionDescription => {
    const entry = registry.get(jobName)?.get(name);
    if (!entry) throw new StepFunctionsError("ExecutionDoesNotExist", `Execution does not exist: ${name}`);
    const { outcome } = entry;
    return {
      name,
      arn: entry.execution.arn,
      status: entry.status,
      input: entry.input,
      steps: entry.steps,
      lastState: entry.lastState,
      ...(outcome?.output === undefined ? {} : { output: outcome.output }),
      ...(outcome?.error === undefined ? {} : { error: outcome.error, cause: outcome.cause }),
    };
  };

  return {
    jobs: [...byName.keys()],
    describeExecution,
    execution: (job, name) => {
      const entry = registry.get(job)?.get(name);
      if (!entry) throw new StepFunctionsError("ExecutionDoesNotExist", `Execution does not exist: ${name}`);
      return entry.execution;
    },
    definition: (job) => {
      const found = byName.get(job);
      if (!found) throw new StepFunctionsError("StateMachineDoesNotExist", `No state machine for ${job}`);
      return found.definition;
    },
    startExecution,
    listExecutions,
    stopAll: async () => {
      const running = [...registry.values()].flatMap((executions) =>
        [...executions.values()].filter((entry) => entry.status === "RUNNING"),
      );
      for (const entry of running) entry.execution.abort();
      await Promise.all(running.map((entry) => entry.execution.result));
    },
  };
}
