/**
 * A small stepped job for the tests of the step protocol and of the state machines that drive it: it writes
 * `total` numbered items into a store, one per unit of work, under a deterministic key (`<run>/<index>`),
 * and yields when its deadline comes near. The state is `{run, next, total, dryRun}`.
 */
import * as z from "zod/mini";
import { ValidationError } from "../../core/errors.js";
import type { Clock } from "../../core/ports/clock.js";
import { type Step, stepShouldYield } from "../../core/steps/step.js";
import type { SteppedJob } from "../stepped.js";

export interface CountingState {
  readonly run: string;
  readonly next: number;
  readonly total: number;
  readonly dryRun: boolean;
}

export interface CountingReport {
  readonly written: number;
  readonly total: number;
  readonly dryRun: boolean;
}

const stateSchema = z.strictObject({
  run: z.string(),
  next: z.number().check(z.int(), z.gte(0)),
  total: z.number().check(z.int(), z.gte(0)),
  dryRun: z.boolean(),
});

export interface CountingJobOptions {
  readonly clock: Clock;
  /** Where items go: key → how many times it was written (a rerun writes the same keys). */
  readonly store: Map<string, number>;
  readonly total: number;
  /** Time one unit of work takes (a manual clock is moved by it, else it is slept). Default 1 s. */
  readonly workMs?: number;
  /** Called before each write: throw from it to crash the step. */
  readonly beforeWrite?: (key: string) => void | Promise<void>;
  /** The step's margin before its deadline (default: the contract's). */
  readonly marginMs?: number;
  /** A report with `written < total` counts as failed. Default true. */
  readonly failWhenShort?: boolean;
  readonly waitSeconds?: number;
}

export function countingJob(
  options: CountingJobOptions,
): SteppedJob<CountingState, { dryRun?: boolean | undefined }, CountingReport> {
  const step: Step<CountingState> = async (state, deadline) => {
    let next = state.next;
    while (next < state.total && !stepShouldYield(options.clock, deadline, options.marginMs)) {
      const key = `${state.run}/${next}`;
      await options.beforeWrite?.(key);
      if (!state.dryRun) options.store.set(key, (options.store.get(key) ?? 0) + 1);
      // On a manual clock the work moves the clock; on the system clock it takes real time.
      const manual = options.clock as { advance?: (ms: number) => void };
      if (manual.advance) manual.advance(options.workMs ?? 1000);
      else await new Promise((resolve) => setTimeout(resolve, options.workMs ?? 1000));
      next += 1;
    }
    return { state: { ...state, next }, done: next >= state.total };
  };
  return {
    job: "Counting",
    options: z.strictObject({ dryRun: z.optional(z.boolean()) }),
    start: ({ dryRun }, run) => ({ run, next: 0, total: options.total, dryRun: dryRun ?? false }),
    parseState: (value) => {
      const parsed = stateSchema.safeParse(value);
      if (!parsed.success)
        throw new ValidationError("STEP.STATE_INVALID", "state", "is not a counting state");
      return parsed.data;
    },
    step,
    report: (state) => ({ written: state.next, total: state.total, dryRun: state.dryRun }),
    failed: (report) => (options.failWhenShort ?? true) && report.written < report.total,
    ...(options.waitSeconds === undefined ? {} : { waitSeconds: () => options.waitSeconds! }),
  };
}
