/**
 * `erase`: erases one person everywhere this system keeps them (the erase job's use case, with the
 * application's accounts table when the target names its database), after a preview unless `--yes`.
 */
import type { Command } from "commander";
import * as z from "zod/mini";
import "../../core/validation.js";
import { ValidationError } from "../../core/errors.js";
import type { ApplicationAccounts } from "../../core/ports/application-accounts.js";
import { type AccountRowReport, eraseUser, previewErasure } from "../../core/use-cases/erase-user.js";
import { maskIdentifier } from "../../core/user/mask.js";
import { type EraseReport, eraseInputSchema } from "../../jobs/erase/index.js";
import {
  type CliRuntime,
  commonOptions,
  destructiveOptions,
  confirm,
  type Context,
  describeFailure,
  EXIT_FAILURE,
  EXIT_OK,
  lifecycleCommand,
  type Outcome,
  requireConsentPossible,
  SERVICE,
  UsageError,
} from "../command.js";
import { watchedBackups } from "../watch.js";

const optionsSchema = z.strictObject({
  ...commonOptions,
  username: z.optional(z.string()),
  userId: z.optional(z.string()),
  deleteAccountRow: z.optional(z.boolean()),
  ...destructiveOptions,
});

type EraseOptions = z.infer<typeof optionsSchema>;

export function eraseCommand(runtime: CliRuntime): Command {
  return lifecycleCommand(runtime, {
    name: "erase",
    description:
      "Erase one person: a tombstone first (no job writes or restores them again), then the pool, the profile " +
      "table, every version of their backup, every snapshot part and every restore's plan and progress. " +
      "Says whether they are still in the application's MySQL accounts table (found by email, ignoring " +
      "case) when the target names its database; that table is the application's, so their row is deleted " +
      "only with --delete-account-row. Cannot be undone.",
    examples: [
      `  $ ${SERVICE} erase --local --username alice --dry-run      # what would be removed (email masked)`,
      `  $ ${SERVICE} erase --outputs prod.json --username alice --yes`,
      `  $ ${SERVICE} erase --local --username alice --delete-account-row --yes   # their accounts row too`,
      `  $ ${SERVICE} erase --outputs prod.json --user-id 6f1c2a9e-…-… --yes   # a user no longer in the pool`,
    ],
    options: optionsSchema,
    configure: (command) =>
      command
        .option("--username <username>", "the user's username in the pool")
        .option(
          "--user-id <id>",
          "the stable user id (custom:legacy_sub, else sub); needed once the user left the pool",
        )
        .option(
          "--delete-account-row",
          "also delete the person's rows in the application's accounts table (matched by email, ignoring case); " +
            "refused when the target names no accounts database. Without it the table is only read",
        )
        .option(
          "--dry-run",
          "show where the user is (pool, profile, backup, snapshots, accounts table); change nothing",
        )
        .option("--yes", "do not ask for confirmation (needed when no terminal is attached)"),
    run: erase,
  });
}

