/**
 * 1. Accounts purge on MariaDB. The `users` table (created by the project's migration, with users_purge_idx)
 * is seeded with `--rows` rows, half of them expired unconfirmed, once per side:
 * - baseline: the seed article's one DELETE of every expired row, in a single statement;
 * - ours: purgeUnconfirmedAccounts over MysqlAccountStore (batches of `--batch-size` rows, oldest first).
 * While each runs, `--insert-writers` connections insert new sign-ups one row at a time; their latency is
 * what a purge costs the application.
 */
import { performance } from "node:perf_hooks";
import { drizzle } from "drizzle-orm/mysql2";
import { createPool, type Pool } from "mysql2/promise";
import { MysqlAccountStore } from "../../adapters/mysql/account-store.js";
import { migrateAccounts } from "../../adapters/mysql/migrate.js";
import { createAccountsPool } from "../../adapters/mysql/pool.js";
import { systemClock } from "../../adapters/shared/time.js";
import type { AccountStore } from "../../core/ports/account-store.js";
import { parsePurgePolicy } from "../../core/purge/index.js";
import { purgeUnconfirmedAccounts } from "../../core/use-cases/purge-unconfirmed-accounts.js";
import { findMariaDb, MARIADB_INSTALL_HINT, startMariaDb } from "../../local/services/mariadb.js";
import { ISSUE_SIZES } from "../lib/args.js";
import type { Scenario } from "../lib/scenario.js";
import { BenchSetupError, sleep } from "../lib/services.js";
import { type LatencySummary, summarize } from "../lib/stats.js";
import { formatNumber } from "../lib/table.js";

