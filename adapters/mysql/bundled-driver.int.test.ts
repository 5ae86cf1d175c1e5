/**
 * The purge-unconfirmed-accounts bundle as `npm run build` makes it, with iconv-lite swapped for
 * `iconv-lite-stub.ts`, against MariaDB: the handler purges over a utf8mb4 connection (whose handshake goes
 * through the stub's CESU-8), and a charset the stub lacks fails with its error instead of a wrong string.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { drizzle } from "drizzle-orm/mysql2";
import { build } from "esbuild";
import type * as mysql2 from "mysql2/promise";
import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { bundleOptions, buildHandlers } from "../../scripts/build.js";
import { migrateAccounts } from "./migrate.js";
import { createAccountsPool } from "./pool.js";

const run = promisify(execFile);
const root = path.resolve(__dirname, "..", "..");
const server = inject("mysql");
const database = `bundle_${process.pid}`;
const admin = createAccountsPool({ ...server, tls: false }).promise();

let outDir: string;
let purgeBundle: string;
/** mysql2/promise bundled with the handlers' options, stand-in included. */
let bundled: typeof mysql2;

beforeAll(async () => {
  // Inside the repository, so the bundles resolve the AWS SDK from node_modules as the runtime would.
  await mkdir(path.join(root, "dist"), { recursive: true });
  outDir = await mkdtemp(path.join(root, "dist", "test-bundle-"));
  [purgeBundle] = (await buildHandlers(path.join(outDir, "handlers"), ["purge-unconfirmed-accounts"])) as [
    string,
  ];
  const driverFile = path.join(outDir, "driver", "index.js");
  await build({
    ...bundleOptions(driverFile),
    stdin: { contents: 'module.exports = require("mysql2/promise");', resolveDir: root, loader: "js" },
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bundled = require(driverFile) as typeof mysql2;

  // utf8mb4 as on RDS; the throwaway server's own default stays latin1.
  await admin.query("CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", [database]);
  const migrating = createAccountsPool({ ...server, database, tls: false });
  try {
    await migrateAccounts(drizzle({ client: migrating }));
  } finally {
    await new Promise<void>((resolve) => migrating.end(() => resolve()));
  }
}, 120_000);

afterAll(async () => {
  await admin.query("DROP DATABASE IF EXISTS ??", [database]);
  await admin.end();
  await rm(outDir, { recursive: true, force: true });
});

function hoursAgo(hours: number): Date {
  return new Date(Date.now() - hours * 3_600_000);
}

describe("the purge-unconfirmed-accounts bundle", () => {
  it("carries the stand-in, not iconv-lite and its code tables", async () => {
    const text = await readFile(purgeBundle, "utf8");
    expect(text).toContain("needs iconv-lite, which this function's bundle leaves out");
    // iconv-lite's own error, and a line of its Big5 table.
    expect(text).not.toContain("Encoding not recognized");
    expect(text).not.toContain("big5hkscs");
  });

  it("deletes the expired unconfirmed accounts and keeps the others, run as the Lambda runtime loads it", async () => {
    await admin.query(`INSERT INTO ??.users (email, confirmed_at, confirmation_sent_at) VALUES ?`, [
      database,
      [
        ["expired@example.com", null, hoursAgo(72)],
        ["expired-long-ago@example.com", null, hoursAgo(24 * 30)],
        ["recent@example.com", null, hoursAgo(1)],
        ["confirmed@example.com", hoursAgo(48), hoursAgo(72)],
        ["zażółć-🦊@example.com", null, hoursAgo(2)],
      ],
    ]);
    const script = [
      "const { handler } = require(process.argv[1]);",
      "handler({}).then(",
      '  (report) => { process.stdout.write("\\nREPORT " + JSON.stringify(report) + "\\n"); process.exit(0); },',
      "  (error) => { console.error(error); process.exit(1); },",
      ");",
    ].join("\n");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_REGION: "eu-west-1",
      ACCOUNTS_DB_HOST: server.host,
      ACCOUNTS_DB_PORT: String(server.port),
      ACCOUNTS_DB_NAME: database,
      ACCOUNTS_DB_USER: server.user,
      ACCOUNTS_DB_PASSWORD: server.password,
      ACCOUNTS_DB_TLS: "false",
      PURGE_POLICY: JSON.stringify({ minAge: "24h", maxShareOfPool: 1 }),
    };
    delete env.ACCOUNTS_DB_SECRET_ARN;
    const { stdout } = await run(process.execPath, ["-e", script, purgeBundle], { env, timeout: 60_000 });
    const report = JSON.parse(/^REPORT (.*)$/m.exec(stdout)?.[1] ?? "null") as Record<string, unknown>;
    expect(report).toMatchObject({ deleted: 2, failed: 0, dryRun: false });

    const [rows] = await admin.query<RowDataPacket[]>("SELECT email FROM ??.users ORDER BY email", [
      database,
    ]);
    expect(rows.map((row) => row.email as string)).toEqual([
      "confirmed@example.com",
      "recent@example.com",
      "zażółć-🦊@example.com",
    ]);
  }, 90_000);
});

describe("mysql2 as the bundles carry it", () => {
  async function connect() {
    return bundled.createConnection({ ...server, database, timezone: "Z" });
  }

  it("connects (the handshake goes through the stand-in's CESU-8) and reads and writes utf8mb4", async () => {
    const connection = await connect();
    try {
      const [[version]] = await connection.query<RowDataPacket[]>("SELECT VERSION() AS version");
      expect(version?.version).toMatch(/MariaDB/);
      const [[echo]] = await connection.query<RowDataPacket[]>(
        "SELECT ? AS `texte €`, COUNT(*) AS n FROM users",
        ["zażółć 🦊"],
      );
      expect(echo).toEqual({ "texte €": "zażółć 🦊", n: expect.any(Number) });
      await connection.query("INSERT INTO users (email) VALUES (?)", ["to-delete-🦊@example.com"]);
      const [deleted] = await connection.query<mysql2.ResultSetHeader>("DELETE FROM users WHERE email = ?", [
        "to-delete-🦊@example.com",
      ]);
      expect(deleted.affectedRows).toBe(1);
    } finally {
      await connection.end();
    }
  });

  it("decodes a utf8mb3 result (CESU-8 to mysql2) through the stand-in", async () => {
    const connection = await connect();
    try {
      await connection.query("SET character_set_results = utf8mb3");
      const [[row]] = await connection.query<RowDataPacket[]>("SELECT _utf8mb3'zażółć' AS `naïve`");
      expect(row).toEqual({ naïve: "zażółć" });
    } finally {
      await connection.end();
    }
  });

  it("fails naming the charset when results come in one the stand-in lacks (cp1250), instead of a wrong string", async () => {
    const connection = await connect();
    try {
      await connection.query("SET character_set_results = cp1250");
      await expect(connection.query("SELECT 'zażółć' AS t")).rejects.toThrow(
        "the cp1250 character set needs iconv-lite, which this function's bundle leaves out; " +
          "the accounts database connection uses utf8mb4",
      );
    } finally {
      connection.destroy();
    }
  });
});
