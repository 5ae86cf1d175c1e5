import { AsyncLocalStorage } from "node:async_hooks";
import { isQuotaDeadlineError } from "../../core/errors.js";
import type { Step } from "../../core/steps/step.js";

/**
 * The deadline of the work in progress, for the adapters whose calls wait (pacing, throttling) to stop
 * waiting in time. It travels with the asynchronous context rather than through every port method: the
 * ports stay domain-shaped, and one adapter instance serves runs with different deadlines (two jobs in one
 * process, one Lambda invocation after another).
 */
const deadlines = new AsyncLocalStorage<Date>();

/** Runs `work` with `deadline` as its calls' deadline (the earlier one, inside another). */
export function withCallDeadline<T>(deadline: Date, work: () => Promise<T>): Promise<T> {
  const outer = deadlines.getStore();
  const effective = outer !== undefined && outer.getTime() < deadline.getTime() ? outer : deadline;
  return deadlines.run(effective, work);
}

/** The deadline of the calls being made now, if their caller gave one. */
export function callDeadline(): Date | undefined {
  return deadlines.getStore();
}

/**
 * `step` with its deadline passed down to every call it makes, and a call throttled until that deadline
 * ({@link QuotaDeadlineError}) turned into a yield: the step returns the state it was given, not done, and
 * its next run carries on from there. Effects before state make that safe: whatever the interrupted run did
 * is done again under the same keys.
 */
export function deadlineBoundStep<S>(step: Step<S>): Step<S> {
  return async (state, deadline) => {
    try {
      return await withCallDeadline(deadline, () => step(state, deadline));
    } catch (error) {
      if (isQuotaDeadlineError(error)) return { state, done: false };
      throw error;
    }
  };
}