async function erase(ctx: Context, options: EraseOptions): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  const deleteAccountRow = options.deleteAccountRow === true;
  const parsed = eraseInputSchema.safeParse({
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.userId !== undefined ? { userId: options.userId } : {}),
  });
  if (!parsed.success) {
    throw new UsageError("--username or --user-id: give a username, a user id, or both (non-empty)");
  }
  const request = parsed.data;
  if (!dryRun) requireConsentPossible(ctx, options.yes, "erase");
  const who = [
    options.username !== undefined ? `username ${maskIdentifier(options.username)}` : undefined,
    options.userId !== undefined ? `user id ${maskIdentifier(options.userId)}` : undefined,
  ]
    .filter(Boolean)
    .join(", ");
  const deps = {
    directory: ctx.conn.directory(),
    profiles: ctx.conn.profiles(),
    backups: watchedBackups(ctx.conn.backups(), ctx.progress),
    erasures: ctx.conn.erasures(),
    restores: ctx.conn.restores(),
    clock: ctx.conn.clock,
    ...(await accountRowsFor(ctx, deleteAccountRow)),
  };

  if (dryRun || !options.yes) {
    ctx.progress.start("looking for the user");
    const preview = await previewErasure(deps, request);
    ctx.progress.done();
    const lines = [
      `Erase ${who}${dryRun ? " — dry run, nothing changed" : ""}:`,
      `  stable user id: ${preview.userId ? maskIdentifier(preview.userId) : "none that is theirs"}`,
      `  email: ${preview.maskedEmail ?? "unknown"}`,
      ...(preview.identityConflict ? [`  IDENTITY CONFLICT: ${conflictText(preview.identityConflict)}`] : []),
      ...(preview.alreadyErased ? ["  already erased once: this finishes what that erasure left"] : []),
      "  will remove:",
      `    from the pool: ${yesNo(preview.inPool)}`,
      `    profile: ${yesNo(preview.profile)}`,
      `    per-user backup: ${yesNo(preview.backup)} (every version)`,
      `    snapshot records: ${preview.snapshotRecords} in ${preview.snapshots} snapshot(s), complete or not`,
      `    restores whose plan or progress names them: ${preview.restores}`,
      ...preview.unreadable.map(
        (part) => `    cannot be scrubbed: ${part.snapshotId}/${part.part} (${part.code})`,
      ),
      `  accounts table (the application's): ${accountRowText(preview.accountRow, deleteAccountRow, "preview")}`,
      ...(preview.userId ? ["  and records a tombstone first, so no job writes or restores them again"] : []),
    ];
    if (dryRun) return { code: EXIT_OK, data: { dryRun, deleteAccountRow, preview }, human: lines };
    for (const line of lines) ctx.note(line);
    await confirm(
      ctx,
      options.yes,
      deleteAccountRow
        ? "Erase this user everywhere, their rows in the accounts table too? This cannot be undone."
        : "Erase this user everywhere? This cannot be undone.",
    );
  }
  ctx.progress.start("erasing");
  const report = await eraseUser(deps, request, { deleteAccountRow });
  ctx.progress.done();
  const rowUnchecked = deleteAccountRow && report.accountRow.status === "not-checked";
  const partsLeft = report.unscrubbed.length > 0 || report.unscrubbedRestores.length > 0;
  return {
    code: report.complete ? EXIT_OK : EXIT_FAILURE,
    data: { dryRun, deleteAccountRow, ...report },
    human: [
      `Erased ${who}${report.userId ? ` (stable user id ${maskIdentifier(report.userId)})` : ""}`,
      ...(report.identityConflict ? [`  IDENTITY CONFLICT: ${conflictText(report.identityConflict)}`] : []),
      `  deleted from the pool: ${yesNo(report.deletedFromPool)}`,
      `  profile deleted: ${yesNo(report.profileDeleted)}`,
      `  backup versions deleted: ${report.backupVersionsDeleted}`,
      `  snapshot records removed: ${report.snapshotRecordsRemoved} (${report.snapshotPartsRewritten} parts of ${report.snapshotsRewritten} snapshots rewritten)`,
      ...report.unscrubbed.map((part) => `  NOT SCRUBBED: ${part.snapshotId}/${part.part} (${part.code})`),
      ...report.unscrubbedRestores.map(
        (restore) => `  NOT SCRUBBED: restore ${restore.planId} (${restore.code})`,
      ),
      `  accounts table (the application's): ${accountRowText(report.accountRow, deleteAccountRow, "report")}`,
      ...(report.complete
        ? ["  complete."]
        : [
            ...(partsLeft
              ? [
                  `  INCOMPLETE: fix or delete the parts above, then run erase again${report.userId ? " with --user-id" : ""}.`,
                ]
              : []),
            ...(rowUnchecked
              ? [
                  "  INCOMPLETE: their rows in the accounts table were not checked, so not deleted; this system " +
                    "no longer holds their email to look again: delete them in the application.",
                ]
              : []),
          ]),
    ],
  };
}

/**
 * The accounts table for erase, when the target names its database. Without its settings the erase reports the
 * row as not checked — unless `--delete-account-row` asked for it, which is then refused before anything is
 * changed. Settings that fail otherwise (an unreadable secret) give a table whose every call fails with that
 * error, so the erase goes on and reports the row as not checked, with the code.
 */
async function accountRowsFor(ctx: Context, required: boolean): Promise<{ accounts?: ApplicationAccounts }> {
  try {
    return { accounts: await ctx.conn.accountRows() };
  } catch (error) {
    if (error instanceof ValidationError && error.code === "CONFIG.INVALID") {
      if (required) {
        throw new UsageError(
          `--delete-account-row needs the accounts database, and ${ctx.target.description} does not name ` +
            `it (${describeFailure(error, ctx.target).message}): nothing was changed`,
        );
      }
      ctx.note(`note: the accounts table will not be checked: ${describeFailure(error, ctx.target).message}`);
      return {};
    }
    const failed = () => Promise.reject(error);
    return { accounts: { countByEmail: failed, deleteByEmail: failed } };
  }
}

function accountRowText(
  row: AccountRowReport,
  deleteAccountRow: boolean,
  mode: "preview" | "report",
): string {
  const rows = (count: number) => `${count} row${count === 1 ? "" : "s"} with their email`;
  switch (row.status) {
    case "absent":
      return "no row holds their email";
    case "deleted":
      return `${rows(row.rows)} deleted`;
    case "present":
      if (mode === "preview" && deleteAccountRow) return `${rows(row.rows)}: will be deleted`;
      return `${rows(row.rows)}: ${mode === "preview" ? "will be kept" : "STILL THERE, kept"} (--delete-account-row deletes them)`;
    case "not-checked":
      return `NOT CHECKED — ${notCheckedText(row)}`;
  }
}

function notCheckedText(row: Extract<AccountRowReport, { status: "not-checked" }>): string {
  switch (row.reason) {
    case "NO_DATABASE_ACCESS":
      return "no access to the accounts database from here (NO_DATABASE_ACCESS)";
    case "EMAIL_UNKNOWN":
      return "no email is known for them any more (EMAIL_UNKNOWN)";
    case "DATABASE_FAILED":
      return `the accounts database failed (${row.code ?? "DATABASE_FAILED"})`;
  }
}

function conflictText(conflict: NonNullable<EraseReport["identityConflict"]>): string {
  return conflict === "INVALID_ID"
    ? "the user's custom:legacy_sub is not a valid user id; only the pool user and its own records go"
    : "the user's id is bound to another username; that person's data is left alone";
}

function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}
