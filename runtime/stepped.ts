/**
 * The step-invocation protocol: how a stepped job's Lambda function takes one step of a run that a Step
 * Functions state machine drives (jobs/state-machine.ts), and how the same function still runs a whole job
 * when invoked directly. One wrapper serves every stepped job: give it the job's {@link SteppedJob} (its
 * start options, its state parser, its `Step<S>`, its report) and it returns the Lambda handler.
 *
 * Two kinds of event:
 *
 * - **A step** (the state machine's Task): `{"execution": "<execution name>", "input": <the execution's
 *   input>, "state": <the state the previous step returned, or null for the first step>}`. Any other field
 *   is refused (`EVENT.INVALID`, naming it). The first step makes the initial state from `input` — the job's
 *   start options (`{}`, `{"dryRun": true}`, the very events EventBridge Scheduler sent the function before),
 *   or `{"resumeFrom": <state>}` to carry on from the last state of a failed execution (with `"continues": <name>`
 *   when the state machine itself started it to continue a run in a fresh history). Later steps read only
 *   `state`. It answers `{"state", "done", "waitSeconds", "report"}`: the state machine passes `state` to
 *   the next step until `done`, waiting `waitSeconds` first when the job asks for it (0 otherwise); `report`
 *   is the run's report once done (null before), the execution's output. The step's
 *   deadline is the invocation's end (`getRemainingTimeInMillis()`); the job stops starting new work
 *   `DEFAULT_STEP_MARGIN_MS` before it (core/steps/step.ts). The deadline also goes down to the adapters'
 *   calls (adapters/shared/call-deadline.ts): a call Cognito throttles until then ends the step as a yield
 *   (the state it was given, not done), never as a failure. When the last step is done, the report is
 *   logged and counted, and a report with failures fails the invocation, so the execution fails and alarms.
 * - **A whole run** (a direct invocation with the start options, `{}` or `{"dryRun": true}`): the steps
 *   run one after another inside this invocation, as the CLI runs them, until done or until the
 *   invocation's deadline; the report is returned as before. This keeps direct invocations working.
 *
 * The state is never logged (it may hold usernames): logs carry the execution name, step outcome and
 * codes.
 */
import * as z from "zod/mini";
import "../core/validation.js";
import { deadlineBoundStep } from "../adapters/shared/call-deadline.js";
import { errorCode, ValidationError } from "../core/errors.js";
import type { Clock } from "../core/ports/clock.js";
import { checkStepState, type Step, stepShouldYield } from "../core/steps/step.js";
import { parseEvent } from "./event.js";
import { type InvocationContext, invocationDeadline, runJob, RunFailedError } from "./invocation.js";
import type { Observability } from "./observability.js";

/**
 * Step Functions' rule for execution names: 1–80 characters, none of white space, `< > { } [ ] ? * " # % \
 * ^ | ~ \` $ & , ; : /` or control characters (StartExecution, `name`).
 */
// eslint-disable-next-line no-control-regex -- control characters are what the rule forbids
export const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

/** What a stepped job brings to the wrapper. */
export interface SteppedJob<S, O, R> {
  /** The job's name in metrics and logs (`PurgeUnconfirmedIdentities`). */
  readonly job: string;
  /** The start options, strictly (today's direct-invocation event, e.g. `{dryRun?}`). */
  readonly options: z.ZodMiniType<O>;
  /**
   * The initial state of a run. `run` names it: the execution's name in a state machine (the same on a
   * retried first step, so ids derived from it are deterministic), the request id of a direct invocation.
   */
  start(options: O, run: string): S;
  /**
   * A state handed back by the state machine or by an operator (`resumeFrom`), checked.
   * @throws ValidationError when it is not a state of this job.
   */
  parseState(value: unknown): S;
  /** One step (core/steps/step.ts), built with the function's dependencies. */
  readonly step: Step<S>;
  /** The report of a run from its state (final, or where a direct invocation stopped). */
  report(state: S): R;
  /** Whether the report holds failures: the invocation then fails, and the function's alarm fires. */
  failed(report: R): boolean;
  /** Seconds the state machine waits before the next step (e.g. an import job under way); default 0. */
  waitSeconds?(state: S): number;
  /** What of the report may be logged (default: all of it). */
  loggable?(report: R): unknown;
  /** Counts the metrics of a finished run. */
  publish?(report: R): void;
}

/** What a step answers the state machine. */
export interface StepAnswer<S> {
  readonly state: S;
  readonly done: boolean;
  readonly waitSeconds: number;
  /**
   * The run's report (what of it may be logged) once the last step is done, else null: the execution's
   * output, for whoever watches it (DescribeExecution, the console).
   */
  readonly report: unknown;
}

const stepEventSchema = z.strictObject({
  execution: z.string().check(z.regex(EXECUTION_NAME, "is not a Step Functions execution name")),
  input: z.optional(z.unknown()),
  state: z.unknown(),
});

