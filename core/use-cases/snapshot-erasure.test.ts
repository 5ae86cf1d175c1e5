import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { parseSnapshotPart, verifyPart } from "../backup/snapshot.js";
import type { BackupStore } from "../ports/backup-store.js";
import { aUser } from "../testing/builders.js";
import { LEGACY_SUB_ATTRIBUTE } from "../user/user.js";
import { eraseUser } from "./erase-user.js";
import { reconcile } from "./reconcile.js";
import { snapshotUsers } from "./snapshot-users.js";

function world() {
  const clock = new ManualClock("2026-06-01T00:00:00.000Z");
  // One listing page: an erase deleting a user mid-listing would invalidate the page token (as in Cognito).
  const directory = new InMemoryUserDirectory({ clock });
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const erasures = new InMemoryErasureLedger();
  const deps = { clock, directory, profiles, backups, erasures, restores: backups };
  return { ...deps, deps };
}

/** Every complete snapshot reads and verifies, and no stored object holds `email`. */
async function expectGoneAndConsistent(backups: InMemoryBackupStore, email: string) {
  for (const key of backups.keys())
    for (const text of backups.versions(key)) expect(text).not.toContain(email);
  for (const snapshotId of await backups.listSnapshots()) {
    const manifest = await backups.getSnapshotManifest(snapshotId);
    let users = 0;
    for (const entry of manifest.parts) {
      const text = await backups.getSnapshotPart(snapshotId, entry.name);
      verifyPart(entry, text);
      users += parseSnapshotPart(text, entry.name).length;
    }
    expect(users).toBe(manifest.userCount);
  }
}

describe("a snapshot and an erase at the same time", () => {
  // Each point is where the erase runs, whole, in the middle of the snapshot.
  // Files in order: the group page as listed, then with its member files, then each part, its index and
  // its partition's entries.
  const points: [string, keyof BackupStore, number][] = [
    ["before the first part is written", "putSnapshotFile", 3],
    ["between two parts", "putSnapshotFile", 6],
    ["after the last part, before the manifest", "putSnapshotManifest", 1],
  ];
  it.each(points)(
    "the erased person is in no part and no manifest when the erase runs %s",
    async (_, method, nth) => {
      const w = world();
      const users = Array.from({ length: 5 }, () => aUser());
      const erased = users[1] ?? aUser();
      w.directory.seed(...users);
      await reconcile(w.deps, { userPoolId: "p" });
      let calls = 0;
      const arm = (): void =>
        w.backups.beforeNext(method, async () => {
          calls += 1;
          if (calls < nth) {
            arm();
            return;
          }
          await eraseUser(w.deps, { username: erased.username });
        });
      arm();
      const result = await snapshotUsers(w.deps, { userPoolId: "p", maxRecordsPerPart: 2, pageSize: 2 });
      expect(await w.erasures.isErased(erased.sub)).toBe(true);
      await expectGoneAndConsistent(w.backups, erased.attributes.email as string);
      expect(result.userCount).toBe(4);
      // Counted when the snapshot met them (tombstoned, or scrubbed after its manifest); not when the erase's
      // deletion from the pool refused the listing's token, and the partition, listed again, no longer held
      // them.
      expect(result.erasedLeftOut).toBe(
        method === "putSnapshotManifest" ? 1 : result.partitionRestarts > 0 ? 0 : 1,
      );
    },
  );

  it("takes the person out of the group files when the erase runs after their group was listed, before them", async () => {
    const w = world();
    const users = Array.from({ length: 5 }, () => aUser({ groups: ["staff"] }));
    const erased = users[1] ?? aUser();
    w.directory.seed(...users);
    // The second file written is the staff group's members (after its page as listed); the erase runs
    // right after it.
    let calls = 0;
    const arm = (): void =>
      w.backups.beforeNext("putSnapshotFile", async () => {
        calls += 1;
        if (calls < 3) return arm();
        await eraseUser(w.deps, { username: erased.username });
      });
    arm();
    const result = await snapshotUsers(w.deps, { userPoolId: "p" });
    await expectGoneAndConsistent(w.backups, erased.username);
    expect(result.userCount).toBe(4);
    expect(result.memberships).toBe(4);
  });

  it("leaves out people erased before it started", async () => {
    const w = world();
    const users = Array.from({ length: 3 }, () => aUser());
    w.directory.seed(...users);
    await w.erasures.record({ userId: users[0]?.sub as string, erasedAt: w.clock.now() });
    const result = await snapshotUsers(w.deps, { userPoolId: "p" });
    expect(result).toMatchObject({ userCount: 2, erasedLeftOut: 1 });
    await expectGoneAndConsistent(w.backups, users[0]?.attributes.email as string);
  });
});

