import { describe, expect, it } from "vitest";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { parseSnapshotPart } from "../backup/snapshot.js";
import { parseGroupMembers } from "../backup/snapshot-files.js";
import { aUser } from "../testing/builders.js";
import { restoreUsers } from "./restore-users.js";
import { snapshotUsers } from "./snapshot-users.js";

function pool() {
  const clock = new ManualClock("2026-06-01T00:00:00.000Z");
  const directory = new InMemoryUserDirectory({ clock, maxPageSize: 5 });
  const backups = new InMemoryBackupStore();
  const alice = aUser({ groups: ["admins", "staff"] });
  const bob = aUser({ enabled: false });
  const carol = aUser({ groups: ["staff"] });
  const pending = aUser({ status: "UNCONFIRMED" });
  directory.seed(alice, bob, carol, pending);
  return { clock, directory, backups, alice, bob, carol, pending };
}

describe("snapshotUsers", () => {
  it("writes every user in parts, the memberships in group files, and the manifest (version 2) last", async () => {
    const { clock, directory, backups, alice, carol } = pool();
    const manifest = await snapshotUsers(
      { directory, backups, clock, erasures: new InMemoryErasureLedger() },
      { userPoolId: "eu-west-1_Pool", maxRecordsPerPart: 3, pageSize: 1 },
    );
    expect(manifest.version).toBe(2);
    expect(manifest.userCount).toBe(4);
    // The builder's subs all start with 0: one partition, parts of whole pages.
    expect(manifest.parts.map((p) => [p.name, p.records])).toEqual([
      ["p-0/part-00001.jsonl", 3],
      ["p-0/part-00002.jsonl", 1],
    ]);
    expect(manifest.groups.map((g) => g.name)).toEqual(["admins", "staff"]);
    expect(await backups.listSnapshots()).toEqual([manifest.snapshotId]);
    const first = manifest.parts[0];
    const records = parseSnapshotPart(
      await backups.getSnapshotPart(manifest.snapshotId, first?.name ?? ""),
      first?.name ?? "",
    );
    // Records carry no groups in version 2: the group files do.
    expect(records.every((r) => r.user.groups.length === 0)).toBe(true);
    const members: Record<string, string[]> = {};
    for (const file of manifest.version === 2 ? manifest.groupFiles : []) {
      const text = (await backups.getSnapshotFile(manifest.snapshotId, file.name)) ?? "";
      members[file.group] = [...(members[file.group] ?? []), ...parseGroupMembers(text, file.name)];
    }
    expect(members).toEqual({ admins: [alice.username], staff: [alice.username, carol.username].sort() });
    expect(manifest.memberships).toBe(3);
  });
});

