import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { aUser } from "../testing/builders.js";
import { eraseUser } from "./erase-user.js";
import { reconcile } from "./reconcile.js";
import { snapshotUsers } from "./snapshot-users.js";
import { syncConfirmedUser } from "./sync-confirmed-user.js";

function world() {
  const clock = new ManualClock("2026-06-01T00:00:00.000Z");
  const directory = new InMemoryUserDirectory({ clock, maxPageSize: 4 });
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const erasures = new InMemoryErasureLedger();
  return {
    clock,
    directory,
    profiles,
    backups,
    erasures,
    deps: { clock, directory, profiles, backups, erasures, restores: backups },
  };
}

describe("reconcile", () => {
  it("writes what a failed trigger missed: nothing is lost when the backup store was down", async () => {
    const { deps, directory, backups, profiles } = world();
    const user = aUser();
    directory.seed(user);
    backups.outage.begin();
    await expect(
      syncConfirmedUser(
        {
          userPoolId: "p",
          region: "eu-west-1",
          trigger: "ConfirmSignUp",
          triggerSource: "PostConfirmation_ConfirmSignUp",
          user,
        },
        deps,
      ),
    ).rejects.toMatchObject({ code: "SYNC.WRITE_FAILED" });
    backups.outage.end();

    const report = await reconcile(deps, { userPoolId: "p" });
    expect(report).toMatchObject({ checked: 1, profilesCreated: 0, backupsWritten: 1, failed: 0 });
    expect((await backups.getUserBackup(user.sub))?.user.username).toBe(user.username);
    expect(await profiles.get(user.sub)).toBeDefined();
  });

  it("creates missing profiles for many users, leaves current backups alone and rewrites stale ones", async () => {
    const { deps, directory, backups, profiles, clock } = world();
    const users = Array.from({ length: 70 }, () => aUser());
    directory.seed(...users, aUser({ status: "UNCONFIRMED" }));
    const first = await reconcile(deps, { userPoolId: "p" });
    expect(first).toMatchObject({ checked: 70, profilesCreated: 70, backupsWritten: 70 });
    expect(profiles.all()).toHaveLength(70);

    const changed = users[3];
    if (!changed) throw new Error("setup");
    await directory.createGroup({ name: "vip" });
    await directory.addUserToGroup(changed.username, "vip");
    clock.advance(1000);
    const second = await reconcile(deps, { userPoolId: "p" });
    expect(second).toMatchObject({ checked: 70, profilesCreated: 0, backupsWritten: 1, backupsCurrent: 69 });
    expect((await backups.getUserBackup(changed.sub))?.user.groups).toEqual(["vip"]);
  });
});

describe("eraseUser", () => {
  it("leaves no trace in the pool, the profiles, any backup version or any snapshot", async () => {
    const { deps, directory, backups, profiles, clock } = world();
    const user = aUser({ groups: ["staff"] });
    const other = aUser();
    directory.seed(user, other);
    await reconcile(deps, { userPoolId: "p" });
    await backups.putUserBackup({ version: 1, capturedAt: clock.now(), source: { kind: "reconcile" }, user });
    const manifest = await snapshotUsers(deps, { userPoolId: "p" });

    const report = await eraseUser(deps, { username: user.username });

    expect(report).toMatchObject({
      userId: user.sub,
      deletedFromPool: true,
      profileDeleted: true,
      backupVersionsDeleted: 2,
      snapshotsRewritten: 1,
    });
    expect(await directory.getUser(user.username)).toBeUndefined();
    expect(await profiles.get(user.sub)).toBeUndefined();
    for (const key of backups.keys()) {
      for (const text of backups.versions(key)) {
        expect(text).not.toContain(user.sub);
        expect(text).not.toContain(user.attributes.email);
      }
    }
    const rewritten = await backups.getSnapshotManifest(manifest.snapshotId);
    expect(rewritten.userCount).toBe(1);

    expect(await eraseUser(deps, { userId: user.sub })).toMatchObject({
      deletedFromPool: false,
      profileDeleted: false,
      backupVersionsDeleted: 0,
      snapshotsRewritten: 0,
    });
  });

  it("needs the user id when the user is no longer in the pool", async () => {
    const { deps } = world();
    await expect(eraseUser(deps, { username: "gone" })).rejects.toMatchObject({ code: "USER.NOT_FOUND" });
    await expect(eraseUser(deps, {})).rejects.toMatchObject({ code: "USER.INVALID" });
  });
});
