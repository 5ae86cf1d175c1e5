/**
 * 1. Accounts purge on MariaDB. The `users` table (created by the project's migration, with users_purge_idx)
 * is seeded with `--rows` rows, half of them expired unconfirmed, once per side:
 * - baseline: the seed article's one DELETE of every expired row, in a single statement;
 * - ours: purgeUnconfirmedAccounts over MysqlAccountStore, with the handler's defaults: half the table expired is a
 *   mass purge, so it walks the table by primary key, `--lanes` statements side by side, each stretch of keys
 *   sized to take about `--statement-target-ms` (starting from `--batch-size` rows).
 * While each runs, `--insert-writers` connections insert new sign-ups one row at a time; their latency is
 * what a purge costs the application.
 *
 * A DELETE returns once its rows are delete-marked; InnoDB's purge thread removes them (and their index entries)
 * afterwards, in the background. The single DELETE leaves all of that work for later, while the batched purge
 * pays for much of it as it goes (the purge thread cleans batch n while batch n + 1 runs). So besides the time
 * of the statements, each side is also timed until InnoDB has purged the rows it deleted.
 */
import { performance } from "node:perf_hooks";
import { drizzle } from "drizzle-orm/mysql2";
import { createPool, type Pool } from "mysql2/promise";
import { MysqlAccountStore } from "../../adapters/mysql/account-store.js";
import { migrateAccounts } from "../../adapters/mysql/migrate.js";
import { createAccountsPool } from "../../adapters/mysql/pool.js";
import { systemClock } from "../../adapters/shared/time.js";
import type { AccountKeyBounds, AccountKeyRange, AccountStore } from "../../core/ports/account-store.js";
import { parsePurgePolicy, type PurgeReport } from "../../core/purge/index.js";
import { purgeUnconfirmedAccounts } from "../../core/use-cases/purge-unconfirmed-accounts.js";
import {
  DEFAULT_INNODB_LOG_FILE_SIZE_MB,
  findMariaDb,
  MARIADB_INSTALL_HINT,
  type MysqlConnection,
  startMariaDb,
} from "../../local/services/mariadb.js";
import { ISSUE_SIZES } from "../lib/args.js";
import type { Scenario } from "../lib/scenario.js";
import { BenchSetupError, sleep } from "../lib/services.js";
import { type LatencySummary, summarize } from "../lib/stats.js";
import { formatNumber } from "../lib/table.js";

/** The seed article's statement, word for word in meaning: one DELETE of every expired unconfirmed row. */
const BASELINE_DELETE =
  "DELETE FROM users WHERE confirmed_at IS NULL AND confirmation_sent_at < NOW() - INTERVAL 1 DAY";

/**
 * The redo log of the throwaway server, in MB. The test stand-in's 16 MB forces checkpoints a production server
 * would not: MariaDB's own default `innodb_log_file_size` is 96 MiB, RDS for MySQL 8.0.30+ defaults to a redo
 * capacity of 100 MiB and 8.4 scales it with the instance (vCPUs / 2 GiB). 128 MB is on the small side of that.
 */
const REDO_LOG_MB = 128;

/** How often the history list is read while waiting for InnoDB's purge, and for how long at most. */
const PURGE_POLL_MS = 100;
const PURGE_WAIT_CAP_MS = 60_000;
/**
 * "Back near its level before the purge": the history list length at most this many entries above the value read
 * right before the side started. The sign-ups alone keep it moving (each committed INSERT is one entry until
 * purged; with 2 writers it swings between 0 and ~120 as the purge thread truncates it in rounds).
 */
const HISTORY_ALLOWANCE = 100;
/** Before each side, the history left by the seeding must be down to this (no load running), 30 s at most. */
const QUIET_HISTORY = 10;

/** Targets from the issue. */
const MAX_TIME_RATIO = 1.25;
const MAX_STATEMENT_MS = 200;
const MAX_INSERT_P99_MS = 50;