describe("restoreUsers", () => {
  it("brings deleted users back with their original sub, groups and disabled flag (import job)", async () => {
    const { clock, directory, backups, alice, bob, carol } = pool();
    const deps = {
      directory,
      backups,
      restores: backups,
      clock,
      importer: directory,
      sleeper: clock,
      erasures: new InMemoryErasureLedger(),
    };
    await snapshotUsers(deps, { userPoolId: "eu-west-1_Pool" });
    await directory.deleteUser(alice.username);
    await directory.deleteUser(bob.username);

    const report = await restoreUsers(deps);

    expect(report.plan.users.map((u) => u.username).sort()).toEqual([alice.username, bob.username].sort());
    expect(report.plan.existing).toContain(carol.username);
    expect(report.plan.skipped).toEqual([]);
    expect(report.complete).toBe(true);
    const restoredAlice = await directory.getUser(alice.username, { includeGroups: true });
    expect(restoredAlice?.attributes["custom:legacy_sub"]).toBe(alice.sub);
    expect(restoredAlice?.sub).not.toBe(alice.sub);
    expect(restoredAlice?.status).toBe("RESET_REQUIRED");
    expect(restoredAlice?.groups).toEqual(["admins", "staff"]);
    expect((await directory.getUser(bob.username))?.enabled).toBe(false);
    expect(report.finalization?.subMapping).toContainEqual({
      username: alice.username,
      oldSub: alice.sub,
      newSub: restoredAlice?.sub,
    });
  });

  it("restores into a new, empty pool, creating its groups first", async () => {
    const { clock, directory, backups, alice, carol, pending } = pool();
    await snapshotUsers(
      { directory, backups, clock, erasures: new InMemoryErasureLedger() },
      { userPoolId: "eu-west-1_Pool" },
    );
    const target = new InMemoryUserDirectory({ clock });
    const report = await restoreUsers({
      directory: target,
      importer: target,
      backups,
      restores: backups,
      clock,
      sleeper: clock,
      erasures: new InMemoryErasureLedger(),
    });
    expect(report.complete).toBe(true);
    expect(report.plan.skipped).toEqual([
      { username: pending.username, reason: "UNCONFIRMED", detail: expect.any(String) },
    ]);
    expect(report.finalization?.groupsCreated).toBe(2);
    expect((await target.getUser(alice.username, { includeGroups: true }))?.groups).toEqual([
      "admins",
      "staff",
    ]);
    expect((await target.getUser(carol.username, { includeGroups: true }))?.groups).toEqual(["staff"]);
  });

  it("imports large restores file by file, one job at a time", async () => {
    const { clock, backups } = pool();
    const source = new InMemoryUserDirectory({ clock });
    source.seed(...Array.from({ length: 5 }, () => aUser()));
    await snapshotUsers(
      { directory: source, backups, clock, erasures: new InMemoryErasureLedger() },
      { userPoolId: "eu-west-1_Pool" },
    );
    const target = new InMemoryUserDirectory({ clock });
    const report = await restoreUsers(
      {
        directory: target,
        importer: target,
        backups,
        restores: backups,
        clock,
        sleeper: clock,
        erasures: new InMemoryErasureLedger(),
      },
      { importFileLimits: { maxUsersPerFile: 2 } },
    );
    expect(report.execution?.jobs.map((job) => [job.status, job.imported])).toEqual([
      ["Succeeded", 2],
      ["Succeeded", 2],
      ["Succeeded", 1],
    ]);
    expect(report.complete).toBe(true);
    expect(target.snapshot()).toHaveLength(5);
  });

  it("restores with admin-create, sending nothing and keeping the original sub", async () => {
    const { clock, directory, backups, alice } = pool();
    await snapshotUsers(
      { directory, backups, clock, erasures: new InMemoryErasureLedger() },
      { userPoolId: "eu-west-1_Pool" },
    );
    await directory.deleteUser(alice.username);
    const report = await restoreUsers(
      { directory, backups, restores: backups, clock, sleeper: clock, erasures: new InMemoryErasureLedger() },
      { strategy: "admin-create", usernames: [alice.username] },
    );
    expect(report.complete).toBe(true);
    expect(report.plan.notFound).toEqual([]);
    expect(report.execution?.created).toBe(1);
    const restored = await directory.getUser(alice.username, { includeGroups: true });
    expect(restored?.attributes["custom:legacy_sub"]).toBe(alice.sub);
    expect(restored?.groups).toEqual(["admins", "staff"]);
  });

  it("names requested usernames that no backup holds, and does not call the restore complete", async () => {
    const { clock, directory, backups, alice } = pool();
    await snapshotUsers(
      { directory, backups, clock, erasures: new InMemoryErasureLedger() },
      { userPoolId: "eu-west-1_Pool" },
    );
    await directory.deleteUser(alice.username);
    const report = await restoreUsers(
      {
        directory,
        importer: directory,
        backups,
        restores: backups,
        clock,
        sleeper: clock,
        erasures: new InMemoryErasureLedger(),
      },
      { usernames: [alice.username, "alcie"] },
    );
    expect(report.plan.notFound).toEqual(["alcie"]);
    expect(report.plan.users.map((u) => u.username)).toEqual([alice.username]);
    expect(report.complete).toBe(false);
  });

  it("prefers a per-user backup captured after the snapshot", async () => {
    const { clock, directory, backups, alice } = pool();
    await snapshotUsers(
      { directory, backups, clock, erasures: new InMemoryErasureLedger() },
      { userPoolId: "eu-west-1_Pool" },
    );
    clock.advance(3_600_000);
    const changed = { ...alice, attributes: { ...alice.attributes, name: "Alice Changed" } };
    await backups.putUserBackup({
      version: 1,
      capturedAt: clock.now(),
      source: { kind: "reconcile" },
      user: changed,
    });
    await directory.deleteUser(alice.username);
    await restoreUsers({
      directory,
      importer: directory,
      backups,
      restores: backups,
      clock,
      sleeper: clock,
      erasures: new InMemoryErasureLedger(),
    });
    expect((await directory.getUser(alice.username))?.attributes.name).toBe("Alice Changed");
  });

  it("stops before importing anything when a snapshot part is corrupt, naming the part", async () => {
    const { clock, directory, backups, alice } = pool();
    const manifest = await snapshotUsers(
      { directory, backups, clock, erasures: new InMemoryErasureLedger() },
      { userPoolId: "eu-west-1_Pool" },
    );
    const part = manifest.parts[0];
    const key = `snapshots/${manifest.snapshotId}/${part?.name}`;
    backups.putRaw(key, (backups.versions(key).at(-1) ?? "").replace(alice.username, `${alice.username}x`));
    await directory.deleteUser(alice.username);
    await expect(
      restoreUsers({
        directory,
        importer: directory,
        backups,
        restores: backups,
        clock,
        sleeper: clock,
        erasures: new InMemoryErasureLedger(),
      }),
    ).rejects.toThrow(part?.name ?? "part");
    expect(directory.calls.get("CreateUserImportJob")).toBeUndefined();
    expect(await directory.getUser(alice.username)).toBeUndefined();
  });

  it("stops before importing anything when a group file is corrupt, naming it", async () => {
    const { clock, directory, backups, alice } = pool();
    const manifest = await snapshotUsers(
      { directory, backups, clock, erasures: new InMemoryErasureLedger() },
      { userPoolId: "eu-west-1_Pool" },
    );
    const file = manifest.version === 2 ? manifest.groupFiles[0] : undefined;
    const key = `snapshots/${manifest.snapshotId}/${file?.name}`;
    backups.putRaw(key, `${backups.versions(key).at(-1) ?? ""}"someone-else"\n`);
    await directory.deleteUser(alice.username);
    const deps = {
      directory,
      importer: directory,
      backups,
      restores: backups,
      clock,
      sleeper: clock,
      erasures: new InMemoryErasureLedger(),
    };
    await expect(restoreUsers(deps)).rejects.toThrow(file?.name ?? "group file");
    expect(directory.calls.get("CreateUserImportJob")).toBeUndefined();
  });

  it("plans without changing anything in a dry run, listing skipped and malformed backups", async () => {
    const { clock, directory, backups, alice } = pool();
    await backups.putUserBackup({
      version: 1,
      capturedAt: clock.now(),
      source: { kind: "reconcile" },
      user: alice,
    });
    backups.putRaw("users/broken.json", "{not json");
    await directory.deleteUser(alice.username);
    const report = await restoreUsers(
      {
        directory,
        importer: directory,
        backups,
        restores: backups,
        clock,
        sleeper: clock,
        erasures: new InMemoryErasureLedger(),
      },
      { source: { kind: "user-backups" }, dryRun: true },
    );
    expect(report.plan.users.map((u) => u.username)).toEqual([alice.username]);
    expect(report.plan.malformedBackups).toEqual(["users/broken.json"]);
    expect(report.execution).toBeUndefined();
    expect(await directory.getUser(alice.username)).toBeUndefined();
  });
});
