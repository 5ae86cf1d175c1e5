/**
 * The accounts purge's own login against MariaDB: after ensurePurgeLogin it can read and delete rows of the
 * accounts table and nothing more — UPDATE, INSERT, DROP, another table are refused — and a rerun converges
 * (new password, hand-made grants taken back).
 */
import { drizzle } from "drizzle-orm/mysql2";
import type { Pool, RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { errorCode } from "../../core/errors.js";
import { migrateAccounts } from "./migrate.js";
import { createAccountsPool } from "./pool.js";
import { ensurePurgeLogin } from "./purge-login.js";

const server = inject("mysql");
const database = `purge_login_${process.pid}`;
const user = `purge_${process.pid}`;
const password = "first-password-0123456789";
const admin = createAccountsPool({ ...server, tls: false }).promise();
const opened: Pool[] = [];

/** A pool logged in as the purge's login. */
function asPurge(secret = password): Pool {
  const pool = createAccountsPool({ ...server, user, password: secret, database, tls: false }).promise();
  opened.push(pool);
  return pool;
}

/** The MySQL error code a statement fails with ("" when it succeeds). */
async function refusal(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
    return "";
  } catch (error) {
    return String((error as { code?: unknown }).code ?? (error as Error).message);
  }
}

beforeAll(async () => {
  await admin.query("CREATE DATABASE ?? CHARACTER SET utf8mb4", [database]);
  const migrating = createAccountsPool({ ...server, database, tls: false });
  try {
    await migrateAccounts(drizzle({ client: migrating }));
  } finally {
    await new Promise<void>((resolve) => migrating.end(() => resolve()));
  }
  await admin.query(`CREATE TABLE \`${database}\`.other (id INT PRIMARY KEY)`);
  await admin.query(
    `INSERT INTO \`${database}\`.users (email, confirmed_at, confirmation_sent_at) VALUES
       ('a@example.com', NULL, '2020-01-01'), ('b@example.com', NULL, '2020-01-01'), ('c@example.com', NOW(), NOW())`,
  );
  await ensurePurgeLogin(admin, { user, password, database, requireTls: false });
});

afterAll(async () => {
  await Promise.allSettled(opened.map((pool) => pool.end()));
  await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
  await admin.query("DROP DATABASE IF EXISTS ??", [database]);
  await admin.end();
});

describe("the accounts purge's login", () => {
  it("may SELECT and DELETE rows of the accounts table", async () => {
    const purge = asPurge();
    const [rows] = await purge.query<RowDataPacket[]>("SELECT id FROM users WHERE confirmed_at IS NULL");
    expect(rows).toHaveLength(2);
    const [deleted] = await purge.query("DELETE FROM users WHERE email = 'a@example.com'");
    expect((deleted as { affectedRows: number }).affectedRows).toBe(1);
  });

  it("is refused UPDATE, INSERT, DROP, ALTER and any other table", async () => {
    const purge = asPurge();
    expect(await refusal(purge.query("UPDATE users SET confirmed_at = NOW()"))).toBe(
      "ER_TABLEACCESS_DENIED_ERROR",
    );
    expect(await refusal(purge.query("INSERT INTO users (email) VALUES ('x@example.com')"))).toBe(
      "ER_TABLEACCESS_DENIED_ERROR",
    );
    expect(await refusal(purge.query("DROP TABLE users"))).toBe("ER_TABLEACCESS_DENIED_ERROR");
    expect(await refusal(purge.query("ALTER TABLE users ADD COLUMN x INT"))).toBe(
      "ER_TABLEACCESS_DENIED_ERROR",
    );
    expect(await refusal(purge.query("SELECT * FROM other"))).toBe("ER_TABLEACCESS_DENIED_ERROR");
    expect(await refusal(purge.query("CREATE TABLE t (id INT)"))).toMatch(/DENIED/);
    expect(await refusal(purge.query(`DROP DATABASE \`${database}\``))).toMatch(/DENIED/);
    const [grants] = await purge.query<RowDataPacket[]>("SHOW GRANTS");
    const text = grants.map((row) => String(Object.values(row)[0])).join("\n");
    expect(text).toMatch(/GRANT SELECT, DELETE ON `[^`]+`\.`users` TO/);
    expect(text).not.toMatch(/UPDATE|INSERT|DROP|ALL PRIVILEGES/);
  });

  it("a rerun converges: the new password works, the old one not, and grants added by hand are taken back", async () => {
    await admin.query(`GRANT UPDATE ON \`${database}\`.users TO '${user}'@'%'`);
    await admin.query(`GRANT SELECT ON \`${database}\`.other TO '${user}'@'%'`);
    const rotated = "second-password-0123456789";
    await ensurePurgeLogin(admin, { user, password: rotated, database, requireTls: false });

    expect(await refusal(asPurge(password).query("SELECT 1"))).toBe("ER_ACCESS_DENIED_ERROR");
    const purge = asPurge(rotated);
    expect(await refusal(purge.query("SELECT id FROM users"))).toBe("");
    expect(await refusal(purge.query("UPDATE users SET confirmed_at = NOW()"))).toBe(
      "ER_TABLEACCESS_DENIED_ERROR",
    );
    expect(await refusal(purge.query("SELECT * FROM other"))).toBe("ER_TABLEACCESS_DENIED_ERROR");
  });

  it("refuses a hostile login name or table before any statement, naming the option", async () => {
    await expect(
      ensurePurgeLogin(admin, { user: "x'@'%' --", password, database, requireTls: false }),
    ).rejects.toMatchObject({ code: "CONFIG.INVALID", field: "purgeLogin.user" });
    await expect(
      ensurePurgeLogin(admin, { user, password, database, table: "users`; DROP", requireTls: false }),
    ).rejects.toMatchObject({ code: "CONFIG.INVALID" });
    await expect(ensurePurgeLogin(admin, { user, password: "short", database })).rejects.toSatisfy(
      (error) => errorCode(error) === "CONFIG.INVALID",
    );
  });
});