export const accountsPurge: Scenario = async ({ options, cleanup, log }) => {
  if (!findMariaDb()) {
    throw new BenchSetupError(
      `MariaDB is not installed (mariadbd not found). Install it with: ${MARIADB_INSTALL_HINT}`,
    );
  }
  log("starting a throwaway MariaDB on 127.0.0.1");
  const db = cleanup.add(
    await startMariaDb({ database: "bench_accounts", innodbLogFileSizeMb: REDO_LOG_MB }),
  );
  const connection = { ...db.connection, tls: false };

  // The project's pool (UTC session, two connections) for migration and the store.
  const storePool = createAccountsPool(connection);
  cleanup.defer("accounts pool", () => new Promise<void>((resolve) => storePool.end(() => resolve())));
  const orm = drizzle({ client: storePool });
  await migrateAccounts(orm);

  // Seeding, the baseline's statement and the sign-ups each get their own connections, also in UTC.
  const admin = createPool({ ...db.connection, timezone: "Z", connectionLimit: 2 });
  cleanup.defer("admin pool", () => admin.end());
  admin.on("connection", (conn) => void conn.query("SET time_zone = '+00:00'"));
  const [[server]] = (await admin.query(
    "SELECT VERSION() AS version, @@innodb_buffer_pool_size AS bufferPool, @@innodb_log_file_size AS logFile",
  )) as unknown as [[{ version: string; bufferPool: number; logFile: number }]];
  if (options.bufferPoolMb > 0) {
    await admin.query(`SET GLOBAL innodb_buffer_pool_size = ${options.bufferPoolMb * 1024 * 1024}`);
  }
  const [[pool]] = (await admin.query("SELECT @@innodb_buffer_pool_size AS bytes")) as unknown as [
    [{ bytes: number }],
  ];

  const progress = new PurgeProgress(admin);
  await progress.enable();

  // ---- baseline: the single DELETE ----
  const expected = await seed(admin, options.rows, log);
  await progress.waitUntilQuiet(log);
  // The floor: the same sign-ups with no purge running (the disk's commit latency shows here).
  const idleLoad = new SignUpLoad(db.connection, options.insertWriters, "idle");
  await idleLoad.warmUp();
  idleLoad.record();
  await sleep(3_000);
  const idleInserts = summarize((await idleLoad.stop()).map((sample) => sample.ms));
  log(`baseline: one DELETE of ${formatNumber(expected)} rows`);
  let baselineDeleted = 0;
  const baseline = await measureSide(db.connection, options.insertWriters, "a", progress, async () => {
    const deleteConnection = await admin.getConnection();
    try {
      const [result] = (await deleteConnection.query(BASELINE_DELETE)) as unknown as [
        { affectedRows: number },
      ];
      baselineDeleted = result.affectedRows;
      return baselineDeleted;
    } finally {
      deleteConnection.release();
    }
  });
  log(`baseline: InnoDB purge ${describeDrain(baseline)}`);
  await checkPurged(admin, "baseline");
  const baselineMs = baseline.statementMs;

  // ---- ours: purgeUnconfirmedAccounts in batches ----
  await seed(admin, options.rows, log);
  await progress.waitUntilQuiet(log);
  log(
    `ours: purgeUnconfirmedAccounts (${options.lanes} lane(s), statements of about ${options.statementTargetMs} ms, from ${options.batchSize} rows)`,
  );
  const store = new TimedAccountStore(new MysqlAccountStore(orm));
  let report: PurgeReport | undefined;
  const ours = await measureSide(db.connection, options.insertWriters, "b", progress, async () => {
    report = await purgeUnconfirmedAccounts(
      { accounts: store, clock: systemClock },
      {
        // The default policy would refuse (half the table is far over 5%) and stop at 1,000 rows per run: here
        // the whole backlog is purged in one run, as the seed's DELETE does.
        policy: parsePurgePolicy({ minAge: "24h", maxDeletionsPerRun: options.rows, maxShareOfPool: 1 }),
        batchSize: options.batchSize,
        lanes: options.lanes,
        statementTargetMs: options.statementTargetMs,
      },
    );
    return report.deleted;
  });
  log(`ours: InnoDB purge ${describeDrain(ours)}`);
  const oursMs = ours.statementMs;
  await checkPurged(admin, "ours");
  if (!report) throw new Error("the batched purge returned no report");
  if (report.failed > 0) {
    throw new Error(`the batched purge failed: ${JSON.stringify(report.failureCodes)}`);
  }
  const baselineInserts = baseline.insertsDuringStatements;
  const oursInserts = ours.insertsDuringStatements;

  const deletes = store.timings.filter((t) => t.operation === "deleteExpiredUnconfirmed").map((t) => t.ms);
  const counts = store.timings
    .filter((t) => t.operation === "countAll" || t.operation === "countExpiredUnconfirmed")
    .map((t) => t.ms);
  const longestDelete = Math.max(...deletes);
  const longestAny = Math.max(...store.timings.map((t) => t.ms));
  const ratio = oursMs / baselineMs;
  const purgedRatio =
    ours.untilPurgedMs !== undefined && baseline.untilPurgedMs !== undefined
      ? ours.untilPurgedMs / baseline.untilPurgedMs
      : undefined;
  const untilPurged = (side: SideOutcome) => side.untilPurgedMs ?? `not within ${PURGE_WAIT_CAP_MS / 1000} s`;

  const notes = [
    `MariaDB ${server.version}, InnoDB buffer pool ${Math.round(pool.bytes / 1024 / 1024)} MB` +
      (options.bufferPoolMb > 0
        ? ` (raised from the stand-in's ${Math.round(server.bufferPool / 1024 / 1024)} MB)`
        : "") +
      `, redo log ${Math.round(server.logFile / 1024 / 1024)} MB (the test stand-in's is ${DEFAULT_INNODB_LOG_FILE_SIZE_MB} MB; MariaDB's default is 96 MiB, RDS for MySQL 8.0.30+'s 100 MiB or more).`,
    `"total time" is the issue's measure: from the first statement sent to the last one answered. "time until purged by InnoDB" runs on from the same start until InnoDB's purge thread has removed the deleted rows: at least as many delete-marked records purged as the side deleted (INNODB_METRICS purge_del_mark_records) and the history list length (trx_rseg_history_len) back to at most ${HISTORY_ALLOWANCE} above its value before the side started, read every ${PURGE_POLL_MS} ms for at most ${PURGE_WAIT_CAP_MS / 1000} s after the last statement. The single DELETE leaves that clean-up for later; the batched purge does much of it as it goes.`,
    `baseline: the seed's single statement "${BASELINE_DELETE}"; ours: purgeUnconfirmedAccounts + MysqlAccountStore after COUNT(*) and the expired count, ${
      store.keyRangeStatements > 0
        ? `walking the table by primary key (DELETE ... WHERE id >= ? AND id < ? AND <condition> ORDER BY id LIMIT ?): ${formatNumber(store.keyRangeStatements)} stretches, ${options.lanes} side by side, each sized toward ${options.statementTargetMs} ms, the first for ${options.batchSize} rows`
        : `oldest first, ${options.batchSize} rows per DELETE ... ORDER BY ... LIMIT`
    }.`,
    `policy for this run: maxShareOfPool 1 and maxDeletionsPerRun ${formatNumber(options.rows)} (the defaults would refuse half of the table).`,
    `sign-ups: ${options.insertWriters} connections inserting one row at a time (5 ms pause) from before each side starts until InnoDB has purged its rows; "INSERT p50/p99/max" count those answered while the side's statements ran, "until purged" those answered until the purge was done; "no purge" is 3 s of the same load alone, before the baseline. Each side starts once the history left by seeding is purged (at most ${QUIET_HISTORY} entries).`,
  ];
  if (options.rows < ISSUE_SIZES.rows) {
    notes.push(
      `smaller than the issue's ${formatNumber(ISSUE_SIZES.rows)} rows: pass --rows ${ISSUE_SIZES.rows}.`,
    );
  }
  return {
    parameters: {
      rows: options.rows,
      expiredRows: expected,
      batchSize: options.batchSize,
      lanes: options.lanes,
      statementTargetMs: options.statementTargetMs,
      insertWriters: options.insertWriters,
      bufferPoolBytes: pool.bytes,
      innodbLogFileBytes: server.logFile,
      mariadb: server.version,
    },
    metrics: [
      {
        measure: "total time",
        unit: "ms",
        ours: oursMs,
        baseline: baselineMs,
        target: `<= ${MAX_TIME_RATIO}x baseline`,
        met: ratio <= MAX_TIME_RATIO,
      },
      {
        measure: "time until purged by InnoDB",
        unit: "ms",
        ours: untilPurged(ours),
        baseline: untilPurged(baseline),
        target: `<= ${MAX_TIME_RATIO}x baseline`,
        met: purgedRatio !== undefined && purgedRatio <= MAX_TIME_RATIO,
      },
      {
        measure: "  of which after the last statement",
        unit: "ms",
        ours: ours.untilPurgedMs === undefined ? undefined : ours.untilPurgedMs - oursMs,
        baseline: baseline.untilPurgedMs === undefined ? undefined : baseline.untilPurgedMs - baselineMs,
      },
      { measure: "rows deleted", unit: "count", ours: report.deleted, baseline: baselineDeleted },
      { measure: "statements", unit: "count", ours: store.timings.length, baseline: 1 },
      {
        measure: "longest statement (any)",
        unit: "ms",
        ours: longestAny,
        baseline: baselineMs,
        target: `<= ${MAX_STATEMENT_MS} ms`,
        met: longestAny <= MAX_STATEMENT_MS,
      },
      { measure: "longest DELETE", unit: "ms", ours: longestDelete, baseline: baselineMs },
      { measure: "DELETE p50", unit: "ms", ours: summarize(deletes).p50, baseline: baselineMs },
      { measure: "COUNT statements, longest", unit: "ms", ours: Math.max(...counts), baseline: "none" },
      {
        measure: "sign-ups inserted meanwhile",
        unit: "count",
        ours: oursInserts.count,
        baseline: baselineInserts.count,
      },
      { measure: "sign-up INSERT p50", unit: "ms", ours: oursInserts.p50, baseline: baselineInserts.p50 },
      {
        measure: "sign-up INSERT p99",
        unit: "ms",
        ours: oursInserts.p99,
        baseline: baselineInserts.p99,
        target: `< ${MAX_INSERT_P99_MS} ms`,
        met: oursInserts.p99 < MAX_INSERT_P99_MS,
      },
      { measure: "sign-up INSERT max", unit: "ms", ours: oursInserts.max, baseline: baselineInserts.max },
      {
        measure: "sign-up INSERT p99, until purged",
        unit: "ms",
        ours: ours.insertsUntilPurged.p99,
        baseline: baseline.insertsUntilPurged.p99,
        target: `< ${MAX_INSERT_P99_MS} ms`,
        met: ours.insertsUntilPurged.p99 < MAX_INSERT_P99_MS,
      },
      {
        measure: "sign-up INSERT max, until purged",
        unit: "ms",
        ours: ours.insertsUntilPurged.max,
        baseline: baseline.insertsUntilPurged.max,
      },
      {
        measure: "sign-up INSERT p99, no purge",
        unit: "ms",
        ours: idleInserts.p99,
        baseline: idleInserts.p99,
      },
    ],
    notes,
    details: {
      ours: {
        report,
        deleteStatements: summarize(deletes),
        countStatements: counts,
        inserts: oursInserts,
        drain: ours.drain,
        insertsUntilPurged: ours.insertsUntilPurged,
      },
      baseline: {
        deleteMs: baselineMs,
        deleted: baselineDeleted,
        inserts: baselineInserts,
        drain: baseline.drain,
        insertsUntilPurged: baseline.insertsUntilPurged,
      },
      idleInserts,
    },
  };
};

