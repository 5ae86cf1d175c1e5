import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ACCOUNTS_MIGRATIONS_FOLDER } from "./migrate.js";
import * as schema from "./schema.js";

const journal = JSON.parse(
  readFileSync(path.join(ACCOUNTS_MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"),
) as {
  entries: { idx: number; tag: string }[];
};

describe("accounts migrations", () => {
  it("match schema.ts: regenerating them from the last snapshot yields no statement (no drift)", async () => {
    // drizzle-kit's own diff, in process and offline: what `npx drizzle-kit generate` would write.
    const { generateMySQLDrizzleJson, generateMySQLMigration } = await import("drizzle-kit/api");
    const last = journal.entries.at(-1);
    const snapshotFile = `${String(last?.idx).padStart(4, "0")}_snapshot.json`;
    const snapshot = JSON.parse(
      readFileSync(path.join(ACCOUNTS_MIGRATIONS_FOLDER, "meta", snapshotFile), "utf8"),
    );
    const current = await generateMySQLDrizzleJson(schema);
    expect(await generateMySQLMigration(snapshot, current)).toEqual([]);
  }, 30_000);

  it("are the SQL files the journal lists, nothing more", () => {
    const files = readdirSync(ACCOUNTS_MIGRATIONS_FOLDER).filter((file) => file.endsWith(".sql"));
    expect(files.sort()).toEqual(journal.entries.map((entry) => `${entry.tag}.sql`).sort());
  });

  it("create the index the purge reads, on (confirmed_at, confirmation_sent_at) in that order", () => {
    const sql = journal.entries
      .map((entry) => readFileSync(path.join(ACCOUNTS_MIGRATIONS_FOLDER, `${entry.tag}.sql`), "utf8"))
      .join("\n");
    expect(sql).toContain(
      `CREATE INDEX \`${schema.PURGE_INDEX_NAME}\` ON \`users\` (\`confirmed_at\`,\`confirmation_sent_at\`);`,
    );
  });
});
