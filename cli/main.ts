/**
 * `user-lifecycle`: the operator CLI. Every command runs the same handlers and use cases as the Lambda
 * functions, on the adapters of a target (the local stack or an AWS stack).
 *
 * `run(argv, io)` is the whole program: it parses `argv` (the arguments after the program name), writes to
 * `io` and resolves with the exit code — 0 success, 1 failure, 2 usage error (or a destructive command
 * refused for want of `--yes`). It never calls `process.exit`.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { errorCode, LifecycleError, ValidationError } from "../core/errors.js";
import type { AccountStore } from "../core/ports/account-store.js";
import type { ApplicationAccounts } from "../core/ports/application-accounts.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { runSteps } from "../core/steps/step.js";
import {
  type AccountPurgePlan,
  formatDuration,
  parsePurgePolicy,
  type PurgePlan,
  type PurgePolicy,
  type PurgeReport,
  purgeCutoff,
} from "../core/purge/index.js";
import {
  type AccountRowReport,
  type EraseReport,
  eraseUser,
  previewErasure,
} from "../core/use-cases/erase-user.js";
import { nameAccountPurge } from "../core/use-cases/purge-unconfirmed-accounts.js";
import {
  identityPurgeReport,
  identityPurgeStep,
  type PurgeStepOptions,
  type StartPurgeOptions,
  startIdentityPurge,
} from "../core/use-cases/purge-unconfirmed-identities.js";
import { reconcile } from "../core/use-cases/reconcile.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import { maskIdentifier } from "../core/user/mask.js";
import { stableUserId } from "../core/user/user.js";
import { eraseEventSchema } from "../handlers/erase.js";
import { DEADLINE_MARGIN_MS, RunFailedError } from "../runtime/invocation.js";
import { purgeUnconfirmedAccountsHandler } from "../handlers/purge-unconfirmed-accounts.js";
import { type RestoreSummary, restoreEventSchema, restoreHandler } from "../handlers/restore.js";
import {
  findUnfinishedRestore,
  listUnfinishedRestores,
  type RestoreSource,
} from "../core/use-cases/restore-users.js";
import {
  type Connect,
  type Connection,
  containerConnection,
  overriding,
  silentObservability,
} from "./connection.js";
import { type CliIo, Progress } from "./io.js";
import { LOCAL_STACK_FILE, OUTPUT_KEYS, resolveTarget, type Target, TargetError } from "./target.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface RunOptions {
  /** Builds the adapters from the target's environment; default: the Lambda functions' composition root. */
  readonly connect?: Connect;
}

/** A mistake in the command line that commander cannot see (a combination, a value format). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A destructive command that was not confirmed: nothing was changed. */
class NotConfirmedError extends Error {
  override name = "NotConfirmedError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface CommonOptions {
  readonly local?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly outputs?: string;
  readonly json?: boolean;
}

/** What one command produced: its exit code, the JSON document and the human lines (stdout). */
interface Outcome {
  readonly code: number;
  readonly data: Record<string, unknown>;
  readonly human: readonly string[];
}

interface Context {
  readonly io: CliIo;
  readonly json: boolean;
  readonly target: Target;
  readonly conn: Connection;
  readonly progress: Progress;
  /** A line for the operator on stderr (never stdout). */
  note(line: string): void;
}

const SERVICE = "user-lifecycle";

export async function run(argv: readonly string[], io: CliIo, options: RunOptions = {}): Promise<number> {
  const connect = options.connect ?? containerConnection;
  let exitCode = EXIT_OK;
  const program = buildProgram(io, connect, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }
}