/**
 * Empties the table and fills it with `rows` rows: odd ids expired unconfirmed (sent 2–31 days ago), every
 * tenth id unconfirmed but recent (under 24 h: not to be purged), the rest confirmed. Returns the number of
 * expired rows. Uses MariaDB's sequence engine, so a million rows take seconds.
 */
async function seed(admin: Pool, rows: number, log: (line: string) => void): Promise<number> {
  const started = performance.now();
  await admin.query("TRUNCATE TABLE users");
  await admin.query(
    `INSERT INTO users (email, confirmed_at, confirmation_sent_at)
     SELECT CONCAT('member-', seq, '@example.test'),
       IF(seq % 2 = 1 OR seq % 10 = 0, NULL, UTC_TIMESTAMP(3) - INTERVAL 40 DAY),
       CASE
         WHEN seq % 2 = 1 THEN UTC_TIMESTAMP(3) - INTERVAL (2 + seq % 30) DAY - INTERVAL (seq % 86400) SECOND
         WHEN seq % 10 = 0 THEN UTC_TIMESTAMP(3) - INTERVAL (seq % 80000) SECOND
         ELSE UTC_TIMESTAMP(3) - INTERVAL 41 DAY
       END
     FROM seq_1_to_${rows}`,
  );
  await admin.query("ANALYZE TABLE users");
  const [[row]] = (await admin.query(
    "SELECT COUNT(*) AS n FROM users WHERE confirmed_at IS NULL AND confirmation_sent_at < UTC_TIMESTAMP(3) - INTERVAL 1 DAY",
  )) as unknown as [[{ n: number }]];
  log(
    `seeded ${formatNumber(rows)} rows (${formatNumber(Number(row.n))} expired) in ${Math.round(performance.now() - started)} ms`,
  );
  return Number(row.n);
}