/**
 * `{"resumeFrom": <state>}`, and `continues`: the execution this one carries on, when the state machine
 * started it to continue a run in a fresh history (jobs/state-machine.ts); only its guard reads it.
 */
const resumeSchema = z.strictObject({
  resumeFrom: z.unknown(),
  continues: z.optional(z.string().check(z.regex(EXECUTION_NAME, "is not a Step Functions execution name"))),
});

export interface SteppedHandlerDeps {
  readonly clock: Clock;
  readonly observability: Observability;
}

/** Without a Lambda context (the CLI, tests): how long a direct run, or one step, may take. */
const NO_CONTEXT_BUDGET_MS = 14 * 60_000;

/** The Lambda handler of a stepped job: one step per state machine Task, or a whole run when invoked directly. */
export function steppedHandler<S, O, R>(deps: SteppedHandlerDeps, job: SteppedJob<S, O, R>) {
  return (event: unknown, context?: InvocationContext): Promise<StepAnswer<S> | R> =>
    isStepEvent(event) ? oneStep(deps, job, event, context) : wholeRun(deps, job, event, context);
}

function isStepEvent(event: unknown): boolean {
  return typeof event === "object" && event !== null && !Array.isArray(event) && "execution" in event;
}

/** The state a step event carries on from, or the initial one. */
function stateOf<S, O, R>(job: SteppedJob<S, O, R>, event: unknown): { state: S; first: boolean } {
  if (!Object.hasOwn(event as object, "state")) {
    throw new ValidationError("EVENT.INVALID", "event.state", "is required (null for the first step)");
  }
  const parsed = parseEvent(stepEventSchema, event, "event");
  if (parsed.state !== null) return { state: job.parseState(parsed.state), first: false };
  const input = parsed.input ?? {};
  if (typeof input === "object" && input !== null && Object.hasOwn(input, "resumeFrom")) {
    const { resumeFrom } = parseEvent(resumeSchema, input, "event.input");
    return { state: job.parseState(resumeFrom), first: true };
  }
  return { state: job.start(parseEvent(job.options, input, "event.input"), parsed.execution), first: true };
}

async function oneStep<S, O, R>(
  deps: SteppedHandlerDeps,
  job: SteppedJob<S, O, R>,
  event: unknown,
  context: InvocationContext | undefined,
): Promise<StepAnswer<S>> {
  const { log, metrics } = deps.observability;
  deps.observability.startInvocation(context);
  const execution = (event as { execution?: unknown }).execution;
  try {
    const { state, first } = stateOf(job, event);
    const remaining = context?.getRemainingTimeInMillis?.() ?? NO_CONTEXT_BUDGET_MS;
    const deadline = new Date(deps.clock.now().getTime() + remaining);
    const outcome = await deadlineBoundStep(job.step)(state, deadline);
    const next = checkStepState(outcome.state);
    const waitSeconds = outcome.done ? 0 : Math.max(0, Math.ceil(job.waitSeconds?.(next) ?? 0));
    log.info(`${job.job} step`, { execution, first, done: outcome.done, waitSeconds });
    let report: unknown = null;
    if (outcome.done) {
      const final = job.report(next);
      job.publish?.(final);
      report = job.loggable ? job.loggable(final) : final;
      if (job.failed(final)) {
        metrics.count(`${job.job}Failed`);
        log.error(`${job.job} finished with failures`, { execution, report });
        throw new RunFailedError(job.job, report);
      }
      metrics.count(`${job.job}Succeeded`);
      log.info(`${job.job} finished`, { execution, report });
    }
    return { state: next, done: outcome.done, waitSeconds, report };
  } catch (error) {
    if (!(error instanceof RunFailedError)) {
      metrics.count(`${job.job}Failed`);
      log.error(`${job.job} step failed`, { execution, errorCode: errorCode(error) });
    }
    throw error;
  } finally {
    metrics.publish();
  }
}

/** A direct invocation: every step in this invocation, until done or its deadline (as before state machines). */
function wholeRun<S, O, R>(
  deps: SteppedHandlerDeps,
  job: SteppedJob<S, O, R>,
  event: unknown,
  context: InvocationContext | undefined,
): Promise<R> {
  return runJob(
    deps.observability,
    job.job,
    context,
    async () => {
      const options = parseEvent(job.options, event, "event");
      const deadline = invocationDeadline(deps.clock, context, NO_CONTEXT_BUDGET_MS);
      let state = job.start(options, context?.awsRequestId ?? `run-${deps.clock.now().getTime()}`);
      const step = deadlineBoundStep(job.step);
      for (;;) {
        const outcome = await step(state, deadline);
        state = JSON.parse(JSON.stringify(checkStepState(outcome.state))) as S;
        if (outcome.done || stepShouldYield(deps.clock, deadline)) break;
      }
      const report = job.report(state);
      job.publish?.(report);
      return report;
    },
    (report) => job.failed(report),
    job.loggable ? (report) => job.loggable!(report) : undefined,
  );
}