function buildProgram(io: CliIo, connect: Connect, setExit: (code: number) => void): Command {
  const program = new Command(SERVICE)
    .description(
      "Operate the user lifecycle of a Cognito user pool: purge never-confirmed users, snapshot, restore, " +
        "reconcile and erase users, and show what exists.",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", PROGRAM_HELP);

  const command = (name: string, description: string, examples: string) =>
    withCommonOptions(program.command(name).description(description)).addHelpText(
      "after",
      `\nExamples:\n${examples}\n${TARGET_HELP}`,
    );

  const execute =
    <O extends CommonOptions>(name: string, body: (ctx: Context, options: O) => Promise<Outcome>) =>
    async (options: O) => {
      setExit(await runCommand(name, io, connect, options, body));
    };

  command(
    "purge-unconfirmed",
    "Delete users who never confirmed their sign-up: from the pool (identities), the MySQL users table " +
      "(accounts), or both. Follows the purge policy: minimum age, a cap per run, and a refusal when too " +
      "large a share would go.",
    [
      `  $ ${SERVICE} purge-unconfirmed --local --dry-run`,
      `  $ ${SERVICE} purge-unconfirmed --local --target identities --min-age 48h --max-deletions 200 --yes`,
      `  $ ${SERVICE} purge-unconfirmed --outputs prod.json --region eu-west-1 --profile ops --json --yes`,
    ].join("\n"),
  )
    .addOption(
      new Option(
        "--target <what>",
        "what to purge: identities (the pool), accounts (the MySQL table), or both",
      )
        .choices(["identities", "accounts", "both"])
        .default("both"),
    )
    .option(
      "--min-age <duration>",
      "how long a user may stay unconfirmed, e.g. 24h, 2d, 1d12h, PT36H (default: the stack's PURGE_POLICY, else 24h)",
      parseMinAge,
    )
    .option(
      "--max-deletions <n>",
      "at most this many deletions per target in this run; the rest waits (default: policy, else 1000)",
      parseMaxDeletions,
    )
    .option(
      "--max-share <ratio>",
      "refuse the whole run when too many users are eligible (for the pool: those created within max(minAge, 1 day) of its newest sign-up) — this share of the pool: 0.05 or 5% (default: policy, else 5%)",
      parseMaxShare,
    )
    .option("--dry-run", "report what would be deleted; delete nothing")
    .option("--yes", "do not ask for confirmation (needed when no terminal is attached)")
    .action(execute("purge-unconfirmed", purgeCommand));

  command(
    "snapshot",
    "Write a snapshot of the whole pool (users, groups, memberships, disabled flags) to the backup bucket.",
    [`  $ ${SERVICE} snapshot --local`, `  $ ${SERVICE} snapshot --outputs prod.json --dry-run`].join("\n"),
  )
    .option("--dry-run", "read the pool and report the snapshot that would be written; write nothing")
    .action(execute("snapshot", snapshotCommand));

  command(
    "restore",
    "Restore users from backups into the stack's pool or another one. Shows the plan first; users already " +
      "in the target pool are left untouched. Import jobs send no email and no SMS.",
    [
      `  $ ${SERVICE} restore --local --dry-run`,
      `  $ ${SERVICE} restore --local --source user-backups --user alice bob --strategy admin-create --yes`,
      `  $ ${SERVICE} restore --source 20260610T020000Z --target-pool eu-west-1_NewPool1 --outputs prod.json`,
      `  $ ${SERVICE} restore --outputs prod.json --plan-id restore-2026-06-10T12-00-00-000Z --dry-run  # where is it?`,
      `  $ ${SERVICE} restore --outputs prod.json --plan-id restore-2026-06-10T12-00-00-000Z --yes      # carry it on`,
    ].join("\n"),
  )
    .option(
      "--source <source>",
      "latest (the newest snapshot plus newer per-user backups), user-backups, or a snapshot id (see status)",
      "latest",
    )
    .addOption(
      new Option(
        "--strategy <strategy>",
        "import-job (Cognito user import; no messages) or admin-create (AdminCreateUser, messages suppressed)",
      )
        .choices(["import-job", "admin-create"])
        .default("import-job"),
    )
    .option("--user <username...>", "restore only these usernames")
    .option("--target-pool <id>", "restore into this pool instead of the stack's (e.g. eu-west-1_AbC123xyz)")
    .addOption(
      new Option(
        "--plan-id <id>",
        "an existing restore (its id is printed when it starts): carry it on to the end, or with --dry-run " +
          "show where it is",
      ).conflicts(["source", "strategy", "user", "targetPool"]),
    )
    .option(
      "--dry-run",
      "work out and show the plan (with --plan-id: the restore's status) only; change nothing",
    )
    .option("--yes", "do not ask for confirmation (needed when no terminal is attached)")
    .action(execute("restore", restoreCommand));

  command(
    "reconcile",
    "Repair what a failed Post Confirmation trigger left out: a profile for every confirmed user that has " +
      "none, and a current backup for every confirmed user.",
    [
      `  $ ${SERVICE} reconcile --local`,
      `  $ ${SERVICE} reconcile --outputs prod.json --dry-run --json`,
    ].join("\n"),
  )
    .option("--dry-run", "report what would be created or rewritten; write nothing")
    .action(execute("reconcile", reconcileCommand));

  command(
    "erase",
    "Erase one person: a tombstone first (no job writes or restores them again), then the pool, the profile " +
      "table, every version of their backup, every snapshot part and every restore's plan and progress. " +
      "Says whether they are still in the application's MySQL accounts table (found by email, ignoring " +
      "case) when the target names its database; that table is the application's, so their row is deleted " +
      "only with --delete-account-row. Cannot be undone.",
    [
      `  $ ${SERVICE} erase --local --username alice --dry-run      # what would be removed (email masked)`,
      `  $ ${SERVICE} erase --outputs prod.json --username alice --yes`,
      `  $ ${SERVICE} erase --local --username alice --delete-account-row --yes   # their accounts row too`,
      `  $ ${SERVICE} erase --outputs prod.json --user-id 6f1c2a9e-…-… --yes   # a user no longer in the pool`,
    ].join("\n"),
  )
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
    .option("--yes", "do not ask for confirmation (needed when no terminal is attached)")
    .action(execute("erase", eraseCommand));

  command(
    "status",
    "Show what exists: the pool's estimated user count, the snapshots (ids, user counts, newest age), and " +
      "the accounts table (rows, rows eligible for purge).",
    [`  $ ${SERVICE} status --local`, `  $ ${SERVICE} status --outputs prod.json --profile ops --json`].join(
      "\n",
    ),
  )
    .option("--snapshots <n>", "show the newest n snapshots", parsePositiveInteger("--snapshots"), 5)
    .action(execute("status", statusCommand));

  for (const sub of [program, ...program.commands])
    for (const option of sub.options) refuseFlagsAsValues(option);
  return program;
}

/**
 * commander gives an option that takes a value the next argument whatever it is, so `--user --dry-run --yes`
 * would restore a user named "--dry-run" for real. A value that is one of this program's flags (`--x`, `-h`)
 * is refused as a usage error instead, before anything runs. A value may still start with a single `-`
 * followed by more characters (a negative number, an odd username).
 */
function refuseFlagsAsValues(option: Option): void {
  if (!option.required && !option.optional) return;
  const parse = option.parseArg;
  option.argParser((value: string, previous: unknown) => {
    if (/^--./.test(value) || /^-[A-Za-z]$/.test(value)) {
      throw new InvalidArgumentError(
        `${option.long ?? option.flags} takes a value, not the flag ${value}: nothing was run`,
      );
    }
    if (parse) return parse(value, previous);
    if (!option.variadic) return value;
    return Array.isArray(previous) && previous !== option.defaultValue ? [...previous, value] : [value];
  });
}

function withCommonOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--local", `target the local stack described by ${LOCAL_STACK_FILE}`).conflicts([
        "region",
        "profile",
        "outputs",
      ]),
    )
    .option("--region <region>", "AWS region of the stack (else AWS_REGION or the outputs' region)")
    .option("--profile <name>", "AWS profile for the SDK's default credential chain (sets AWS_PROFILE)")
    .option("--outputs <file>", "stack outputs (`pulumi stack output --json`) naming the resources")
    .option("--json", "print one JSON document on stdout; human text and progress go to stderr only");
}