async function checkPurged(admin: Pool, side: string): Promise<void> {
  const [[row]] = (await admin.query(
    "SELECT COUNT(*) AS n FROM users WHERE confirmed_at IS NULL AND confirmation_sent_at < UTC_TIMESTAMP(3) - INTERVAL 1 DAY",
  )) as unknown as [[{ n: number }]];
  if (Number(row.n) !== 0) throw new Error(`${side}: ${row.n} expired rows are left after the purge`);
}

/** The store, timing every statement it sends (from the caller's side: round trip included). */
class TimedAccountStore implements AccountStore {
  readonly timings: { operation: keyof AccountStore; ms: number }[] = [];
  /** Delete statements given a stretch of keys (a key-range walk). */
  keyRangeStatements = 0;

  constructor(private readonly inner: AccountStore) {}

  countAll(): Promise<number> {
    return this.time("countAll", () => this.inner.countAll());
  }

  countExpiredUnconfirmed(cutoff: Date, since?: Date): Promise<number> {
    return this.time("countExpiredUnconfirmed", () => this.inner.countExpiredUnconfirmed(cutoff, since));
  }

  newestUnconfirmedSentAt(notAfter: Date): Promise<Date | undefined> {
    return this.time("newestUnconfirmedSentAt", () => this.inner.newestUnconfirmedSentAt(notAfter));
  }

