/**
 * The command line of `npm run bench`: which scenarios, how large, where the results go. Parsing is pure
 * (no I/O besides commander's own help and error output), so the unit test can check every rule.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import {
  DEFAULT_PURGE_BATCH_SIZE,
  DEFAULT_PURGE_LANES,
  DEFAULT_STATEMENT_TARGET_MS,
  MAX_PURGE_BATCH_SIZE,
  MAX_PURGE_LANES,
} from "../../core/use-cases/purge-unconfirmed-accounts.js";

/**
 * The scenarios, by id, in the order they run. Those marked `onlyWhenAsked` (the scale runs, minutes to hours)
 * run only when `--only` names them.
 */
export const SCENARIOS = [
  { id: "accounts-purge", number: "1", title: "Accounts purge on MariaDB" },
  { id: "identity-purge", number: "2", title: "Identity purge at Cognito's quotas" },
  { id: "restore-csv", number: "3a", title: "Restore planning: import CSV files from a snapshot" },
  { id: "backup-reads", number: "3b", title: "Restore planning: reading per-user backups from s3rver" },
  { id: "post-confirmation", number: "4", title: "Post Confirmation handler" },
  {
    id: "scale",
    number: "5",
    title: "Every job at scale: generated pool, quotas on a virtual clock",
    onlyWhenAsked: true,
  },
] as const;

export type ScenarioId = (typeof SCENARIOS)[number]["id"];

export interface BenchOptions {
  readonly only: readonly ScenarioId[];
  readonly out: string;
  // 1. accounts purge
  readonly rows: number;
  readonly batchSize: number;
  readonly lanes: number;
  readonly statementTargetMs: number;
  readonly bufferPoolMb: number;
  readonly insertWriters: number;
  // 2. identity purge
  readonly users: number;
  readonly deleteRate: number;
  // 3a / 3b. restore planning
  readonly csvUsers: number;
  readonly backups: number;
  readonly readConcurrency: number;
  readonly baselineCapSeconds: number;
  // 4. post confirmation
  readonly invocations: number;
  readonly coldStarts: number;
  // 5. scale
  readonly scaleUsers: number;
  readonly scalePurgeUsers: number;
  /** Seed of the crashes injected into the stepped snapshot (which steps, when in them). */
  readonly scaleSeed: number;
}

/** The defaults: the whole run stays under 5 minutes on a 2-core machine. */
export const DEFAULTS = {
  out: "bench/results.json",
  rows: 1_000_000,
  batchSize: DEFAULT_PURGE_BATCH_SIZE,
  lanes: DEFAULT_PURGE_LANES,
  statementTargetMs: DEFAULT_STATEMENT_TARGET_MS,
  bufferPoolMb: 256,
  insertWriters: 2,
  users: 1_000,
  deleteRate: 21,
  csvUsers: 500_000,
  backups: 10_000,
  readConcurrency: 16,
  baselineCapSeconds: 60,
  invocations: 300,
  coldStarts: 5,
  scaleUsers: 1_000_000,
  scalePurgeUsers: 4_000_000,
  scaleSeed: 20261208,
} as const;

/** The sizes the issue names; a smaller default is said so in the output. */
export const ISSUE_SIZES = {
  rows: 1_000_000,
  users: 3_000,
  csvUsers: 500_000,
  backups: 10_000,
  scaleUsers: 10_000_000,
  scalePurgeUsers: 40_000_000,
} as const;

/**
 * A commander parser for a whole number from `min` to `max`. Accepts `_` and `,` as thousands separators
 * (`1_000_000`, `1,000,000`); rejects everything else with a message naming the flag and the range.
 */
