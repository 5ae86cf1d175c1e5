/** `snapshot`: the snapshot's steps run in this process, to the backup bucket (or, `--dry-run`, to memory). */
import type { Command } from "commander";
import * as z from "zod/mini";
import "../../core/validation.js";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { snapshotUsers } from "../../core/use-cases/snapshot-users.js";
import {
  type CliRuntime,
  dryRunOnlyOptions,
  type Context,
  countsText,
  EXIT_OK,
  lifecycleCommand,
  type Outcome,
  SERVICE,
} from "../command.js";
import { watchedBackups, watchedDirectory } from "../watch.js";

const optionsSchema = dryRunOnlyOptions;

export function snapshotCommand(runtime: CliRuntime): Command {
  return lifecycleCommand(runtime, {
    name: "snapshot",
    description:
      "Write a snapshot of the whole pool (users, groups, memberships, disabled flags) to the backup bucket.",
    examples: [`  $ ${SERVICE} snapshot --local`, `  $ ${SERVICE} snapshot --outputs prod.json --dry-run`],
    options: optionsSchema,
    configure: (command) =>
      command.option(
        "--dry-run",
        "read the pool and report the snapshot that would be written; write nothing",
      ),
    run: snapshot,
  });
}

async function snapshot(ctx: Context, options: z.infer<typeof optionsSchema>): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  const userPoolId = ctx.conn.userPoolId();
  // A dry run writes its files to a scratch store in memory (the snapshot reads back what it wrote), so the
  // bucket is never touched: not even the incomplete snapshots a real run would clean.
  const backups = dryRun ? new InMemoryBackupStore() : watchedBackups(ctx.conn.backups(), ctx.progress);
  ctx.progress.start(`snapshot of ${userPoolId}${dryRun ? " (dry run)" : ""}`);
  const manifest = await snapshotUsers(
    {
      directory: watchedDirectory(ctx.conn.directory(), ctx.progress),
      backups,
      erasures: ctx.conn.erasures(),
      clock: ctx.conn.clock,
    },
    { userPoolId },
  );
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
