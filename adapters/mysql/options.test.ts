import { drizzle } from "drizzle-orm/mysql2";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../core/errors.js";
import { MysqlAccountStore } from "./account-store.js";
import {
  type AccountsDatabaseOptions,
  checkAccountsDatabaseOptions,
  resolveAccountsTableNames,
} from "./options.js";
import { createAccountsPool } from "./pool.js";
import { DEFAULT_ACCOUNTS_TABLE_NAMES } from "./schema.js";

const plainIdentifier = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

describe("accounts table names", () => {
  it("default to the migrated `users` table", () => {
    expect(resolveAccountsTableNames()).toEqual(DEFAULT_ACCOUNTS_TABLE_NAMES);
  });

  it("take an existing schema's names", () => {
    expect(
      resolveAccountsTableNames({
        table: "members",
        columns: {
          id: "member_no",
          confirmedAt: "verified_on",
          confirmationSentAt: "mailed_on",
          email: "mail",
        },
      }),
    ).toEqual({
      table: "members",
      id: "member_no",
      confirmedAt: "verified_on",
      confirmationSentAt: "mailed_on",
      email: "mail",
    });
  });

  it.each([
    ["accounts.table", { table: "users`; DROP TABLE users; --" }],
    ["accounts.table", { table: "app.users" }],
    ["accounts.table", { table: "" }],
    ["accounts.table", { table: "x".repeat(65) }],
    ["accounts.columns.id", { columns: { id: "1id" } }],
    ["accounts.columns.confirmedAt", { columns: { confirmedAt: "confirmed at" } }],
    ["accounts.columns.confirmationSentAt", { columns: { confirmationSentAt: "sent-at" } }],
    ["accounts.columns", { columns: { confirmedAt: "ts", confirmationSentAt: "TS" } }],
    ["accounts.columns.email", { columns: { email: "e'mail" } }],
    ["accounts.columns.email", { columns: { email: "" } }],
    ["accounts.columns", { columns: { email: "ID" } }],
  ])("reject a bad name as CONFIG.INVALID naming %s", (field, options) => {
    expect(() => resolveAccountsTableNames(options)).toThrow(
      expect.objectContaining({ name: "ValidationError", code: "CONFIG.INVALID", field }),
    );
  });

  it("accept exactly the plain identifiers (letters, digits, _; no leading digit; at most 64)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(plainIdentifier)), (name) => {
        const accepted = (() => {
          try {
            return resolveAccountsTableNames({ table: name }).table === name;
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
            return false;
          }
        })();
        expect(accepted).toBe(plainIdentifier.test(name));
      }),
    );
  });

  it("are checked when the store is built, before any statement", () => {
    const db = drizzle.mock();
    expect(() => new MysqlAccountStore(db, { columns: { id: "id; --" } })).toThrow(
      expect.objectContaining({ code: "CONFIG.INVALID", field: "accounts.columns.id" }),
    );
  });
});

describe("MysqlAccountStore input", () => {
  const store = new MysqlAccountStore(drizzle.mock());

  it.each([-1, 1.5, Number.NaN])("refuses a delete limit of %s before any statement", async (limit) => {
    await expect(store.deleteExpiredUnconfirmed(new Date(), limit)).rejects.toMatchObject({
      code: "PURGE.INVALID_INPUT",
      field: "limit",
    });
  });

  it("refuses an invalid cutoff before any statement", async () => {
    await expect(store.countExpiredUnconfirmed(new Date("nope"))).rejects.toMatchObject({
      code: "PURGE.INVALID_INPUT",
      field: "cutoff",
    });
  });
});

describe("accounts database options", () => {
  const good: AccountsDatabaseOptions = {
    host: "accounts.abc.eu-west-1.rds.amazonaws.com",
    port: 3306,
    user: "purger",
    password: "s3cret-pw-value",
    database: "app",
    tls: true,
  };

  it("default the connect timeout to 5 s", () => {
    expect(checkAccountsDatabaseOptions(good).connectTimeoutMs).toBe(5_000);
  });

  it.each([
    ["accountsDatabase.host", { host: " " }],
    ["accountsDatabase.user", { user: "" }],
    ["accountsDatabase.database", { database: "" }],
    ["accountsDatabase.password", { password: undefined }],
    ["accountsDatabase.port", { port: 0 }],
    ["accountsDatabase.port", { port: 3306.5 }],
    ["accountsDatabase.port", { port: 70_000 }],
    ["accountsDatabase.tls", { tls: "true" }],
    ["accountsDatabase.connectTimeoutMs", { connectTimeoutMs: 0 }],
  ])("reject a bad option as CONFIG.INVALID naming %s, without the password", (field, change) => {
    const options = { ...good, ...change } as unknown as AccountsDatabaseOptions;
    let thrown: unknown;
    try {
      checkAccountsDatabaseOptions(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "CONFIG.INVALID", field });
    expect(String((thrown as Error).message)).not.toContain(good.password);
  });

  it("make a pool that verifies TLS against the Amazon RDS authorities, in UTC, with a short connect timeout", async () => {
    // Building a pool opens no connection.
    const pool = createAccountsPool({ ...good, connectTimeoutMs: 2_000 });
    try {
      const config = (pool as unknown as { config: { connectionConfig: Record<string, unknown> } }).config
        .connectionConfig;
      expect(config).toMatchObject({ timezone: "Z", connectTimeout: 2_000 });
      const ssl = config.ssl as { ca: string[]; rejectUnauthorized: boolean };
      expect(ssl.rejectUnauthorized).toBe(true);
      expect(ssl.ca.length).toBeGreaterThan(0);
      expect(ssl.ca.join("\n")).toContain("-----BEGIN CERTIFICATE-----");
    } finally {
      await pool.promise().end();
    }
  });

  it("make a pool without TLS for a local server", async () => {
    const pool = createAccountsPool({ ...good, host: "127.0.0.1", tls: false });
    try {
      const config = (pool as unknown as { config: { connectionConfig: Record<string, unknown> } }).config
        .connectionConfig;
      expect(config.ssl).toBeFalsy();
    } finally {
      await pool.promise().end();
    }
  });
});