  keyBounds(): Promise<AccountKeyBounds | undefined> {
    return this.time("keyBounds", () => this.inner.keyBounds());
  }

  oldestExpiredUnconfirmedEmails(cutoff: Date, limit: number): Promise<string[]> {
    return this.time("oldestExpiredUnconfirmedEmails", () =>
      this.inner.oldestExpiredUnconfirmedEmails(cutoff, limit),
    );
  }

  deleteExpiredUnconfirmed(cutoff: Date, limit: number, keys?: AccountKeyRange): Promise<number> {
    if (keys) this.keyRangeStatements += 1;
    return this.time("deleteExpiredUnconfirmed", () =>
      this.inner.deleteExpiredUnconfirmed(cutoff, limit, keys),
    );
  }

  private async time<T>(operation: keyof AccountStore, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      this.timings.push({ operation, ms: performance.now() - started });
    }
  }
}

/** One sign-up INSERT: when it was answered (performance.now()) and how long it took. */
interface InsertSample {
  readonly at: number;
  readonly ms: number;
}

/**
 * New sign-ups while a purge runs: each writer inserts one unconfirmed row at a time on its own connection,
 * pausing 5 ms between rows, and every INSERT's latency is kept with the time it was answered.
 */
class SignUpLoad {
  private readonly pool: Pool;
  private readonly samples: InsertSample[] = [];
  private running = true;
  private recording = false;
  private loops: Promise<void>[] = [];
  private counter = 0;