export function wholeNumber(flag: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const cleaned = value.trim().replace(/[_,]/g, "");
    const n = /^\d+$/.test(cleaned) ? Number(cleaned) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${flag} must be a whole number from ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}, got "${value}".`,
      );
    }
    return n;
  };
}

/**
 * Reads `--only`: scenario ids or numbers, comma-separated (`1,3b`, `accounts-purge`). `3` means 3a and 3b.
 * Returns them in run order, without repeats.
 */
export function parseOnly(value: string): ScenarioId[] {
  const wanted = new Set<ScenarioId>();
  const names = value
    .split(",")
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== "");
  if (names.length === 0) throw new InvalidArgumentError(`--only needs at least one scenario. ${known()}`);
  for (const name of names) {
    const chosen = SCENARIOS.filter(
      (scenario) =>
        scenario.id === name || scenario.number === name || scenario.number.replace(/[a-z]$/, "") === name,
    );
    if (chosen.length === 0) throw new InvalidArgumentError(`unknown scenario "${name}". ${known()}`);
    for (const scenario of chosen) wanted.add(scenario.id);
  }
  return SCENARIOS.map((scenario) => scenario.id).filter((id) => wanted.has(id));
}

function known(): string {
  return `Known: ${SCENARIOS.map((scenario) => `${scenario.number} ${scenario.id}`).join(", ")}.`;
}

/** The CLI, with every flag, its default and its range in `--help`. */
export function buildProgram(): Command {
  const program = new Command("npm run bench --")
    .description(
      "Side-by-side benchmarks: each scenario runs the project's code and a baseline doing the same job the " +
        "straightforward way, in the same run, then prints a table and writes a JSON report. Targets are " +
        "reported, never enforced: the exit code is non-zero only when a benchmark could not run.",
    )
    .addOption(
      new Option("--only <scenarios>", "comma-separated scenario ids or numbers (3 = 3a and 3b)").argParser(
        parseOnly,
      ),
    )
    .option("--out <file>", "where to write the JSON report", DEFAULTS.out)
    .option(
      "--rows <n>",
      "1: rows in the users table, half of them expired unconfirmed",
      wholeNumber("--rows", 1_000, 20_000_000),
      DEFAULTS.rows,
    )
    .option(
      "--batch-size <n>",
      "1: rows per DELETE of the batched purge (the handler's PURGE_BATCH_SIZE default)",
      wholeNumber("--batch-size", 1, MAX_PURGE_BATCH_SIZE),
      DEFAULTS.batchSize,
    )
    .option(
      "--lanes <n>",
      "1: statements a key-range walk runs side by side (the use case's default)",
      wholeNumber("--lanes", 1, MAX_PURGE_LANES),
      DEFAULTS.lanes,
    )
    .option(
      "--statement-target-ms <n>",
      "1: how long a key-range statement should take (the use case's default)",
      wholeNumber("--statement-target-ms", 1, 1_000),
      DEFAULTS.statementTargetMs,
    )
    .option(
      "--buffer-pool-mb <n>",
      "1: InnoDB buffer pool of the throwaway MariaDB, 0 keeps the local stand-in's 32 MB",
      wholeNumber("--buffer-pool-mb", 0, 8_192),
      DEFAULTS.bufferPoolMb,
    )
    .option(
      "--insert-writers <n>",
      "1: connections inserting new sign-ups while a purge runs",
      wholeNumber("--insert-writers", 1, 16),
      DEFAULTS.insertWriters,
    )
    .option(
      "--users <n>",
      `2: expired unconfirmed users in the pool (the issue's size: ${ISSUE_SIZES.users.toLocaleString("en-US")}; ~1 s per 21 users)`,
      wholeNumber("--users", 10, 100_000),
      DEFAULTS.users,
    )
    .option(
      "--delete-rate <n>",
      "2: AdminDeleteUser calls per second the purge paces itself to (the adapter's default 21; quota 25)",
      wholeNumber("--delete-rate", 1, 25),
      DEFAULTS.deleteRate,
    )
    .option(
      "--csv-users <n>",
      "3a: users in the snapshot turned into import CSV files",
      wholeNumber("--csv-users", 1, 5_000_000),
      DEFAULTS.csvUsers,
    )
    .option(
      "--backups <n>",
      "3b: per-user backups in s3rver to read",
      wholeNumber("--backups", 1, 200_000),
      DEFAULTS.backups,
    )
    .option(
      "--read-concurrency <n>",
      "3b: S3BackupStore readConcurrency (the adapter's default 16)",
      wholeNumber("--read-concurrency", 1, 1_000),
      DEFAULTS.readConcurrency,
    )
    .option(
      "--baseline-cap <seconds>",
      "3a/3b: time cap for a baseline that may never finish",
      wholeNumber("--baseline-cap", 1, 3_600),
      DEFAULTS.baselineCapSeconds,
    )
    .option(
      "--invocations <n>",
      "4: warm invocations of each handler",
      wholeNumber("--invocations", 10, 100_000),
      DEFAULTS.invocations,
    )
    .option(
      "--cold-starts <n>",
      "4: fresh processes for the cold module init time",
      wholeNumber("--cold-starts", 1, 100),
      DEFAULTS.coldStarts,
    )
    .option(
      "--scale-users <n>",
      `5: users of the generated pool the snapshot and reconcile run over (the issue's size: ${ISSUE_SIZES.scaleUsers.toLocaleString("en-US")})`,
      wholeNumber("--scale-users", 1_000, 40_000_000),
      DEFAULTS.scaleUsers,
    )
    .option(
      "--scale-purge-users <n>",
      `5: users of the generated pool the identity purge runs over, 2% unconfirmed (the issue's size: ${ISSUE_SIZES.scalePurgeUsers.toLocaleString("en-US")})`,
      wholeNumber("--scale-purge-users", 1_000, 40_000_000),
      DEFAULTS.scalePurgeUsers,
    )
    .option(
      "--scale-seed <n>",
      "5: seed of the 5 crashes injected into the stepped snapshot (which steps, and when in them)",
      wholeNumber("--scale-seed", 0, 2 ** 32 - 1),
      DEFAULTS.scaleSeed,
    )
    .addHelpText(
      "after",
      `\nScenarios:\n${SCENARIOS.map((s) => `  ${s.number.padEnd(3)} ${s.id.padEnd(18)} ${s.title}`).join("\n")}\n\n` +
        "Scenario 5 (scale) runs only when --only names it.\n\n" +
        "Examples:\n  npm run bench\n  npm run bench -- --only scale --scale-users 10,000,000\n  npm run bench -- --only 1 --rows 2,000,000\n  npm run bench -- --only 2 --users 3000\n",
    );
  return program;
}

/**
 * Parses user arguments (without `node` and the script). With `exitOverride`, a bad flag throws commander's
 * error (its message names the flag) instead of printing and exiting: for tests.
 */
export function parseArgs(argv: readonly string[], options: { exitOverride?: boolean } = {}): BenchOptions {
  const program = buildProgram();
  if (options.exitOverride) {
    program.exitOverride();
    program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  }
  program.parse([...argv], { from: "user" });
  const opts = program.opts<
    Omit<BenchOptions, "only" | "baselineCapSeconds"> & {
      only?: ScenarioId[];
      baselineCap: number;
    }
  >();
  const { only, baselineCap, ...rest } = opts;
  const byDefault = SCENARIOS.filter((s) => !("onlyWhenAsked" in s)).map((s) => s.id);
  return { ...rest, only: only ?? byDefault, baselineCapSeconds: baselineCap };
}