const TARGET_HELP = `
Targets:
  --local             uses the "env" object of ${LOCAL_STACK_FILE} (written by the local stack).
  otherwise (AWS)     the environment variables of the Lambda functions, overridden by --outputs keys:
${Object.entries(OUTPUT_KEYS)
  .map(([key, variable]) => `                        ${key.padEnd(20)} -> ${variable}`)
  .join("\n")}
                      and by --region. Credentials: the SDK's default chain (--profile sets AWS_PROFILE).
                      Accounts without a secret: ACCOUNTS_DB_HOST/PORT/NAME/USER/PASSWORD.`;

const PROGRAM_HELP = `
Every command accepts --local | --region/--profile/--outputs (the target) and --json.
Commands that change something accept --dry-run; purge-unconfirmed, restore and erase ask for
confirmation unless --yes (and refuse, changing nothing, when no terminal is attached).
Progress is shown on stderr when it is a terminal and --json is not given.

Exit codes: 0 success, 1 failure (including a purge or reconcile with failures, a refused purge, an
incomplete restore), 2 usage error or missing --yes without a terminal.

Run "${SERVICE} <command> --help" for a command's flags.

Examples:
  $ ${SERVICE} status --local
  $ ${SERVICE} purge-unconfirmed --local --dry-run
  $ ${SERVICE} snapshot --outputs prod.json --region eu-west-1 --profile ops
  $ ${SERVICE} restore --source latest --dry-run --json
  $ ${SERVICE} erase --local --username alice --dry-run
${TARGET_HELP}
`;

// ---- argument parsers (commander reports their errors naming the flag) ----

function validationProblem(error: unknown): string {
  if (error instanceof ValidationError) return error.message.slice(error.field.length + 2);
  throw error;
}

function parseMinAge(value: string): number {
  try {
    return parsePurgePolicy({ minAge: value }, "--min-age").minAgeMs;
  } catch (error) {
    throw new InvalidArgumentError(validationProblem(error));
  }
}

function parseMaxDeletions(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("must be a whole number");
  try {
    return parsePurgePolicy({ maxDeletionsPerRun: value.trim() }, "--max-deletions").maxDeletionsPerRun;
  } catch (error) {
    throw new InvalidArgumentError(validationProblem(error));
  }
}

function parseMaxShare(value: string): number {
  const text = value.trim();
  const ratio = text.endsWith("%") ? String(Number(text.slice(0, -1)) / 100) : text;
  if (ratio === "" || Number.isNaN(Number(ratio))) {
    throw new InvalidArgumentError("must be a ratio above 0 and at most 1 (0.05) or a percentage (5%)");
  }
  try {
    return parsePurgePolicy({ maxShareOfPool: ratio }, "--max-share").maxShareOfPool;
  } catch (error) {
    throw new InvalidArgumentError(validationProblem(error));
  }
}

function parsePositiveInteger(_flag: string) {
  return (value: string): number => {
    const parsed = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < 1) {
      throw new InvalidArgumentError("must be a whole number of at least 1");
    }
    return parsed;
  };
}

// ---- running a command ----

async function runCommand<O extends CommonOptions>(
  name: string,
  io: CliIo,
  connect: Connect,
  options: O,
  body: (ctx: Context, options: O) => Promise<Outcome>,
): Promise<number> {
  const json = options.json === true;
  const progress = new Progress(io.stderr, !json && io.stderr.isTTY === true);
  let conn: Connection | undefined;
  let target: Target | undefined;
  try {
    target = resolveTarget(options, io);
    conn = connect(target.env);
    const ctx: Context = {
      io,
      json,
      target,
      conn,
      progress,
      note: (line) => io.stderr.write(`${line}\n`),
    };
    const outcome = await body(ctx, options);
    progress.done();
    if (json) {
      const document = {
        command: name,
        ok: outcome.code === EXIT_OK,
        target: target.description,
        ...outcome.data,
      };
      io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    } else {
      for (const line of outcome.human) io.stdout.write(`${line}\n`);
    }
    return outcome.code;
  } catch (error) {
    progress.done();
    const { code, message, exitCode } = describeFailure(error, target);
    io.stderr.write(`error: ${message}\n`);
    if (json) {
      const document = { command: name, ok: false, error: { code, message } };
      io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    }
    return exitCode;
  } finally {
    await conn?.close().catch(() => undefined);
  }
}

function describeFailure(
  error: unknown,
  target: Target | undefined,
): { code: string; message: string; exitCode: number } {
  if (error instanceof UsageError) return { code: "USAGE", message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof NotConfirmedError) {
    return { code: "NOT_CONFIRMED", message: error.message, exitCode: error.exitCode };
  }
  if (error instanceof TargetError) return { code: "TARGET", message: error.message, exitCode: EXIT_FAILURE };
  if (error instanceof ValidationError && error.code === "CONFIG.INVALID") {
    const hint = target?.hint(error.field);
    return {
      code: error.code,
      message: `${error.message}${hint ? ` (${hint})` : ""}`,
      exitCode: EXIT_FAILURE,
    };
  }
  if (error instanceof LifecycleError) {
    return { code: error.code, message: `${error.code}: ${error.message}`, exitCode: EXIT_FAILURE };
  }
  const code = errorCode(error);
  const message = error instanceof Error ? `${code}: ${error.message}` : code;
  return { code, message, exitCode: EXIT_FAILURE };
}