  constructor(
    connection: { host: string; port: number; user: string; password: string; database: string },
    private readonly writers: number,
    private readonly tag: string,
  ) {
    this.pool = createPool({ ...connection, timezone: "Z", connectionLimit: writers });
  }

  /** Opens the connections first, so connection set-up is not counted as insert latency; then starts. */
  async warmUp(): Promise<void> {
    const connections = await Promise.all(
      Array.from({ length: this.writers }, () => this.pool.getConnection()),
    );
    for (const conn of connections) conn.release();
    this.loops = Array.from({ length: this.writers }, (_, writer) => this.loop(writer));
    await sleep(200);
  }

  /** From now on, latencies count (call right before the purge starts). */
  record(): void {
    this.recording = true;
  }

  async stop(): Promise<InsertSample[]> {
    this.running = false;
    await Promise.all(this.loops);
    await this.pool.end();
    return this.samples;
  }

  private async loop(writer: number): Promise<void> {
    while (this.running) {
      this.counter += 1;
      const email = `signup-${this.tag}-${writer}-${this.counter}@example.test`;
      const started = performance.now();
      await this.pool.execute(
        "INSERT INTO users (email, confirmed_at, confirmation_sent_at) VALUES (?, NULL, UTC_TIMESTAMP(3))",
        [email],
      );
      const answered = performance.now();
      if (this.recording) this.samples.push({ at: answered, ms: answered - started });
      await sleep(5);
    }
  }
}

/** What one side cost: its statements, InnoDB's clean-up after them, and the sign-ups meanwhile. */
interface SideOutcome {
  /** From the first statement sent to the last one answered. */
  readonly statementMs: number;
  /** From the same start until InnoDB has purged the deleted rows; `undefined` past the cap. */
  readonly untilPurgedMs: number | undefined;
  readonly drain: DrainOutcome;
  /** Sign-ups answered while the side's statements ran. */
  readonly insertsDuringStatements: LatencySummary;
  /** Sign-ups answered from the start until the purge was done (or the cap). */
  readonly insertsUntilPurged: LatencySummary;
}

/**
 * Runs one side with the sign-up load going: reads InnoDB's purge counters right before, runs `purge` (which
 * returns the rows it deleted), then keeps the load going until InnoDB has purged those rows.
 */
async function measureSide(
  connection: MysqlConnection,
  writers: number,
  tag: string,
  progress: PurgeProgress,
  purge: () => Promise<number>,
): Promise<SideOutcome> {
  const load = new SignUpLoad(connection, writers, tag);
  await load.warmUp();
  let timed: { started: number; statementsDone: number; drain: DrainOutcome };
  try {
    const before = await progress.read();
    load.record();
    const started = performance.now();
    const deleted = await purge();
    const statementsDone = performance.now();
    timed = { started, statementsDone, drain: await progress.waitForPurge(before, deleted) };
  } catch (error) {
    // Stopped whatever happens, so a failing side leaves no writer running.
    await load.stop();
    throw error;
  }
  const samples = await load.stop();
  const { started, statementsDone, drain } = timed;
  const end = drain.purgedAt ?? performance.now();
  const latencies = (until: number) =>
    samples.filter((sample) => sample.at <= until).map((sample) => sample.ms);
  return {
    statementMs: statementsDone - started,
    untilPurgedMs: drain.purgedAt === undefined ? undefined : drain.purgedAt - started,
    drain,
    insertsDuringStatements: summarize(latencies(statementsDone)),
    insertsUntilPurged: summarize(latencies(end)),
  };
}

function describeDrain(side: SideOutcome): string {
  return side.untilPurgedMs === undefined
    ? `not done within ${PURGE_WAIT_CAP_MS / 1000} s of the last statement`
    : `done ${formatNumber(Math.round(side.untilPurgedMs - side.statementMs))} ms after the last statement (history list peaked at ${formatNumber(side.drain.peakHistory)})`;
}

/** InnoDB's purge counters at one moment. */
interface PurgeCounters {
  /** History list length: undo logs of committed transactions not yet purged. */
  readonly history: number;
  /** Delete-marked records removed by the purge thread so far; `undefined` where the server lacks the counter. */
  readonly delMarkPurged: number | undefined;
}

