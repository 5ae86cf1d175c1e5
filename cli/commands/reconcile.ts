/** `reconcile`: writes the profiles and backups a failed Post Confirmation left out (`--dry-run`: counts only). */
import type { Command } from "commander";
import * as z from "zod/mini";
import "../../core/validation.js";
import type { BackupStore } from "../../core/ports/backup-store.js";
import type { ProfileStore } from "../../core/ports/profile-store.js";
import { reconcile } from "../../core/use-cases/reconcile.js";
import { stableUserId } from "../../core/user/user.js";
import {
  type CliRuntime,
  dryRunOnlyOptions,
  type Context,
  countsText,
  EXIT_FAILURE,
  EXIT_OK,
  lifecycleCommand,
  type Outcome,
  SERVICE,
} from "../command.js";
import { overriding } from "../connection.js";
import { watchedBackups, watchedDirectory } from "../watch.js";

const optionsSchema = dryRunOnlyOptions;

export function reconcileCommand(runtime: CliRuntime): Command {
  return lifecycleCommand(runtime, {
    name: "reconcile",
    description:
      "Repair what a failed Post Confirmation trigger left out: a profile for every confirmed user that has " +
      "none, and a current backup for every confirmed user.",
    examples: [
      `  $ ${SERVICE} reconcile --local`,
      `  $ ${SERVICE} reconcile --outputs prod.json --dry-run --json`,
    ],
    options: optionsSchema,
    configure: (command) =>
      command.option("--dry-run", "report what would be created or rewritten; write nothing"),
    run: reconcileRun,
  });
}

async function reconcileRun(ctx: Context, options: z.infer<typeof optionsSchema>): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  const userPoolId = ctx.conn.userPoolId();
  const storedProfiles = ctx.conn.profiles();
  const storedBackups = ctx.conn.backups();
  const profiles: ProfileStore = dryRun
    ? overriding(storedProfiles, {
        createIfAbsent: async (profile) => ({
          created: (await storedProfiles.get(profile.id)) === undefined,
        }),
        delete: async (id) => (await storedProfiles.get(id)) !== undefined,
        // A dry run writes no backup, so it records no digest either.
        recordBackupDigest: async (id, username) => {
          const profile = await storedProfiles.get(id);
          if (profile === undefined) return "no-profile";
          return profile.username === username ? "recorded" : "identity-conflict";
        },
      })
    : storedProfiles;
  const backups: BackupStore = dryRun
    ? overriding(storedBackups, {
        putUserBackup: async (record) => {
          const current = await storedBackups.getUserBackup(stableUserId(record.user)).catch(() => undefined);
          return current && current.user.username !== record.user.username ? "identity-conflict" : "written";
        },
        eraseUserBackups: async () => 0,
      })
    : watchedBackups(storedBackups, ctx.progress);
  ctx.progress.start(`reconcile ${userPoolId}${dryRun ? " (dry run)" : ""}`);
  const report = await reconcile(
    {
      directory: watchedDirectory(ctx.conn.directory(), ctx.progress),
      profiles,
      backups,
      erasures: ctx.conn.erasures(),
      clock: ctx.conn.clock,
    },
    { userPoolId, deadline: new Date(ctx.conn.clock.now().getTime() + 60 * 60_000) },
  );
  const verb = dryRun ? "would be " : "";
  const codes = countsText(report.failureCodes);
  return {
    code: report.failed > 0 ? EXIT_FAILURE : EXIT_OK,
    data: { dryRun, userPoolId, ...report },
    human: [
      `Reconcile of ${userPoolId}${dryRun ? " — dry run, nothing written" : ""}`,
      `  confirmed users checked: ${report.checked}`,
      `  profiles ${verb}created: ${report.profilesCreated}`,
      `  backups ${verb}written: ${report.backupsWritten} (already current: ${report.backupsCurrent})`,
      `  failed: ${report.failed}${codes ? ` (${codes})` : ""}`,
      `  left alone: ${report.skipped}${report.skipped > 0 ? ` (${countsText(report.skipReasons)})` : ""}`,
      `  stopped by: ${report.stoppedBy}`,
    ],
  };
}
