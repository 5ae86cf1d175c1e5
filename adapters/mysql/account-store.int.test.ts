import { connect, createServer, type Server, type Socket } from "node:net";
import { drizzle } from "drizzle-orm/mysql2";
import type { Pool } from "mysql2";
import {
  createConnection,
  type Pool as PromisePool,
  type ResultSetHeader,
  type RowDataPacket,
} from "mysql2/promise";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  type AccountStoreFixture,
  describeAccountStoreContract,
} from "../../core/ports/account-store.contract.js";
import {
  type ApplicationAccountsFixture,
  describeApplicationAccountsContract,
} from "../../core/ports/application-accounts.contract.js";
import { LifecycleError } from "../../core/errors.js";
import { aPurgePolicy } from "../../core/testing/purge.js";
import { purgeUnconfirmedAccounts } from "../../core/use-cases/purge-unconfirmed-accounts.js";
import { ManualClock } from "../in-memory/clock.js";
import { freePort } from "../../local/services/process.js";
import { MYSQL_ACCOUNT_STORE_PRIVILEGES, MysqlAccountStore } from "./account-store.js";
import { MYSQL_APPLICATION_ACCOUNTS_PRIVILEGES, MysqlApplicationAccounts } from "./application-accounts.js";
import { migrateAccounts } from "./migrate.js";
import { type AccountsTableOptions, resolveAccountsTableNames } from "./options.js";
import { createAccountsPool } from "./pool.js";
import { PURGE_INDEX_NAME } from "./schema.js";

const server = inject("mysql");
/** The injected user may do anything on this throwaway server: it builds fixtures and checks what is left. */
const admin = createAccountsPool({ ...server, tls: false }).promise();
const pools: Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.promise().end()));
  await admin.end();
});

let fixtures = 0;

/** One statement as the store sent it to mysql2. */
interface Statement {
  readonly sql: string;
  readonly params: unknown[];
}

function aPool(database: string, login: { user: string; password: string } = server): Pool {
  const pool = createAccountsPool({ ...server, ...login, database, tls: false });
  pools.push(pool);
  return pool;
}

/**
 * Sees the store's pool through a wrapper that records each statement sent and can run a hook right before the
 * next DELETE goes out (the contract confirms a row "meanwhile" there). drizzle sends everything through `query`.
 */