interface DrainOutcome {
  /** performance.now() of the read that found the purge done; `undefined` if the cap came first. */
  readonly purgedAt: number | undefined;
  readonly before: PurgeCounters;
  readonly atEnd: PurgeCounters;
  readonly peakHistory: number;
  readonly polls: number;
}

/**
 * Reads InnoDB's purge progress from information_schema.INNODB_METRICS (`trx_rseg_history_len`, enabled by
 * default; `purge_del_mark_records`, enabled here), falling back to SHOW ENGINE INNODB STATUS's "History list
 * length" when the metrics table does not have it.
 */
class PurgeProgress {
  constructor(private readonly admin: Pool) {}

  /** Turns on the delete-mark counter (off by default); a server without it is measured by the history alone. */
  async enable(): Promise<void> {
    try {
      await this.admin.query("SET GLOBAL innodb_monitor_enable = 'purge_del_mark_records'");
    } catch {
      // Only the history list is used then.
    }
  }

  async read(): Promise<PurgeCounters> {
    const [rows] = (await this.admin.query(
      "SELECT NAME AS name, COUNT AS count, ENABLED AS enabled FROM information_schema.INNODB_METRICS WHERE NAME IN ('trx_rseg_history_len', 'purge_del_mark_records')",
    )) as unknown as [{ name: string; count: number; enabled: number }[]];
    const metric = (name: string) => {
      const row = rows.find((r) => r.name === name);
      return row && Number(row.enabled) === 1 ? Number(row.count) : undefined;
    };
    return {
      history: metric("trx_rseg_history_len") ?? (await this.historyFromStatus()),
      delMarkPurged: metric("purge_del_mark_records"),
    };
  }

  /**
   * Polls every PURGE_POLL_MS until InnoDB has purged at least `deleted` delete-marked records since `before`
   * and the history list is back to at most HISTORY_ALLOWANCE above `before`, for at most PURGE_WAIT_CAP_MS.
   * The history alone is not enough with sign-ups running: after the single DELETE, the purge first clears the
   * sign-ups committed before it, and the length dips (to ~40 in one run) while the DELETE's own undo log, one
   * entry for 500,000 rows, is still being worked through.
   */
  async waitForPurge(before: PurgeCounters, deleted: number): Promise<DrainOutcome> {
    const capAt = performance.now() + PURGE_WAIT_CAP_MS;
    let peakHistory = before.history;
    let polls = 0;
    for (;;) {
      const now = await this.read();
      const readAt = performance.now();
      polls += 1;
      peakHistory = Math.max(peakHistory, now.history);
      const rowsPurged =
        now.delMarkPurged === undefined || before.delMarkPurged === undefined
          ? true
          : now.delMarkPurged - before.delMarkPurged >= deleted;
      if (rowsPurged && now.history <= before.history + HISTORY_ALLOWANCE) {
        return { purgedAt: readAt, before, atEnd: now, peakHistory, polls };
      }
      if (readAt >= capAt) return { purgedAt: undefined, before, atEnd: now, peakHistory, polls };
      await sleep(PURGE_POLL_MS);
    }
  }

  /** Waits (no load running) until the history left by seeding is purged, so it does not weigh on a side. */
  async waitUntilQuiet(log: (line: string) => void): Promise<void> {
    const started = performance.now();
    let history = (await this.read()).history;
    while (history > QUIET_HISTORY && performance.now() - started < 30_000) {
      await sleep(PURGE_POLL_MS);
      history = (await this.read()).history;
    }
    if (history > QUIET_HISTORY) log(`history list still at ${history} after 30 s; going on`);
  }

  private async historyFromStatus(): Promise<number> {
    const [[row]] = (await this.admin.query("SHOW ENGINE INNODB STATUS")) as unknown as [
      [{ Status: string }],
    ];
    const match = /History list length (\d+)/.exec(row.Status);
    if (!match) throw new Error("InnoDB reports no history list length");
    return Number(match[1]);
  }
}