/**
 * Asks before destructive work. `--yes` skips the question; without a terminal and without `--yes` the
 * command is refused before anything is done.
 */
function requireConsentPossible(ctx: Pick<Context, "io">, yes: boolean | undefined, what: string): void {
  if (yes || ctx.io.stdinIsTTY) return;
  throw new NotConfirmedError(
    `${what} needs confirmation and no terminal is attached: nothing was changed. ` +
      "Run it again with --yes to proceed without a question, or with --dry-run to see what it would do.",
    EXIT_USAGE,
  );
}

async function confirm(ctx: Context, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  ctx.progress.done();
  const answer = await ctx.io.prompt(`${question} [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new NotConfirmedError("Not confirmed: nothing was changed.", EXIT_FAILURE);
  }
}

// ---- progress: counting what the adapters do ----

function watchedDirectory(directory: UserDirectory, progress: Progress): UserDirectory {
  return overriding(directory, {
    listUsers: async (query) => {
      const page = await directory.listUsers(query);
      progress.add("users read", page.items.length);
      return page;
    },
    deleteUser: async (username) => {
      const deleted = await directory.deleteUser(username);
      if (deleted) progress.add("deleted");
      return deleted;
    },
    createUser: async (user) => {
      const created = await directory.createUser(user);
      progress.add("created");
      return created;
    },
  });
}

function watchedBackups(backups: BackupStore, progress: Progress): BackupStore {
  return overriding(backups, {
    putSnapshotPart: async (snapshotId, part) => {
      await backups.putSnapshotPart(snapshotId, part);
      progress.add("parts written");
    },
    putSnapshotFile: async (snapshotId, name, text) => {
      await backups.putSnapshotFile(snapshotId, name, text);
      progress.add("files written");
    },
    putUserBackup: async (record) => {
      const outcome = await backups.putUserBackup(record);
      if (outcome === "written") progress.add("backups written");
      return outcome;
    },
    getSnapshotPart: async (snapshotId, name) => {
      const text = await backups.getSnapshotPart(snapshotId, name);
      progress.add("parts read");
      return text;
    },
  });
}

function watchedAccounts(accounts: AccountStore, progress: Progress): AccountStore {
  return overriding(accounts, {
    deleteExpiredUnconfirmed: async (cutoff, limit, keys) => {
      const deleted = await accounts.deleteExpiredUnconfirmed(cutoff, limit, keys);
      progress.add("rows deleted", deleted);
      return deleted;
    },
  });
}

// ---- purge-unconfirmed ----

interface PurgeOptions extends CommonOptions {
  readonly target: "identities" | "accounts" | "both";
  readonly minAge?: number;
  readonly maxDeletions?: number;
  readonly maxShare?: number;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
}

type PurgeTargetName = "identities" | "accounts";

type PurgeResult =
  | {
      readonly target: PurgeTargetName;
      readonly report: PurgeReport;
      /**
       * Who the run deletes (a preview: would delete), masked. Accounts are deleted by query: a preview names
       * the oldest rows by email (at most 20, `more` counting the rest); a run names none.
       */
      readonly users?: readonly string[];
      readonly more?: number;
    }
  | { readonly target: PurgeTargetName; readonly error: { code: string; message: string } };

/** The plans a preview showed, carried out as they are after the confirmation. */
type PreviewedPlans = Partial<Record<PurgeTargetName, PurgePlan>>;

async function purgeCommand(ctx: Context, options: PurgeOptions): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  if (!dryRun) requireConsentPossible(ctx, options.yes, "purge-unconfirmed");
  const base = ctx.conn.purgePolicy();
  const policy: PurgePolicy = {
    minAgeMs: options.minAge ?? base.minAgeMs,
    maxDeletionsPerRun: options.maxDeletions ?? base.maxDeletionsPerRun,
    maxShareOfPool: options.maxShare ?? base.maxShareOfPool,
    dryRun,
  };
  const targets: ("identities" | "accounts")[] =
    options.target === "both" ? ["identities", "accounts"] : [options.target];

  let previewed: PreviewedPlans | undefined;
  if (!dryRun && !options.yes) {
    previewed = {};
    const preview = await purgeAll(ctx, targets, { ...policy, dryRun: true }, undefined, previewed);
    for (const line of purgeLines(ctx, preview, policy, "preview")) ctx.note(line);
    if (preview.some((result) => "error" in result)) {
      throw new NotConfirmedError("The preview failed: nothing was deleted.", EXIT_FAILURE);
    }
    await confirm(ctx, options.yes, `Delete exactly these unconfirmed ${targets.join(" and ")} now?`);
  }
  // After a confirmation, the run carries out the plans the preview showed (their cutoff, their users), never
  // a new listing.
  const results = await purgeAll(ctx, targets, policy, previewed);
  const failed = results.some(
    (result) =>
      "error" in result || result.report.failed > 0 || (!dryRun && result.report.refused !== undefined),
  );
  return {
    code: failed ? EXIT_FAILURE : EXIT_OK,
    data: {
      dryRun,
      policy: { ...policy, minAge: formatDuration(policy.minAgeMs) },
      results,
    },
    human: purgeLines(ctx, results, policy, dryRun ? "dry-run" : "run"),
  };
}

/**
 * Runs each target's purge. `previewed`: the plans a preview showed, carried out as they are. `keep`: where a
 * preview keeps its plans.
 */
async function purgeAll(
  ctx: Context,
  targets: readonly PurgeTargetName[],
  policy: PurgePolicy,
  previewed?: PreviewedPlans,
  keep?: PreviewedPlans,
): Promise<PurgeResult[]> {
  const results: PurgeResult[] = [];
  for (const target of targets) {
    ctx.progress.start(`purge ${target}${policy.dryRun ? " (preview)" : ""}`);
    let plan: PurgePlan | undefined;
    const deleted: string[] = [];
    const given = previewed?.[target];
    const run = {
      ...(given ? { previewed: given } : {}),
      onPlan: (made: PurgePlan) => {
        plan = made;
        if (keep) keep[target] = made;
      },
      onDeleted: (id: string) => deleted.push(id),
    };
    const users = () =>
      target === "accounts"
        ? undefined
        : (policy.dryRun ? (plan?.toDelete ?? []) : deleted).map(maskIdentifier);
    try {
      const report =
        target === "identities"
          ? await purgeIdentities(ctx, policy, run)
          : await purgeUnconfirmedAccountsHandler({
              accounts: async (options) => watchedAccounts(await ctx.conn.accounts(options), ctx.progress),
              clock: ctx.conn.clock,
              observability: silentObservability,
              policy,
              run: { ...(given ? { previewed: given } : {}), onPlan: run.onPlan },
              ...ctx.conn.accountsPurgeSizes(),
            })({});
      const names = users();
      if (target === "accounts" && policy.dryRun && plan && "limit" in plan) {
        // A preview names the rows it would delete (masked); the emails never leave this process unmasked.
        const named = await nameAccountPurge(
          await ctx.conn.accounts({ refreshCredentials: false }),
          plan as AccountPurgePlan,
        );
        results.push({ target, report, users: named.masked, more: named.more });
      } else {
        results.push({ target, report, ...(names ? { users: names } : {}) });
      }
    } catch (error) {
      if (error instanceof RunFailedError) {
        const names = users();
        results.push({ target, report: error.report as PurgeReport, ...(names ? { users: names } : {}) });
      } else {
        const failure = describeFailure(error, ctx.target);
        results.push({ target, error: { code: failure.code, message: failure.message } });
      }
    } finally {
      ctx.progress.done();
    }
  }
  return results;
}

/** The largest step of an identity purge run from here: what one Lambda invocation of it may take. */
const IDENTITY_PURGE_STEP_MS = 14 * 60_000;

/**
 * The identity purge in this process, its steps one after another with `runSteps` (the same steps the
 * function runs), until its plan is carried out, refused or previewed.
 */
async function purgeIdentities(
  ctx: Context,
  policy: PurgePolicy,
  run: Pick<StartPurgeOptions, "previewed"> & Pick<PurgeStepOptions, "onPlan" | "onDeleted">,
): Promise<PurgeReport> {
  const deps = { directory: watchedDirectory(ctx.conn.directory(), ctx.progress), clock: ctx.conn.clock };
  const initial = startIdentityPurge(deps.clock, {
    policy,
    ...(run.previewed ? { previewed: run.previewed } : {}),
  });
  if (run.previewed) run.onPlan?.(run.previewed);
  const { state } = await runSteps(
    identityPurgeStep(deps, {
      ...(run.onPlan ? { onPlan: run.onPlan } : {}),
      ...(run.onDeleted ? { onDeleted: run.onDeleted } : {}),
    }),
    initial,
    { clock: deps.clock, stepBudgetMs: IDENTITY_PURGE_STEP_MS },
  );
  return identityPurgeReport(deps.clock, state);
}

function purgeLines(
  ctx: Context,
  results: readonly PurgeResult[],
  policy: PurgePolicy,
  mode: "preview" | "dry-run" | "run",
): string[] {
  const title = {
    preview: " — PREVIEW: nothing has been deleted yet; confirming deletes exactly these",
    "dry-run": " — dry run, nothing deleted",
    run: "",
  }[mode];
  const lines = [
    `Purge of unconfirmed users on ${ctx.target.description}${title}`,
    `  policy: older than ${formatDuration(policy.minAgeMs)}, at most ${policy.maxDeletionsPerRun} per target, ` +
      `refused above ${(policy.maxShareOfPool * 100).toFixed(2).replace(/\.?0+$/, "")}% of the pool`,
  ];
  for (const result of results) {
    if ("error" in result) {
      lines.push(`  ${result.target}: FAILED — ${result.error.message}`);
      continue;
    }
    const r = result.report;
    const planned = r.refused !== undefined ? 0 : Math.max(0, r.eligible - r.deferred);
    const skipped = Object.entries(r.skippedByReason)
      .map(([reason, count]) => `${reason} ${count}`)
      .join(", ");
    lines.push(
      `  ${r.target}: ${mode === "run" ? `deleted ${r.deleted}` : `would delete ${planned}`} of ${r.eligible} eligible ` +
        `(${r.candidates} candidates, cutoff ${r.cutoff})`,
      result.users === undefined
        ? `    who: rows of the accounts table, at most ${mode === "run" ? r.deleted : planned}, unconfirmed and sent before the cutoff, oldest first`
        : `    who${mode === "run" ? " (deleted)" : ""}: ${result.users.length ? result.users.join(", ") : "nobody"}` +
            (result.more ? ` and ${result.more} more` : ""),
      `    deferred to a later run: ${r.deferred}; skipped: ${skipped || "none"}; failed: ${r.failed}` +
        (r.failed > 0
          ? ` (${Object.entries(r.failureCodes)
              .map(([c, n]) => `${c} ${n}`)
              .join(", ")})`
          : ""),
      `    stopped by: ${r.stoppedBy}${r.refused ? ` — REFUSED: ${r.refused}` : ""}`,
    );
  }
  return lines;
}

// ---- snapshot ----

interface DryRunOptions extends CommonOptions {
  readonly dryRun?: boolean;
}

async function snapshotCommand(ctx: Context, options: DryRunOptions): Promise<Outcome> {
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
            `Left out ${manifest.skipped} user(s) that cannot be backed up: ${Object.entries(
              manifest.skipReasons,
            )
              .map(([code, n]) => `${code} ${n}`)
              .join(", ")}`,
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

// ---- reconcile ----

async function reconcileCommand(ctx: Context, options: DryRunOptions): Promise<Outcome> {
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
  const codes = Object.entries(report.failureCodes)
    .map(([code, count]) => `${code} ${count}`)
    .join(", ");
  return {
    code: report.failed > 0 ? EXIT_FAILURE : EXIT_OK,
    data: { dryRun, userPoolId, ...report },
    human: [
      `Reconcile of ${userPoolId}${dryRun ? " — dry run, nothing written" : ""}`,
      `  confirmed users checked: ${report.checked}`,
      `  profiles ${verb}created: ${report.profilesCreated}`,
      `  backups ${verb}written: ${report.backupsWritten} (already current: ${report.backupsCurrent})`,
      `  failed: ${report.failed}${codes ? ` (${codes})` : ""}`,
      `  left alone: ${report.skipped}${
        report.skipped > 0
          ? ` (${Object.entries(report.skipReasons)
              .map(([code, count]) => `${code} ${count}`)
              .join(", ")})`
          : ""
      }`,
      `  stopped by: ${report.stoppedBy}`,
    ],
  };
}

// ---- restore ----

interface RestoreOptions extends CommonOptions {
  readonly source: string;
  readonly strategy: "import-job" | "admin-create";
  readonly user?: string[];
  readonly targetPool?: string;
  readonly planId?: string;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
}

/**
 * How long each restore step the CLI runs may advance before it reports progress. The CLI runs the restore
 * in-process, step after step as the Lambda function would across invocations, and prints where it is
 * between two steps.
 */
const RESTORE_STEP_MS = 60_000;
const restoreStepContext = { getRemainingTimeInMillis: () => RESTORE_STEP_MS + DEADLINE_MARGIN_MS };

const RESTORE_FLAGS: Readonly<Record<string, string>> = {
  planId: "--plan-id",
  source: "--source",
  strategy: "--strategy",
  usernames: "--user",
  targetUserPoolId: "--target-pool",
};

async function restoreCommand(ctx: Context, options: RestoreOptions): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  const event = {
    source:
      options.source === "latest" || options.source === "user-backups"
        ? options.source
        : { snapshotId: options.source },
    strategy: options.strategy,
    ...(options.user ? { usernames: options.user } : {}),
    ...(options.targetPool !== undefined ? { targetUserPoolId: options.targetPool } : {}),
  };
  const parsed = restoreEventSchema.safeParse(
    options.planId === undefined
      ? { action: "plan", ...event }
      : { action: "status", planId: options.planId },
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = RESTORE_FLAGS[String(issue?.path[0])] ?? "restore";
    throw new UsageError(`${flag}: ${issue?.message ?? "is invalid"}`);
  }
  if (!dryRun) requireConsentPossible(ctx, options.yes, "restore");
  const backups = watchedBackups(ctx.conn.backups(), ctx.progress);
  const stored = ctx.conn.restores();
  /** The restore being run, once known: named on stderr the moment its plan is stored, and on any failure. */
  let planId = options.planId;
  const restores = overriding(stored, {
    putRestorePlan: async (plan) => {
      await stored.putRestorePlan(plan);
      planId = plan.plan.planId;
      ctx.progress.done();
      ctx.note(`restore ${planId}: plan stored (if interrupted, carry it on with --plan-id ${planId})`);
    },
  });
  const handler = restoreHandler({
    backups,
    restores,
    erasures: ctx.conn.erasures(),
    target: (userPoolId) => ({
      directory: watchedDirectory(ctx.conn.directory(userPoolId), ctx.progress),
      importer: ctx.conn.importer(userPoolId),
    }),
    clock: ctx.conn.clock,
    sleeper: ctx.conn.sleeper,
    observability: silentObservability,
  });
  /** One step: a summary, also when the handler reports an incomplete restore by failing. */
  const step = async (request: Record<string, unknown>): Promise<RestoreSummary> => {
    try {
      return await handler(request, restoreStepContext);
    } catch (error) {
      if (!(error instanceof RunFailedError)) throw error;
      return error.report as RestoreSummary;
    }
  };
  const poolOf = (summary: RestoreSummary) =>
    summary.targetUserPoolId ?? options.targetPool ?? ctx.conn.userPoolId();
  const eta = new RestoreEta(ctx.conn.clock);
  try {
    return await runRestore();
  } catch (error) {
    if (planId !== undefined) {
      ctx.progress.done();
      ctx.note(
        `restore ${planId} stopped (${describeFailure(error, ctx.target).code}): nothing done is lost; ` +
          `carry it on with --plan-id ${planId}`,
      );
    }
    throw error;
  }

  async function runRestore(): Promise<Outcome> {
    let summary: RestoreSummary;
    // The same request run again after an interruption carries the unfinished restore on: a new plan would take
    // the users it brought back as already there, and leave their groups and disabled flags undone.
    const unfinished =
      options.planId === undefined && !dryRun
        ? await findUnfinishedRestore(stored, {
            source: toRestoreSource(event.source),
            strategy: event.strategy,
            ...(event.usernames ? { usernames: event.usernames } : {}),
            ...(event.targetUserPoolId === undefined ? {} : { targetUserPoolId: event.targetUserPoolId }),
          })
        : undefined;
    if (unfinished) {
      planId = unfinished.stored.plan.planId;
      ctx.note(`restore ${planId} of the same request is unfinished: carrying it on (--plan-id ${planId})`);
    }
    if (planId === undefined) {
      ctx.progress.start("planning the restore");
      const plan = await handler({ ...event, action: "plan" });
      ctx.progress.done();
      const pool = poolOf(plan);
      if (dryRun) {
        return {
          code: EXIT_OK,
          data: { dryRun, targetUserPoolId: pool, ...plan },
          human: restoreLines(plan, pool),
        };
      }
      if (!options.yes) {
        for (const line of restoreLines(plan, pool)) ctx.note(line);
        await confirm(ctx, options.yes, `Restore ${plan.planned} users into ${pool}?`);
      }
      ctx.progress.start(`restoring into ${pool}`);
      eta.begin();
      summary = await step({ ...event, action: "start" });
    } else {
      ctx.progress.start(`reading restore ${planId}`);
      summary = await step({ action: "status", planId });
      ctx.progress.done();
      const pool = poolOf(summary);
      if (dryRun || summary.state === "finished") {
        return {
          code: dryRun || summary.complete ? EXIT_OK : EXIT_FAILURE,
          data: { dryRun, targetUserPoolId: pool, ...summary },
          human: restoreLines(summary, pool),
        };
      }
      if (!options.yes) {
        for (const line of restoreLines(summary, pool)) ctx.note(line);
        await confirm(ctx, options.yes, `Carry on restore ${summary.planId} into ${pool}?`);
      }
      ctx.progress.start(`restoring into ${pool}`);
      eta.begin(summary);
      summary = await step({ action: "resume", planId: summary.planId });
    }
    while (summary.state === "running") {
      ctx.progress.done();
      ctx.note(progressLine(summary, eta.left(summary)));
      ctx.progress.start(`restoring into ${poolOf(summary)}`);
      summary = await step({ action: "resume", planId: summary.planId });
    }
    ctx.progress.done();
    const pool = poolOf(summary);
    return {
      code: summary.complete ? EXIT_OK : EXIT_FAILURE,
      data: { dryRun, targetUserPoolId: pool, ...summary },
      human: restoreLines(summary, pool),
    };
  }
}

function toRestoreSource(source: string | { snapshotId: string }): RestoreSource {
  if (typeof source !== "string") return { kind: "snapshot", snapshotId: source.snapshotId };
  return source === "user-backups" ? { kind: "user-backups" } : { kind: "latest" };
}

/** A restore's work as units: each planned user is brought back, then finalized (groups, flags). */
function restoreWork(summary: RestoreSummary): { done: number; total: number } {
  const p = summary.progress;
  if (!p) return { done: 0, total: 2 * summary.planned };
  const chunkShare = p.chunks === 0 ? 1 : p.chunksDone / p.chunks;
  return {
    done: Math.round(chunkShare * summary.planned) + p.usersFinalized,
    total: 2 * summary.planned,
  };
}

/** The time left, from the pace of this run so far (the clock of the connection). */
class RestoreEta {
  private first?: { at: number; done: number };

  constructor(private readonly clock: { now(): Date }) {}

  /** Where this run starts from: nothing done (a new restore), or what a resumed one had done. */
  begin(summary?: RestoreSummary): void {
    this.first = { at: this.clock.now().getTime(), done: summary ? restoreWork(summary).done : 0 };
  }

  /** Milliseconds left, or `undefined` until this run has made progress to measure. */
  left(summary: RestoreSummary): number | undefined {
    const { done, total } = restoreWork(summary);
    const now = this.clock.now().getTime();
    if (this.first === undefined) {
      this.first = { at: now, done };
      return undefined;
    }
    const rate = (done - this.first.done) / (now - this.first.at);
    if (!(rate > 0)) return undefined;
    return (total - done) / rate;
  }
}

function progressLine(summary: RestoreSummary, leftMs?: number): string {
  const p = summary.progress;
  const { done, total } = restoreWork(summary);
  return (
    `restore ${summary.planId}: ${summary.state}` +
    (p
      ? `; ${done}/${total} done (users brought back, then finalized)` +
        `; chunks ${p.chunksDone}/${p.chunks}, users finalized ${p.usersFinalized}/${summary.planned}` +
        `; ${leftMs === undefined ? "time left: measuring" : `about ${formatAge(Math.max(1000, leftMs))} left`}`
      : "") +
    (summary.state === "running" ? ` (resume: --plan-id ${summary.planId})` : "")
  );
}

function restoreLines(summary: RestoreSummary, pool: string): string[] {
  const masked = (names: readonly string[]) => names.map(maskIdentifier).join(", ");
  const source =
    summary.source.kind === "snapshot" || summary.source.snapshotId
      ? `${summary.source.kind} ${summary.source.snapshotId ?? ""}`.trim()
      : summary.source.kind;
  const lines = [
    `${summary.action === "plan" ? "Restore plan" : "Restore"} ${summary.planId} into ${pool} ` +
      `(source: ${source}, ${summary.source.userBackupsUsed} per-user backups used; strategy ${summary.strategy})`,
    `  users to restore: ${summary.planned}`,
    `  already in the pool (left untouched): ${summary.existing}`,
    `  cannot be restored: ${summary.skipped.length}`,
    ...summary.skipped.map(({ username, reason }) => `    ${maskIdentifier(username)}: ${reason}`),
  ];
  if (summary.notFound.length) lines.push(`  requested but in no backup: ${masked(summary.notFound)}`);
  if (summary.malformedBackups.length) {
    lines.push(`  unreadable backups: ${summary.malformedBackups.join(", ")}`);
  }
  if (summary.state === "running") {
    lines.push(`  ${progressLine(summary)}`);
  } else if (summary.state === "finished") {
    lines.push(
      `  restored: ${summary.restored ?? 0}; groups created: ${summary.groupsCreated ?? 0}; ` +
        `memberships added: ${summary.membershipsAdded ?? 0}; disabled again: ${summary.disabled ?? 0}`,
      `  failed: ${summary.failed ?? 0}${
        summary.failureCodes && Object.keys(summary.failureCodes).length
          ? ` (${Object.entries(summary.failureCodes)
              .map(([code, count]) => `${code} ${count}`)
              .join(", ")})`
          : ""
      }`,
    );
    if (summary.missing?.length) lines.push(`  missing after the restore: ${masked(summary.missing)}`);
    lines.push(summary.complete ? "  complete." : "  INCOMPLETE: see above.");
  } else {
    lines.push("  (plan only: nothing was changed)");
  }
  return lines;
}

// ---- erase ----

interface EraseOptions extends CommonOptions {
  readonly username?: string;
  readonly userId?: string;
  readonly deleteAccountRow?: boolean;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
}

async function eraseCommand(ctx: Context, options: EraseOptions): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  const deleteAccountRow = options.deleteAccountRow === true;
  const request = {
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.userId !== undefined ? { userId: options.userId } : {}),
  };
  if (!eraseEventSchema.safeParse(request).success) {
    throw new UsageError("--username or --user-id: give a username, a user id, or both (non-empty)");
  }
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

// ---- status ----

interface StatusOptions extends CommonOptions {
  readonly snapshots: number;
}

type Section<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

async function section<T>(ctx: Context, work: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: describeFailure(error, ctx.target).message };
  }
}

async function statusCommand(ctx: Context, options: StatusOptions): Promise<Outcome> {
  const now = ctx.conn.clock.now();
  ctx.progress.start("reading status");
  const pool = await section(ctx, async () => ({
    userPoolId: ctx.conn.userPoolId(),
    estimatedUsers: await ctx.conn.directory().estimatedUserCount(),
  }));
  const snapshots = await section(ctx, async () => {
    const backups = ctx.conn.backups();
    const ids = await backups.listSnapshots();
    const newest = ids.slice(-options.snapshots).reverse();
    const shown = [];
    for (const id of newest) {
      const manifest = await backups.getSnapshotManifest(id);
      shown.push({
        snapshotId: id,
        users: manifest.userCount,
        groups: manifest.groups.length,
        completedAt: manifest.completedAt,
        userPoolId: manifest.userPoolId,
      });
      ctx.progress.add("snapshots read");
    }
    const latest = shown[0];
    return {
      count: ids.length,
      newest: shown,
      newestAgeMs: latest ? Math.max(0, now.getTime() - latest.completedAt.getTime()) : undefined,
    };
  });
  const accounts = await section(ctx, async () => {
    const policy = ctx.conn.purgePolicy();
    const store = await ctx.conn.accounts({ refreshCredentials: false });
    return {
      rows: await store.countAll(),
      eligibleForPurge: await store.countExpiredUnconfirmed(purgeCutoff(now, policy.minAgeMs)),
      minAge: formatDuration(policy.minAgeMs),
    };
  });
  const restores = await section(ctx, async () =>
    (await listUnfinishedRestores(ctx.conn.restores())).map((status) => ({
      planId: status.plan.planId,
      ...(status.targetUserPoolId === undefined ? {} : { targetUserPoolId: status.targetUserPoolId }),
      strategy: status.plan.strategy,
      planned: status.plan.users.length,
      progress: status.progress,
    })),
  );
  ctx.progress.done();

  const lines = [`Status of ${ctx.target.description}`];
  lines.push(
    pool.ok
      ? `  pool ${pool.value.userPoolId}: about ${pool.value.estimatedUsers} users`
      : `  pool: unavailable — ${pool.error}`,
  );
  if (snapshots.ok) {
    const s = snapshots.value;
    lines.push(
      `  snapshots: ${s.count}${s.newestAgeMs !== undefined ? `, newest ${formatAge(s.newestAgeMs)} old` : " (none yet)"}`,
      ...s.newest.map(
        (snap) =>
          `    ${snap.snapshotId}  ${snap.users} users, ${snap.groups} groups, completed ${snap.completedAt.toISOString()}`,
      ),
    );
  } else {
    lines.push(`  snapshots: unavailable — ${snapshots.error}`);
  }
  lines.push(
    accounts.ok
      ? `  accounts table: ${accounts.value.rows} rows, ${accounts.value.eligibleForPurge} unconfirmed for more than ${accounts.value.minAge}`
      : `  accounts table: unavailable — ${accounts.error}`,
  );
  if (restores.ok) {
    lines.push(`  unfinished restores: ${restores.value.length === 0 ? "none" : restores.value.length}`);
    for (const r of restores.value) {
      lines.push(
        `    ${r.planId}  ${r.planned} users (${r.strategy}), chunks ${r.progress.chunksDone}/${r.progress.chunks}, ` +
          `finalized ${r.progress.usersFinalized}/${r.planned}; carry it on: restore --plan-id ${r.planId}`,
      );
    }
  } else {
    lines.push(`  unfinished restores: unavailable — ${restores.error}`);
  }
  const failed = !pool.ok || !snapshots.ok || !accounts.ok || !restores.ok;
  return {
    code: failed ? EXIT_FAILURE : EXIT_OK,
    data: { pool, snapshots, accounts, unfinishedRestores: restores },
    human: lines,
  };
}

function formatAge(ms: number): string {
  const rounded = ms >= 60_000 ? Math.floor(ms / 60_000) * 60_000 : Math.floor(ms / 1000) * 1000;
  return rounded === 0 ? "0s" : formatDuration(rounded);
}
