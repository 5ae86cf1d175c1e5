/**
 * Durable steps: the shape of every long job.
 *
 * A long job (a snapshot of millions of users, a bounded purge, a restore) cannot run in one Lambda
 * invocation, and must survive being killed at any instant. So it is a sequence of steps
 * `step(state, deadline) → { state', done }`:
 *
 * - **Small state.** Cursors, counters and the keys of objects written: JSON, well under Step Functions'
 *   256 KiB payload ({@link MAX_STEP_STATE_BYTES}). Bulk data lives in S3 under deterministic keys.
 * - **Idempotent effects under deterministic keys**: running a step again with the same input writes the same
 *   objects under the same keys, so a step that crashed half-way and runs again duplicates nothing.
 * - **Effect before state**: every effect is written before the state that records it is returned. A crash
 *   between the two repeats the effect (harmless, by the rule above); it never records an effect that did not
 *   happen.
 * - **A step yields before its deadline**: it stops starting new work a safe margin before the host kills
 *   it ({@link stepShouldYield}) and returns where it is.
 *
 * In AWS a Step Functions state machine passes the state from one Lambda invocation to the next; the CLI, the
 * local stack and the tests run the very same steps in-process with {@link runSteps}.
 */
import { LifecycleError } from "../errors.js";
import type { Clock } from "../ports/clock.js";

/** What one step returns: where the job is now, and whether it is finished. */
export interface StepOutcome<S> {
  readonly state: S;
  readonly done: boolean;
}

/**
 * One step of a job: carries on from `state` and returns before `deadline` (the instant its host stops it),
 * leaving a safe margin. Must be safe to call again with the same `state` after a crash at any point.
 */
export type Step<S> = (state: S, deadline: Date) => Promise<StepOutcome<S>>;

/**
 * The largest state a step may return. Step Functions passes at most 256 KiB between states (input, output
 * and the execution's context together); this leaves room for the rest.
 */
export const MAX_STEP_STATE_BYTES = 200 * 1024;

/**
 * How long before its deadline a step stops starting new work, by default. One unit of work (a page of 60
 * users with their writes, or one fenced deletion) takes well under this, even throttled.
 */
export const DEFAULT_STEP_MARGIN_MS = 60_000;

/** Whether a step must stop starting new work: less than `marginMs` is left before `deadline`. */
export function stepShouldYield(clock: Clock, deadline: Date, marginMs = DEFAULT_STEP_MARGIN_MS): boolean {
  return deadline.getTime() - clock.now().getTime() < marginMs;
}

/**
 * The state as it travels between steps: JSON, within {@link MAX_STEP_STATE_BYTES}. A state that does not
 * survive the trip unchanged (a `Date`, a `Map`, `undefined` in an array) or is too large is a bug in the
 * job, not bad input.
 *
 * @throws LifecycleError `STEP.STATE_INVALID` naming the problem.
 */
export function checkStepState<S>(state: S): S {
  let text: string;
  try {
    text = JSON.stringify(state);
  } catch (error) {
    throw new LifecycleError("STEP.STATE_INVALID", "The step's state cannot be written as JSON", {
      cause: error,
    });
  }
  if (text === undefined) throw new LifecycleError("STEP.STATE_INVALID", "The step's state is not JSON");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_STEP_STATE_BYTES) {
    throw new LifecycleError(
      "STEP.STATE_INVALID",
      `The step's state is ${bytes} bytes, over the ${MAX_STEP_STATE_BYTES} a step may pass on`,
      { details: { bytes } },
    );
  }
  if (!sameJson(state, JSON.parse(text))) {
    throw new LifecycleError(
      "STEP.STATE_INVALID",
      "The step's state does not survive a JSON round trip (a Date, Map, Set, undefined or a class instance?)",
    );
  }
  return state;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const proto = Object.getPrototypeOf(a) as unknown;
  if (!Array.isArray(a) && proto !== Object.prototype && proto !== null) return false;
  const aKeys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) =>
    sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

export interface RunStepsOptions<S> {
  readonly clock: Clock;
  /** How long each step may run (its deadline is this far after it starts), like a Lambda's timeout. */
  readonly stepBudgetMs: number;
  /** Told every state a step returned, once checked (to store it, print progress, or crash a test). */
  readonly onState?: (state: S, stepNumber: number) => void | Promise<void>;
  /** Refuse to run more than this many steps (a job that never finishes is a bug): default 1,000,000. */
  readonly maxSteps?: number;
}

export interface RunStepsResult<S> {
  readonly state: S;
  readonly steps: number;
}

/**
 * Runs `step` from `initial` until it says done, each call with its own deadline, checking every state as
 * Step Functions would carry it. What the CLI and the tests use in place of a state machine.
 *
 * @throws LifecycleError `STEP.STATE_INVALID` for a state that could not travel between invocations;
 *   `STEP.NO_PROGRESS` past `maxSteps`.
 */
export async function runSteps<S>(
  step: Step<S>,
  initial: S,
  options: RunStepsOptions<S>,
): Promise<RunStepsResult<S>> {
  const maxSteps = options.maxSteps ?? 1_000_000;
  let state = checkStepState(initial);
  for (let steps = 1; steps <= maxSteps; steps += 1) {
    const deadline = new Date(options.clock.now().getTime() + options.stepBudgetMs);
    const outcome = await step(state, deadline);
    // Through JSON, as between two invocations: a step never sees objects its previous call kept.
    state = JSON.parse(JSON.stringify(checkStepState(outcome.state))) as S;
    await options.onState?.(state, steps);
    if (outcome.done) return { state, steps };
  }
  throw new LifecycleError("STEP.NO_PROGRESS", `The job did not finish within ${maxSteps} steps`, {
    details: { maxSteps },
  });
}