function observed(pool: Pool) {
  const statements: Statement[] = [];
  let beforeDelete: (() => Promise<void>) | undefined;
  const client = new Proxy(pool.promise(), {
    get(target, property) {
      if (property === "query") {
        return async (query: string | { sql: string }, params: unknown[] = []) => {
          const text = typeof query === "string" ? query : query.sql;
          statements.push({ sql: text, params });
          if (/^\s*delete\b/i.test(text) && beforeDelete) {
            const hook = beforeDelete;
            beforeDelete = undefined;
            await hook();
          }
          return target.query(query as string, params);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as PromisePool;
  return {
    db: drizzle({ client }),
    statements,
    beforeNextDelete: (hook: () => Promise<void>) => void (beforeDelete = hook),
  };
}

interface Table {
  readonly database: string;
  readonly name: string;
  readonly email: string;
  readonly options: AccountsTableOptions;
}

type MariaDbFixture = AccountStoreFixture & {
  readonly table: Table;
  readonly statements: Statement[];
};

/**
 * The store on `table`. The fixture writes and reads through the admin connection, so the store itself only
 * ever counts and deletes.
 */
async function storeFixture(table: Table, drop: () => Promise<void>): Promise<MariaDbFixture> {
  const wrapped = observed(aPool(table.database));
  const qualified = `${table.database}.${table.name}`;
  const columns = resolveAccountsTableNames(table.options);
  return {
    table,
    store: new MysqlAccountStore(wrapped.db, table.options),
    statements: wrapped.statements,
    beforeNextDelete: wrapped.beforeNextDelete,
    insert: async (rows) => {
      const ids: number[] = [];
      for (const row of rows) {
        const [result] = await admin.query<ResultSetHeader>("INSERT INTO ?? SET ?? = ?, ?? = ?, ?? = ?", [
          qualified,
          table.email,
          row.email,
          columns.confirmedAt,
          row.confirmedAt,
          columns.confirmationSentAt,
          row.confirmationSentAt,
        ]);
        ids.push(result.insertId);
      }
      return ids;
    },
    confirm: async (id, at) =>
      void (await admin.query("UPDATE ?? SET ?? = ? WHERE ?? = ?", [
        qualified,
        columns.confirmedAt,
        at,
        columns.id,
        id,
      ])),
    remainingEmails: async () => {
      const [rows] = await admin.query<RowDataPacket[]>("SELECT ?? AS email FROM ?? ORDER BY 1", [
        table.email,
        qualified,
      ]);
      return rows.map((row) => String(row.email));
    },
    close: drop,
  };
}

/**
 * A fresh database per fixture, dropped on close: nothing one test leaves behind can change another. In
 * utf8mb4 (MariaDB's collation `utf8mb4_general_ci`), as on RDS MySQL 8.
 */
async function aDatabase(): Promise<{ name: string; drop: () => Promise<void> }> {
  fixtures += 1;
  const name = `accounts_${process.pid}_${fixtures}`;
  await admin.query("CREATE DATABASE ?? CHARACTER SET utf8mb4", [name]);
  return { name, drop: async () => void (await admin.query("DROP DATABASE IF EXISTS ??", [name])) };
}

/**
 * The table as the committed migration makes it, renamed to a unique name: proves the migration and the
 * configurable table name at once.
 */
async function aMigratedTable(): Promise<MariaDbFixture> {
  const database = await aDatabase();
  await migrateAccounts(drizzle({ client: aPool(database.name) }));
  const name = `accounts_${fixtures}`;
  await admin.query("RENAME TABLE ??.users TO ??.??", [database.name, database.name, name]);
  return storeFixture(
    { database: database.name, name, email: "email", options: { table: name } },
    database.drop,
  );
}

/**
 * An existing application schema the migration did not make: other names, an INT key, DATETIME and TIMESTAMP
 * columns without fractions (TIMESTAMP is the one the session time zone shifts), no purge index, and emails
 * in latin1 without any index (so two rows may differ only by case).
 */
async function aLegacyTable(): Promise<MariaDbFixture> {
  const database = await aDatabase();
  const name = `members_${fixtures}`;
  await admin.query(
    `CREATE TABLE ??.?? (
       member_no INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
       mail VARCHAR(320) CHARACTER SET latin1 NOT NULL,
       display_name VARCHAR(100) NULL,
       verified_on DATETIME NULL,
       verification_mailed_on TIMESTAMP NULL DEFAULT NULL
     )`,
    [database.name, name],
  );
  return storeFixture(
    {
      database: database.name,
      name,
      email: "mail",
      options: {
        table: name,
        columns: {
          id: "member_no",
          confirmedAt: "verified_on",
          confirmationSentAt: "verification_mailed_on",
          email: "mail",
        },
      },
    },
    database.drop,
  );
}

/** Erase's view of the same tables: a person's rows by email, through its own store. */
function rowsFixture(
  make: () => Promise<MariaDbFixture>,
  holdsCaseVariants: boolean,
): () => Promise<ApplicationAccountsFixture & { readonly table: Table }> {
  return async () => {
    const fixture = await make();
    return {
      table: fixture.table,
      accounts: new MysqlApplicationAccounts(
        drizzle({ client: aPool(fixture.table.database) }),
        fixture.table.options,
      ),
      holdsCaseVariants,
      insert: (emails) =>
        fixture
          .insert(emails.map((email) => ({ email, confirmedAt: null, confirmationSentAt: null })))
          .then(() => undefined),
      remainingEmails: async () =>
        (await fixture.remainingEmails()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      ...(fixture.close ? { close: fixture.close } : {}),
    };
  };
}

describeAccountStoreContract("MariaDB, migrated table under a configured name", aMigratedTable);
describeAccountStoreContract("MariaDB, existing schema with other table and column names", aLegacyTable);
describeApplicationAccountsContract(
  "MariaDB, migrated table (unique email, utf8mb4_general_ci)",
  rowsFixture(aMigratedTable, false),
);
describeApplicationAccountsContract(
  "MariaDB, existing schema with other names (latin1 emails, no index)",
  rowsFixture(aLegacyTable, true),
);

const cutoff = new Date("2026-03-10T00:00:00.000Z");
const minutes = (count: number) => new Date(cutoff.getTime() + count * 60_000);

/** A TCP server on a free port that counts connections; `answer` decides what happens to each socket. */
async function aTcpServer(answer: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const listener: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    answer(socket);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => listener.listen(port, "127.0.0.1", resolve));
  return {
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        // Sockets still open (the silent server's) would keep `close` waiting.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

async function failureOf(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error("expected the call to fail");
}

/** Every message in the error's cause chain, to check none of them carries a secret. */
function messages(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) parts.push(current.message);
  return parts.join("\n");
}

/** Skips the test when the injected user cannot grant privileges (logins with fewer could not be made). */
async function skipWithoutGrantOption(context: { skip(note: string): void }): Promise<void> {
  const [grants] = await admin.query<RowDataPacket[]>("SHOW GRANTS");
  if (!grants.some((row) => Object.values(row).some((grant) => /WITH GRANT OPTION/.test(String(grant))))) {
    context.skip("the injected MariaDB user cannot grant privileges");
  }
}

/** Logins (password `least-privilege-pw`) with the given privileges on the table only; returns its name. */
async function createLogins(table: Table, logins: readonly (readonly [string, string])[]): Promise<string> {
  const qualified = `${table.database}.${table.name}`;
  for (const [user, privileges] of logins) {
    await admin.query("CREATE USER ?@'127.0.0.1' IDENTIFIED BY 'least-privilege-pw'", [user]);
    await admin.query(`GRANT ${privileges} ON ${admin.escapeId(qualified)} TO ?@'127.0.0.1'`, [user]);
  }
  return qualified;
}

/**
 * Mostly confirmed rows, as in a live table (a scan would read them all, the index never visits them): one in a
 * hundred unconfirmed, sent `index` minutes before the cutoff; the confirmed ones sent `confirmedSentMinutes`
 * after that.
 */
function liveRows(confirmedSentMinutes: number): [string, Date | null, Date][] {
  return Array.from({ length: 3_000 }, (_, index) =>
    index % 100 === 0
      ? [`unconfirmed-${index}@example.com`, null, minutes(-index)]
      : [`confirmed-${index}@example.com`, minutes(-1), minutes(-index + confirmedSentMinutes)],
  );
}

/** Inserts `rows` (email, confirmed_at, confirmation_sent_at) into the fixture's table and analyzes it. */
async function fill(
  fixture: { table: { database: string; name: string } },
  rows: unknown[][],
): Promise<string> {
  const qualified = `${fixture.table.database}.${fixture.table.name}`;
  await admin.query("INSERT INTO ?? (email, confirmed_at, confirmation_sent_at) VALUES ?", [qualified, rows]);
  await admin.query("ANALYZE TABLE ??", [qualified]);
  return qualified;
}

/** EXPLAIN of a statement exactly as the store sent it, on the fixture's database. */
function explainer(fixture: { table: { database: string } }) {
  const onFixtureDatabase = aPool(fixture.table.database).promise();
  return async ({ sql, params }: Statement) =>
    (await onFixtureDatabase.query<RowDataPacket[]>(`EXPLAIN ${sql}`, params))[0];
}

describe("MysqlAccountStore on MariaDB", () => {
  it("counts and purges through the purge index, reading it in order without a filesort (EXPLAIN)", async () => {
    const fixture = await aMigratedTable();
    try {
      const rows = liveRows(-60);
      const qualified = await fill(fixture, rows);

      expect(await fixture.store.countExpiredUnconfirmed(cutoff)).toBe(29);
      expect(await fixture.store.deleteExpiredUnconfirmed(cutoff, 5)).toBe(5);
      const [count, purge] = fixture.statements.slice(-2) as [Statement, Statement];
      expect(purge.sql).toMatch(/^delete from .* limit \?$/);

      const explain = explainer(fixture);
      // Seen on MariaDB 10.11: count "range, key users_purge_idx, Using where; Using index";
      // purge "range, key users_purge_idx, rows 5, Using where".
      expect(await explain(count)).toEqual([
        expect.objectContaining({ type: "range", key: PURGE_INDEX_NAME, Extra: "Using where; Using index" }),
      ]);
      const [purgePlan] = await explain(purge);
      expect(purgePlan).toMatchObject({ type: "range", key: PURGE_INDEX_NAME });
      expect(purgePlan?.Extra).not.toMatch(/filesort/);
      // Reads as many index entries as the LIMIT, not every match.
      expect(Number(purgePlan?.rows)).toBeLessThanOrEqual(5);
      // The deleted rows are the five oldest (the last five generated), in the order the plan reads.
      const [left] = await admin.query<RowDataPacket[]>("SELECT email FROM ?? WHERE confirmed_at IS NULL", [
        qualified,
      ]);
      const unconfirmed = rows.filter((row) => row[1] === null).map((row) => String(row[0]));
      expect(left.map((row) => String(row.email)).sort()).toEqual(unconfirmed.slice(0, -5).sort());
    } finally {
      await fixture.close?.();
    }
  });

  it("finds the newest unconfirmed sign-up and counts the recent expired rows through the purge index (EXPLAIN)", async () => {
    const fixture = await aMigratedTable();
    try {
      await fill(fixture, [...liveRows(60), ["future@example.com", null, minutes(100_000)]]);

      // The confirmed rows' later dates and the row dated in the future are not the newest sign-up.
      expect(await fixture.store.newestUnconfirmedSentAt(minutes(30))).toEqual(minutes(0));
      const newest = fixture.statements.at(-1) as Statement;
      expect(await fixture.store.newestUnconfirmedSentAt(minutes(-150))).toEqual(minutes(-200));
      expect(await fixture.store.countExpiredUnconfirmed(cutoff, minutes(-1000))).toBe(10);
      const recent = fixture.statements.at(-1) as Statement;

      const explain = explainer(fixture);
      // Through the purge index alone, never the table's rows.
      const [newestPlan] = await explain(newest);
      expect(newestPlan?.Extra).toMatch(/Select tables optimized away|Using index/);
      expect([null, PURGE_INDEX_NAME]).toContain(newestPlan?.key ?? null);
      expect(await explain(recent)).toEqual([
        expect.objectContaining({ type: "range", key: PURGE_INDEX_NAME, Extra: "Using where; Using index" }),
      ]);
    } finally {
      await fixture.close?.();
    }
  });

  it("walks a stretch of keys through the primary key, in key order, and finds the key bounds (EXPLAIN)", async () => {
    const fixture = await aMigratedTable();
    try {
      const qualified = `${fixture.table.database}.${fixture.table.name}`;
      // Half the rows expired, as in a mass purge.
      const rows = Array.from({ length: 2_000 }, (_, index) =>
        index % 2 === 0
          ? [`unconfirmed-${index}@example.com`, null, minutes(-index - 1)]
          : [`confirmed-${index}@example.com`, minutes(-1), minutes(-index - 60)],
      );
      await admin.query("INSERT INTO ?? (email, confirmed_at, confirmation_sent_at) VALUES ?", [
        qualified,
        rows,
      ]);
      await admin.query("ANALYZE TABLE ??", [qualified]);
      const bounds = await fixture.store.keyBounds();
      expect(bounds).toBeDefined();
      const { first, last } = bounds!;
      expect(last - first).toBe(1_999);

      expect(
        await fixture.store.deleteExpiredUnconfirmed(cutoff, 1_000, { from: first, to: first + 100 }),
      ).toBe(50);
      const purge = fixture.statements.at(-1) as Statement;
      const onFixtureDatabase = aPool(fixture.table.database).promise();
      const [plan] = (
        await onFixtureDatabase.query<RowDataPacket[]>(`EXPLAIN ${purge.sql}`, purge.params)
      )[0];
      // Seen on MariaDB 10.11: "range, key PRIMARY, Using where".
      expect(plan).toMatchObject({ type: "range", key: "PRIMARY" });
      expect(plan?.Extra).not.toMatch(/filesort/);
      // A LIMIT below what the stretch holds stops there, lowest keys first.
      expect(await fixture.store.deleteExpiredUnconfirmed(cutoff, 3, { from: first, to: first + 200 })).toBe(
        3,
      );
      const [left] = await admin.query<RowDataPacket[]>(
        "SELECT email FROM ?? WHERE confirmed_at IS NULL AND id < ? ORDER BY id LIMIT 1",
        [qualified, first + 200],
      );
      expect(left.map((row) => String(row.email))).toEqual(["unconfirmed-106@example.com"]);
      await expect(
        fixture.store.deleteExpiredUnconfirmed(cutoff, 1, { from: first + 5, to: first }),
      ).rejects.toMatchObject({ code: "PURGE.INVALID_INPUT", field: "keys" });
    } finally {
      await fixture.close?.();
    }
  });

  it("migrates idempotently and creates the purge index on (confirmed_at, confirmation_sent_at)", async () => {
    const database = await aDatabase();
    try {
      const db = drizzle({ client: aPool(database.name) });
      await migrateAccounts(db);
      await migrateAccounts(db);
      const [applied] = await admin.query<RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM ??.__drizzle_migrations",
        [database.name],
      );
      expect(applied[0]?.n).toBe(1);
      const [index] = await admin.query<RowDataPacket[]>("SHOW INDEX FROM ??.users WHERE Key_name = ?", [
        database.name,
        PURGE_INDEX_NAME,
      ]);
      expect(index.map((column) => column.Column_name)).toEqual(["confirmed_at", "confirmation_sent_at"]);
    } finally {
      await database.drop();
    }
  });

  it("fails a wrong password with one DATABASE.AUTH_FAILED, one connection attempt, and no secret in it", async () => {
    // A proxy in front of MariaDB counts the connection attempts: a retry loop would show up here.
    const proxy = await aTcpServer((socket) => {
      const upstream = connect(server.port, server.host);
      upstream.on("error", () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    try {
      const password = "wrong-password-8c1f";
      const pool = createAccountsPool({ ...server, port: proxy.port, password, tls: false });
      pools.push(pool);
      const store = new MysqlAccountStore(drizzle({ client: pool }));
      const { error, ms } = await failureOf(store.countAll());
      expect(error).toBeInstanceOf(LifecycleError);
      expect(error).toMatchObject({
        code: "DATABASE.AUTH_FAILED",
        details: { driverCode: "ER_ACCESS_DENIED_ERROR" },
      });
      expect(messages(error)).not.toContain(password);
      expect(proxy.connections()).toBe(1);
      expect(ms).toBeLessThan(2_000);
    } finally {
      await proxy.close();
    }
  });

  it("purges as a user with only the documented privileges (skipped when the injected user lacks GRANT OPTION)", async (context) => {
    await skipWithoutGrantOption(context);
    const fixture = await aMigratedTable();
    const purger = `purger_${process.pid}`;
    const reader = `reader_${process.pid}`;
    try {
      const qualified = await createLogins(fixture.table, [
        [purger, MYSQL_ACCOUNT_STORE_PRIVILEGES.join(", ")],
        [reader, "SELECT"],
      ]);
      const rows = Array.from({ length: 1_000 }, (_, index) =>
        index < 30
          ? [`expired-${index}@example.com`, null, minutes(-24 * 60 - index)]
          : [`confirmed-${index}@example.com`, minutes(-60), minutes(-120)],
      );
      await admin.query("INSERT INTO ?? (email, confirmed_at, confirmation_sent_at) VALUES ?", [
        qualified,
        rows,
      ]);
      const storeAs = (user: string) =>
        new MysqlAccountStore(
          drizzle({ client: aPool(fixture.table.database, { user, password: "least-privilege-pw" }) }),
          { table: fixture.table.name },
        );
      const policy = aPurgePolicy({ minAgeMs: 60 * 60_000, maxDeletionsPerRun: 20 });
      const clock = new ManualClock(cutoff);

      const report = await purgeUnconfirmedAccounts(
        { accounts: storeAs(purger), clock },
        { policy, batchSize: 7 },
      );
      expect(report).toMatchObject({ eligible: 30, deleted: 20, deferred: 10, failed: 0 });

      const readOnly = await purgeUnconfirmedAccounts({ accounts: storeAs(reader), clock }, { policy });
      expect(readOnly).toMatchObject({ deleted: 0, failed: 1, failureCodes: { "DATABASE.AUTH_FAILED": 1 } });
      const { error } = await failureOf(storeAs(reader).deleteExpiredUnconfirmed(cutoff, 1));
      expect(error).toMatchObject({
        code: "DATABASE.AUTH_FAILED",
        details: { driverCode: "ER_TABLEACCESS_DENIED_ERROR" },
      });
      expect(messages(error)).not.toMatch(/@example\.com/);
    } finally {
      await admin.query("DROP USER IF EXISTS ?@'127.0.0.1', ?@'127.0.0.1'", [purger, reader]);
      await fixture.close?.();
    }
  });

  it("fails a user without access to the database with DATABASE.AUTH_FAILED", async () => {
    const user = `nobody_${process.pid}`;
    await admin.query("CREATE USER IF NOT EXISTS ?@'127.0.0.1' IDENTIFIED BY 'nobody-pw'", [user]);
    try {
      const pool = aPool(server.database, { user, password: "nobody-pw" });
      const { error } = await failureOf(new MysqlAccountStore(drizzle({ client: pool })).countAll());
      expect(error).toMatchObject({
        code: "DATABASE.AUTH_FAILED",
        details: { driverCode: "ER_DBACCESS_DENIED_ERROR" },
      });
    } finally {
      await admin.query("DROP USER IF EXISTS ?@'127.0.0.1'", [user]);
    }
  });

  it("fails a closed port with one SERVICE.UNREACHABLE naming the endpoint, at once", async () => {
    const port = await freePort();
    const password = "closed-port-pw-51d2";
    const pool = createAccountsPool({ ...server, port, password, tls: false });
    pools.push(pool);
    const { error, ms } = await failureOf(new MysqlAccountStore(drizzle({ client: pool })).countAll());
    expect(error).toMatchObject({
      code: "SERVICE.UNREACHABLE",
      details: { driverCode: "ECONNREFUSED", endpoint: `127.0.0.1:${port}` },
    });
    expect(messages(error)).not.toContain(password);
    expect(ms).toBeLessThan(2_000);
  });

  it("fails a host that never answers with one SERVICE.UNREACHABLE after the connect timeout, without retrying", async () => {
    // Accepts the TCP connection and never sends MySQL's greeting, like a black-holed security group would.
    const silent = await aTcpServer(() => undefined);
    try {
      const pool = createAccountsPool({ ...server, port: silent.port, tls: false, connectTimeoutMs: 300 });
      pools.push(pool);
      const { error, ms } = await failureOf(new MysqlAccountStore(drizzle({ client: pool })).countAll());
      expect(error).toMatchObject({ code: "SERVICE.UNREACHABLE", details: { driverCode: "ETIMEDOUT" } });
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(2_000);
      expect(silent.connections()).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it("compares cutoffs in UTC whatever the server's and the process's time zones (TIMESTAMP column)", async () => {
    const [[before]] = await admin.query<RowDataPacket[]>("SELECT @@global.time_zone AS zone");
    const processZone = process.env.TZ;
    // New sessions start in UTC+9, and Node.js formats local dates in UTC-7/-8: both must not matter.
    await admin.query("SET GLOBAL time_zone = '+09:00'");
    process.env.TZ = "America/Los_Angeles";
    const fixture = await aLegacyTable();
    try {
      const sentAt = [-600, -541, -1, 0, 1, 540];
      await fixture.insert(
        sentAt.map((offset) => ({
          email: `sent${offset}@example.com`,
          confirmedAt: null,
          confirmationSentAt: minutes(offset),
        })),
      );
      expect(await fixture.store.countExpiredUnconfirmed(cutoff)).toBe(3);

      // Control: a session left in the server's zone reads the same cutoff nine hours early on a TIMESTAMP
      // column, so the UTC session set by createAccountsPool is what makes the count above right.
      const plain = await createConnection({ ...server, database: fixture.table.database });
      try {
        const [[shifted]] = await plain.query<RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM ?? WHERE verified_on IS NULL AND verification_mailed_on < ?",
          [fixture.table.name, "2026-03-10 00:00:00.000"],
        );
        expect(Number(shifted?.n)).toBe(2);
      } finally {
        await plain.end();
      }

      expect(await fixture.store.deleteExpiredUnconfirmed(cutoff, 10)).toBe(3);
      expect(await fixture.remainingEmails()).toEqual([
        "sent0@example.com",
        "sent1@example.com",
        "sent540@example.com",
      ]);
    } finally {
      if (processZone === undefined) delete process.env.TZ;
      else process.env.TZ = processZone;
      await admin.query("SET GLOBAL time_zone = ?", [before?.zone]);
      await fixture.close?.();
    }
  });
});

describe("MysqlApplicationAccounts on MariaDB", () => {
  it("finds and deletes a person's row through the email index, locking no other row (EXPLAIN)", async () => {
    const fixture = await aMigratedTable();
    try {
      const qualified = `${fixture.table.database}.${fixture.table.name}`;
      const rows = Array.from({ length: 2_000 }, (_, index) => [`user-${index}@example.com`, null, null]);
      await admin.query("INSERT INTO ?? (email, confirmed_at, confirmation_sent_at) VALUES ?", [
        qualified,
        rows,
      ]);
      await admin.query("ANALYZE TABLE ??", [qualified]);
      const wrapped = observed(aPool(fixture.table.database));
      const accounts = new MysqlApplicationAccounts(wrapped.db, fixture.table.options);
      const onFixtureDatabase = aPool(fixture.table.database).promise();
      // Each statement explained as sent, before it runs (once the row is gone, the plan says so instead).
      const explain = async (statement: Statement) => {
        const [[plan]] = await onFixtureDatabase.query<RowDataPacket[]>(
          `EXPLAIN ${statement.sql}`,
          statement.params,
        );
        expect(statement.sql).not.toMatch(/\blike\b/i);
        // Seen on MariaDB 10.11: "const" (count) and "range" (delete) on users_email_unique, rows 1.
        expect(plan).toMatchObject({ key: "users_email_unique" });
        expect(Number(plan?.rows)).toBeLessThanOrEqual(1);
      };
      expect(await accounts.countByEmail("USER-1234@example.com")).toBe(1);
      await explain(wrapped.statements.at(-1)!);
      wrapped.beforeNextDelete(() => explain(wrapped.statements.at(-1)!));
      expect(await accounts.deleteByEmail("User-1234@Example.com")).toBe(1);
      expect(await fixture.remainingEmails()).toHaveLength(1_999);
    } finally {
      await fixture.close?.();
    }
  });

  it("works with the purge login's privileges only (SELECT, DELETE); a SELECT-only login cannot delete (skipped when the injected user lacks GRANT OPTION)", async (context) => {
    await skipWithoutGrantOption(context);
    expect([...MYSQL_APPLICATION_ACCOUNTS_PRIVILEGES]).toEqual([...MYSQL_ACCOUNT_STORE_PRIVILEGES]);
    const fixture = await aLegacyTable();
    const purger = `erase_purger_${process.pid}`;
    const reader = `erase_reader_${process.pid}`;
    try {
      await createLogins(fixture.table, [
        [purger, MYSQL_APPLICATION_ACCOUNTS_PRIVILEGES.join(", ")],
        [reader, "SELECT"],
      ]);
      await fixture.insert(
        ["gone@example.com", "kept@example.com"].map((email) => ({
          email,
          confirmedAt: minutes(-5),
          confirmationSentAt: minutes(-10),
        })),
      );
      const rowsAs = (user: string) =>
        new MysqlApplicationAccounts(
          drizzle({ client: aPool(fixture.table.database, { user, password: "least-privilege-pw" }) }),
          fixture.table.options,
        );
      expect(await rowsAs(purger).countByEmail("gone@example.com")).toBe(1);
      expect(await rowsAs(purger).deleteByEmail("gone@example.com")).toBe(1);
      expect(await rowsAs(reader).countByEmail("kept@example.com")).toBe(1);
      const { error } = await failureOf(rowsAs(reader).deleteByEmail("kept@example.com"));
      expect(error).toMatchObject({
        code: "DATABASE.AUTH_FAILED",
        details: { driverCode: "ER_TABLEACCESS_DENIED_ERROR" },
      });
      expect(messages(error)).not.toMatch(/@example\.com/);
      expect(await fixture.remainingEmails()).toEqual(["kept@example.com"]);
    } finally {
      await admin.query("DROP USER IF EXISTS ?@'127.0.0.1', ?@'127.0.0.1'", [purger, reader]);
      await fixture.close?.();
    }
  });

  it("fails a closed port with SERVICE.UNREACHABLE, holding no email", async () => {
    const port = await freePort();
    const pool = createAccountsPool({ ...server, port, tls: false });
    pools.push(pool);
    const { error } = await failureOf(
      new MysqlApplicationAccounts(drizzle({ client: pool })).deleteByEmail("someone@example.com"),
    );
    expect(error).toMatchObject({ code: "SERVICE.UNREACHABLE" });
    expect(messages(error)).not.toContain("someone@example.com");
  });
});
