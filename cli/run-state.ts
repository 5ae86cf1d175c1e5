/**
 * A run of a stepped job in this process, saved after every step to a local file the CLI names, so an
 * interrupted run (Ctrl-C, a lost laptop lid, an outage) carries on with `--resume <file>` from where it
 * stopped, as a state machine carries on from its last state. The file holds the job's state, which may hold
 * usernames: it is written whole (a fresh file renamed over the old one), readable by its owner only.
 *
 * A file is refused (a typed error, nothing run) when it is not such a file, or belongs to another job or
 * another pool: resuming a snapshot of pool A into pool B, or a purge's plan as a snapshot, must not start.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import * as z from "zod/mini";
import "../core/validation.js";
import { ValidationError } from "../core/errors.js";
import type { Clock } from "../core/ports/clock.js";
import { runSteps, type Step } from "../core/steps/step.js";

/** What the file holds. */
export interface SavedRun<S> {
  readonly version: 1;
  /** The CLI command's job (`snapshot`, `purge-unconfirmed-identities`). */
  readonly job: string;
  readonly userPoolId: string;
  /** ISO 8601: when the last step ended. */
  readonly savedAt: string;
  /** Steps run so far (in this process and before it). */
  readonly steps: number;
  readonly done: boolean;
  readonly state: S;
}

const savedSchema = z.strictObject({
  version: z.literal(1),
  job: z.string(),
  userPoolId: z.string(),
  savedAt: z.string(),
  steps: z.number().check(z.int(), z.gte(0)),
  done: z.boolean(),
  state: z.unknown(),
});

/**
 * Writes `document` as JSON to `file` whole and readable by its owner only (mode 0600), whatever stood there
 * before: a fresh file, created with that mode (never widened, even for a moment), renamed over the old one, so
 * a crash leaves the old file or the new one, never half of one, and a file once readable by others is replaced
 * rather than rewritten in place.
 */
export async function writeOwnerOnlyJson(file: string, document: unknown): Promise<void> {
  const fresh = `${file}.${process.pid}.tmp`;
  await rm(fresh, { force: true });
  await writeFile(fresh, `${JSON.stringify(document)}\n`, { mode: 0o600, flag: "wx" });
  await rename(fresh, file);
}

/** Writes `run` to `file` whole, mode 0600. */
export async function saveRun<S>(file: string, run: SavedRun<S>): Promise<void> {
  await writeOwnerOnlyJson(file, run);
}

/**
 * The saved run in `file`, checked to be `job`'s on `userPoolId`.
 *
 * @throws ValidationError `RUN_STATE.UNREADABLE` (missing, not JSON, not a saved run), `RUN_STATE.OTHER_JOB`,
 *   `RUN_STATE.OTHER_POOL`, naming the file and what it holds.
 */
export async function loadRun(
  file: string,
  expected: { job: string; userPoolId: string },
): Promise<SavedRun<unknown>> {
  let document: unknown;
  try {
    document = JSON.parse(await readFile(file, "utf8")) as unknown;
  } catch (error) {
    throw new ValidationError(
      "RUN_STATE.UNREADABLE",
      file,
      `cannot be read as a saved run (${(error as Error).message})`,
    );
  }
  const parsed = savedSchema.safeParse(document);
  if (!parsed.success)
    throw new ValidationError("RUN_STATE.UNREADABLE", file, "is not a run saved by this CLI");
  const run = parsed.data as SavedRun<unknown>;
  if (run.job !== expected.job) {
    throw new ValidationError(
      "RUN_STATE.OTHER_JOB",
      file,
      `holds a run of ${run.job}, not of ${expected.job}`,
    );
  }
  if (run.userPoolId !== expected.userPoolId) {
    throw new ValidationError(
      "RUN_STATE.OTHER_POOL",
      file,
      `holds a run on pool ${run.userPoolId}, not on ${expected.userPoolId}`,
    );
  }
  return run;
}

export interface SavedStepsOptions<S> {
  readonly file: string;
  readonly job: string;
  readonly userPoolId: string;
  readonly clock: Clock;
  readonly stepBudgetMs: number;
  /** Told after every step is saved (progress). */
  readonly onSaved?: (run: SavedRun<S>) => void | Promise<void>;
}

/**
 * Runs `step` from `initial` (a fresh state, or a loaded run's state, checked by the job's parser) until
 * done, saving the state to `file` after every step, before the next begins.
 */
export async function runStepsSaved<S>(
  step: Step<S>,
  initial: { state: S; steps: number },
  options: SavedStepsOptions<S>,
): Promise<{ state: S; steps: number }> {
  const save = async (state: S, steps: number, done: boolean) => {
    const run: SavedRun<S> = {
      version: 1,
      job: options.job,
      userPoolId: options.userPoolId,
      savedAt: options.clock.now().toISOString(),
      steps,
      done,
      state,
    };
    await saveRun(options.file, run);
    await options.onSaved?.(run);
  };
  let done = false;
  const counted: Step<S> = async (state, deadline) => {
    const outcome = await step(state, deadline);
    done = outcome.done;
    return outcome;
  };
  const { state, steps } = await runSteps(counted, initial.state, {
    clock: options.clock,
    stepBudgetMs: options.stepBudgetMs,
    onState: (state, n) => save(state, initial.steps + n, done),
  });
  return { state, steps: initial.steps + steps };
}
