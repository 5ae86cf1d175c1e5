/** `snapshot`: the snapshot's steps run in this process, to the backup bucket (or, `--dry-run`, to memory). */
import { resolve } from "node:path";
import type { Command } from "commander";
import * as z from "zod/mini";
import "../../core/validation.js";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import {
  type SnapshotResult,
  type SnapshotState,
  snapshotReport,
  snapshotStep,
  snapshotUsers,
  startSnapshot,
} from "../../core/use-cases/snapshot-users.js";
import {
  type CliRuntime,
  dryRunOnlyOptions,
  type Context,
  countsText,
  EXIT_OK,
  lifecycleCommand,
  type Outcome,
  SERVICE,
  UsageError,
} from "../command.js";
import { loadRun, runStepsSaved } from "../run-state.js";
import { watchedBackups, watchedDirectory } from "../watch.js";

const optionsSchema = z.strictObject({
  ...dryRunOnlyOptions.shape,
  stateFile: z.optional(z.string().check(z.minLength(1))),
  resume: z.optional(z.string().check(z.minLength(1))),
});

/** The job a saved run of this command belongs to (cli/run-state.ts). */
const SAVED_JOB = "snapshot";
/** Each step's budget in this process, as a Lambda invocation's. */
const STEP_BUDGET_MS = 15 * 60_000;

export function snapshotCommand(runtime: CliRuntime): Command {
  return lifecycleCommand(runtime, {
    name: "snapshot",
    description:
      "Write a snapshot of the whole pool (users, groups, memberships, disabled flags) to the backup bucket.",
    examples: [`  $ ${SERVICE} snapshot --local`, `  $ ${SERVICE} snapshot --outputs prod.json --dry-run`],
    options: optionsSchema,
    configure: (command) =>
      command
        .option("--dry-run", "read the pool and report the snapshot that would be written; write nothing")
        .option("--state-file <file>", "save the run's state after every step to this file (to --resume it)")
        .option("--resume <file>", "carry on the run saved in this file (same pool), saving on to it"),
    run: snapshot,
  });
}

/**
 * The snapshot's steps, the state saved to `file` after every step; from the run saved there with
 * `--resume` (refused when it is another job's or another pool's).
 */
async function savedSnapshot(
  ctx: Context,
  deps: Parameters<typeof snapshotStep>[0],
  userPoolId: string,
  file: string,
  options: z.infer<typeof optionsSchema>,
): Promise<SnapshotResult> {
  const path = resolve(ctx.io.cwd, file);
  let initial: { state: SnapshotState; steps: number };
  if (options.resume !== undefined) {
    const saved = await loadRun(path, { job: SAVED_JOB, userPoolId });
    initial = { state: saved.state as SnapshotState, steps: saved.steps };
    ctx.note(`Carrying on the snapshot saved in ${file} after ${saved.steps} step(s).`);
  } else {
    initial = { state: startSnapshot({ userPoolId }, deps.clock), steps: 0 };
  }
  const { state } = await runStepsSaved(snapshotStep(deps, { userPoolId }), initial, {
    file: path,
    job: SAVED_JOB,
    userPoolId,
    clock: deps.clock,
    stepBudgetMs: STEP_BUDGET_MS,
  });
  return snapshotReport(deps.backups, state);
}

async function snapshot(ctx: Context, options: z.infer<typeof optionsSchema>): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  if (dryRun && (options.resume !== undefined || options.stateFile !== undefined)) {
    throw new UsageError(
      "--dry-run writes nothing, so it has no run to save or resume: leave out --state-file/--resume",
    );
  }
  if (options.resume !== undefined && options.stateFile !== undefined) {
    throw new UsageError("--resume saves on to the file it reads: leave out --state-file");
  }
  const userPoolId = ctx.conn.userPoolId();
  // A dry run writes its files to a scratch store in memory (the snapshot reads back what it wrote), so the
  // bucket is never touched: not even the incomplete snapshots a real run would clean.
  const backups = dryRun ? new InMemoryBackupStore() : watchedBackups(ctx.conn.backups(), ctx.progress);
  ctx.progress.start(`snapshot of ${userPoolId}${dryRun ? " (dry run)" : ""}`);
  const deps = {
    directory: watchedDirectory(ctx.conn.directory(), ctx.progress),
    backups,
    erasures: ctx.conn.erasures(),
    clock: ctx.conn.clock,
  };
  const file = options.resume ?? options.stateFile;
  const manifest =
    file === undefined
      ? await snapshotUsers(deps, { userPoolId })
      : await savedSnapshot(ctx, deps, userPoolId, file, options);
  const data = {
    dryRun,
    userPoolId,
    snapshotId: dryRun ? undefined : manifest.snapshotId,
    users: manifest.userCount,
    groups: manifest.groups.length,
    parts: manifest.parts.length,
    skipped: manifest.skipped,
    skipReasons: manifest.skipReasons,
    erasedLeftOut: manifest.erasedLeftOut,
  };
  return {
    code: EXIT_OK,
    data,
    human: [
      ...(manifest.skipped > 0
        ? [
            `Left out ${manifest.skipped} user(s) that cannot be backed up: ${countsText(manifest.skipReasons)}`,
          ]
        : []),
      dryRun
        ? `Dry run: a snapshot of ${userPoolId} would hold ${data.users} users and ${data.groups} groups in ` +
          `${data.parts} parts. Nothing was written.`
        : `Snapshot ${manifest.snapshotId} of ${userPoolId}: ${data.users} users, ${data.groups} groups, ` +
          `${data.parts} parts.`,
    ],
  };
}