/** The seed article's statement, word for word in meaning: one DELETE of every expired unconfirmed row. */
const BASELINE_DELETE =
  "DELETE FROM users WHERE confirmed_at IS NULL AND confirmation_sent_at < NOW() - INTERVAL 1 DAY";

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
  const db = cleanup.add(await startMariaDb({ database: "bench_accounts" }));
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
    "SELECT VERSION() AS version, @@innodb_buffer_pool_size AS bufferPool",
  )) as unknown as [[{ version: string; bufferPool: number }]];
  if (options.bufferPoolMb > 0) {
    await admin.query(`SET GLOBAL innodb_buffer_pool_size = ${options.bufferPoolMb * 1024 * 1024}`);
  }
  const [[pool]] = (await admin.query("SELECT @@innodb_buffer_pool_size AS bytes")) as unknown as [
    [{ bytes: number }],
  ];

  // ---- baseline: the single DELETE ----
  const expected = await seed(admin, options.rows, log);
  // The floor: the same sign-ups with no purge running (the disk's commit latency shows here).
  const idleLoad = new SignUpLoad(db.connection, options.insertWriters, "idle");
  await idleLoad.warmUp();
  idleLoad.record();
  await sleep(3_000);
  const idleInserts = await idleLoad.stop();
  log(`baseline: one DELETE of ${formatNumber(expected)} rows`);
  const baselineLoad = new SignUpLoad(db.connection, options.insertWriters, "a");
  await baselineLoad.warmUp();
  baselineLoad.record();
  const baselineStarted = performance.now();
  const deleteConnection = await admin.getConnection();
  let baselineDeleted: number;
  let baselineMs: number;
  try {
    const [result] = (await deleteConnection.query(BASELINE_DELETE)) as unknown as [{ affectedRows: number }];
    baselineDeleted = result.affectedRows;
    baselineMs = performance.now() - baselineStarted;
  } finally {
    deleteConnection.release();
  }
  const baselineInserts = await baselineLoad.stop();
  await checkPurged(admin, "baseline");

  // ---- ours: purgeUnconfirmedAccounts in batches ----
  await seed(admin, options.rows, log);
  log(`ours: purgeUnconfirmedAccounts, batches of ${options.batchSize}`);
  const store = new TimedAccountStore(new MysqlAccountStore(orm));
  const oursLoad = new SignUpLoad(db.connection, options.insertWriters, "b");
  await oursLoad.warmUp();
  oursLoad.record();
  const oursStarted = performance.now();
  const report = await purgeUnconfirmedAccounts(
    { accounts: store, clock: systemClock },
    {
      // The default policy would refuse (half the table is far over 5%) and stop at 1,000 rows per run: here
      // the whole backlog is purged in one run, as the seed's DELETE does.
      policy: parsePurgePolicy({ minAge: "24h", maxDeletionsPerRun: options.rows, maxShareOfPool: 1 }),
      batchSize: options.batchSize,
    },
  );
  const oursMs = performance.now() - oursStarted;
  const oursInserts = await oursLoad.stop();
  await checkPurged(admin, "ours");
  if (report.failed > 0) {
    throw new Error(`the batched purge failed: ${JSON.stringify(report.failureCodes)}`);
  }

  const deletes = store.timings.filter((t) => t.operation === "deleteExpiredUnconfirmed").map((t) => t.ms);
  const counts = store.timings.filter((t) => t.operation !== "deleteExpiredUnconfirmed").map((t) => t.ms);
  const longestDelete = Math.max(...deletes);
  const longestAny = Math.max(longestDelete, ...counts);
  const ratio = oursMs / baselineMs;

  const notes = [
    `MariaDB ${server.version}, InnoDB buffer pool ${Math.round(pool.bytes / 1024 / 1024)} MB` +
      (options.bufferPoolMb > 0
        ? ` (raised from the stand-in's ${Math.round(server.bufferPool / 1024 / 1024)} MB)`
        : ""),
    `baseline: the seed's single statement "${BASELINE_DELETE}"; ours: purgeUnconfirmedAccounts + MysqlAccountStore, ${options.batchSize} rows per DELETE ... ORDER BY ... LIMIT, after COUNT(*) and the expired count.`,
    `policy for this run: maxShareOfPool 1 and maxDeletionsPerRun ${formatNumber(options.rows)} (the defaults would refuse half of the table).`,
    `sign-ups: ${options.insertWriters} connections inserting one row at a time (5 ms pause) during each purge; "no purge" is 3 s of the same load alone, before the baseline.`,
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
      insertWriters: options.insertWriters,
      bufferPoolBytes: pool.bytes,
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
        measure: "sign-up INSERT p99, no purge",
        unit: "ms",
        ours: idleInserts.p99,
        baseline: idleInserts.p99,
      },
    ],
    notes,
    details: {
      ours: { report, deleteStatements: summarize(deletes), countStatements: counts, inserts: oursInserts },
      baseline: { deleteMs: baselineMs, deleted: baselineDeleted, inserts: baselineInserts },
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

  constructor(private readonly inner: AccountStore) {}

  countAll(): Promise<number> {
    return this.time("countAll", () => this.inner.countAll());
  }

  countExpiredUnconfirmed(cutoff: Date): Promise<number> {
    return this.time("countExpiredUnconfirmed", () => this.inner.countExpiredUnconfirmed(cutoff));
  }

  deleteExpiredUnconfirmed(cutoff: Date, limit: number): Promise<number> {
    return this.time("deleteExpiredUnconfirmed", () => this.inner.deleteExpiredUnconfirmed(cutoff, limit));
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

/**
 * New sign-ups while a purge runs: each writer inserts one unconfirmed row at a time on its own connection,
 * pausing 5 ms between rows, and every INSERT's latency is kept.
 */
class SignUpLoad {
  private readonly pool: Pool;
  private readonly latencies: number[] = [];
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

  async stop(): Promise<LatencySummary> {
    this.running = false;
    await Promise.all(this.loops);
    await this.pool.end();
    return summarize(this.latencies);
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
      if (this.recording) this.latencies.push(performance.now() - started);
      await sleep(5);
    }
  }
}