describe("one bad user never fails a batch", () => {
  const bad = () => [
    aUser({ attributes: { "custom:bio": "x".repeat(2049) } }),
    aUser({ attributes: { [LEGACY_SUB_ATTRIBUTE]: "../../x" } }),
  ];

  it("a snapshot leaves out users it cannot back up, counting them by reason, and keeps the rest", async () => {
    const w = world();
    const good = Array.from({ length: 3 }, () => aUser());
    w.directory.seed(...good, ...bad());
    const result = await snapshotUsers(w.deps, { userPoolId: "p" });
    expect(result).toMatchObject({
      userCount: 3,
      skipped: 2,
      skipReasons: { "BACKUP.MALFORMED": 1, "USER.INVALID_ID": 1 },
    });
    expect(await w.backups.listSnapshots()).toEqual([result.snapshotId]);
    expect(w.backups.keys().some((key) => key.includes(".."))).toBe(false);
  });

  it("reconcile leaves them alone too, with the reason, and repairs the rest", async () => {
    const w = world();
    const good = Array.from({ length: 3 }, () => aUser());
    w.directory.seed(...good, ...bad());
    const report = await reconcile(w.deps, { userPoolId: "p" });
    expect(report).toMatchObject({
      backupsWritten: 3,
      failed: 0,
      skipped: 2,
      skipReasons: { "BACKUP.MALFORMED": 1, "USER.INVALID_ID": 1 },
    });
    expect(w.backups.keys().some((key) => key.includes(".."))).toBe(false);
  });
});

describe("reconcile and identity binding", () => {
  it("never writes over another user's profile or backup, and reports the conflict", async () => {
    const w = world();
    const victim = aUser();
    w.directory.seed(victim);
    await reconcile(w.deps, { userPoolId: "p" });
    const attacker = aUser({ attributes: { [LEGACY_SUB_ATTRIBUTE]: victim.sub } });
    w.directory.seed(attacker);
    const report = await reconcile(w.deps, { userPoolId: "p" });
    expect(report).toMatchObject({ identityConflicts: 1, skipReasons: { "USER.IDENTITY_CONFLICT": 1 } });
    expect((await w.profiles.get(victim.sub))?.username).toBe(victim.username);
    expect((await w.backups.getUserBackup(victim.sub))?.user.username).toBe(victim.username);
  });

  it("re-creates nothing for an erased person, even one erased while it writes", async () => {
    const w = world();
    const gone = aUser();
    const late = aUser();
    w.directory.seed(gone, late);
    await w.erasures.record({ userId: gone.sub, erasedAt: w.clock.now() });
    // `late` is erased (tombstone, then deletions) while reconcile writes its backup.
    w.backups.beforeNext("putUserBackup", async () => {
      await w.erasures.record({ userId: late.sub, erasedAt: w.clock.now() });
      await w.profiles.delete(late.sub);
      await w.backups.eraseUserBackups(late.sub);
    });
    const report = await reconcile(w.deps, { userPoolId: "p" });
    expect(report.skipReasons["USER.ERASED"]).toBe(1);
    for (const user of [gone, late]) {
      expect(await w.profiles.get(user.sub)).toBeUndefined();
      expect(await w.backups.getUserBackup(user.sub)).toBeUndefined();
    }
  });
});
