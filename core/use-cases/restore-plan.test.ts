import { describe, expect, it } from "vitest";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { collectImportFiles, parseImportHeader } from "../csv/index.js";
import { aBackupRecord } from "../testing/backup.js";
import { aUser } from "../testing/builders.js";
import { preparePlan } from "./restore-plan.js";
import { importFileText } from "./restore-steps.js";

const NOW = "2026-06-10T12:00:00.000Z";

function world() {
  const clock = new ManualClock(NOW);
  const directory = new InMemoryUserDirectory({ clock });
  const backups = new InMemoryBackupStore();
  return {
    clock,
    directory,
    backups,
    deps: {
      directory,
      importer: directory,
      backups,
      clock,
      sleeper: clock,
      erasures: new InMemoryErasureLedger(),
    },
  };
}

describe("preparePlan: each user as the restore needs it", () => {
  it("keeps, of two users sharing a username, the one backed up last, and says why the other is left out", async () => {
    const { backups, deps } = world();
    const older = aUser({ username: "sam@example.com" });
    const newer = aUser({ username: "sam@example.com" });
    await backups.putUserBackup(aBackupRecord({ user: older, capturedAt: new Date("2026-06-01T00:00:00Z") }));
    await backups.putUserBackup(aBackupRecord({ user: newer, capturedAt: new Date("2026-06-05T00:00:00Z") }));
    const { plan } = await preparePlan(deps, { source: { kind: "user-backups" } });
    expect(plan.users.map((planned) => planned.sub)).toEqual([newer.sub]);
    expect(plan.skipped).toEqual([
      expect.objectContaining({ username: "sam@example.com", reason: "DUPLICATE_USERNAME" }),
    ]);
  });

  it("plans import-job users as their CSV rows, cut into the very files the restore uploads", async () => {
    const { backups, deps } = world();
    const users = Array.from({ length: 5 }, (_, i) => aUser({ groups: i === 0 ? ["staff"] : [] }));
    for (const user of users) await backups.putUserBackup(aBackupRecord({ user }));
    const limits = { maxUsersPerFile: 2 };
    const prepared = await preparePlan(deps, { source: { kind: "user-backups" }, importFileLimits: limits });
    expect(prepared.importChunks?.map((chunk) => chunk.users)).toEqual([2, 2, 1]);
    expect(prepared.plan.users.every((planned) => planned.row?.endsWith("\n") && !planned.user)).toBe(true);
    expect(prepared.plan.users[0]).toMatchObject({ groups: ["staff"], enabled: true });

    const header = parseImportHeader(prepared.csvHeader ?? []);
    const sorted = [...users].sort((a, b) => (a.username < b.username ? -1 : 1));
    const expected = await collectImportFiles(header, sorted, limits);
    const stored = {
      version: 2 as const,
      plan: prepared.plan,
      chunks: prepared.importChunks ?? [],
      csvHeader: prepared.csvHeader ?? [],
    };
    const files = stored.chunks.map((_, index) => importFileText(stored, index));
    expect(files).toEqual(expected.files.map((file) => file.text));
  });

  it("skips a row no file can hold under the chosen limits, so every planned user is in a file", async () => {
    const { backups, deps } = world();
    const long = aUser({ attributes: { name: "x".repeat(1_500) } });
    const short = aUser();
    for (const user of [long, short]) await backups.putUserBackup(aBackupRecord({ user }));
    const header = parseImportHeader(await deps.importer.getCsvHeader());
    const headerBytes = Buffer.byteLength(`${header.columns.join(",")}\n`);
    const prepared = await preparePlan(deps, {
      source: { kind: "user-backups" },
      importFileLimits: { maxBytesPerFile: headerBytes + 400 },
    });
    expect(prepared.plan.users.map((planned) => planned.username)).toEqual([short.username]);
    expect(prepared.plan.skipped).toEqual([
      expect.objectContaining({ username: long.username, reason: "ROW_TOO_LONG" }),
    ]);
    expect(prepared.importChunks).toEqual([{ index: 1, users: 1 }]);
  });

  it("plans admin-create users with their record, without the dates a restore cannot set", async () => {
    const { backups, deps } = world();
    const user = aUser({ groups: ["staff"], enabled: false });
    await backups.putUserBackup(aBackupRecord({ user }));
    const { plan, importChunks } = await preparePlan(deps, {
      source: { kind: "user-backups" },
      strategy: "admin-create",
    });
    expect(importChunks).toBeUndefined();
    expect(plan.users).toHaveLength(1);
    expect(plan.users[0]).toMatchObject({ username: user.username, sub: user.sub, enabled: false });
    expect(plan.users[0]?.row).toBeUndefined();
    expect(plan.users[0]?.user).toMatchObject({ username: user.username, groups: ["staff"] });
    expect(plan.users[0]?.user?.createdAt).toBeUndefined();
  });
});
