import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { SteppingClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { backupDigest } from "../backup/backup-digest.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { ProfileStore } from "../ports/profile-store.js";
import type { UserDirectory } from "../ports/user-directory.js";
import { runSteps } from "../steps/step.js";
import { CrashInjector, everyBoundary, runStepsThroughCrashes } from "../testing/crash.js";
import { aUser } from "../testing/builders.js";
import { LEGACY_SUB_ATTRIBUTE, stableUserId, type User } from "../user/user.js";
import { snapshotReport, snapshotStep, startSnapshot } from "./snapshot-users.js";
import { syncConfirmedUser } from "./sync-confirmed-user.js";

const POOL = "eu-west-1_Reconcile";
const GROUPS = ["admins", "staff", "beta"];

/** `count` users, subs spread over the sixteen partitions, in some of three groups. */
function aPool(count: number): User[] {
  return Array.from({ length: count }, (_, i) =>
    aUser({
      sub: `${(i % 16).toString(16)}${String(i).padStart(7, "0")}-0000-4000-8000-000000000000`,
      groups: GROUPS.filter((_, g) => (i + g) % (g + 2) === 0),
    }),
  );
}

function aWorld(users: readonly User[]) {
  const clock = new SteppingClock("2026-06-01T02:00:00.000Z", 1_000);
  const directory = new InMemoryUserDirectory({ clock });
  directory.seed(...users);
  return {
    clock,
    directory,
    backups: new InMemoryBackupStore(),
    profiles: new InMemoryProfileStore(),
    erasures: new InMemoryErasureLedger(),
  };
}
type World = ReturnType<typeof aWorld>;

const OPTIONS = {
  userPoolId: POOL,
  reconcile: true,
  pageSize: 5,
  maxRecordsPerPart: 10,
  maxMembersPerGroupFile: 20,
  marginMs: 20_000,
};

/** A whole snapshot with reconcile, in steps; S3 GETs of per-user backups counted. */
async function nightly(world: World, options = OPTIONS) {
  let gets = 0;
  const backups = new Proxy(world.backups, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== "getUserBackup" || typeof value !== "function") return value;
      return (id: string) => {
        gets += 1;
        return target.getUserBackup(id);
      };
    },
  });
  let steps = 0;
  const { state } = await runSteps(
    snapshotStep({ ...world, backups }, options),
    startSnapshot(options, world.clock),
    { clock: world.clock, stepBudgetMs: 25_000, onState: () => void (steps += 1) },
  );
  const report = await snapshotReport(world.backups, state);
  return { state, report, gets, steps };
}

/** Every confirmed user's backup, profile and digest agree with the pool as it is now. */
async function expectConsistent(world: World, except: ReadonlySet<string> = new Set()) {
  for (const user of world.directory.snapshot()) {
    if (user.status === "UNCONFIRMED" || except.has(user.username)) continue;
    const id = stableUserId(user);
    const backup = await world.backups.getUserBackup(id);
    const profile = await world.profiles.get(id);
    expect(backup?.user.groups, user.username).toEqual(user.groups);
    expect(profile?.username, user.username).toBe(user.username);
    expect(profile?.backupDigest, user.username).toBe(backupDigest(backup?.user as User));
    expect(profile?.backupDigest, user.username).toBe(backupDigest(user));
  }
}

/** How many versions each user's backup has (a backup written twice has one too many). */
function backupVersions(world: World): Map<string, number> {
  return new Map(
    world.directory
      .snapshot()
      .map((user) => [
        user.username,
        world.backups.versions(InMemoryBackupStore.userKey(stableUserId(user))).length,
      ]),
  );
}

describe("reconcile on the snapshot's pages", () => {
  it("creates missing profiles and backups with their groups, then reads no backup of a current user", async () => {
    const users = aPool(320);
    const world = aWorld(users);
    const first = await nightly(world);
    // No digest anywhere yet (the first run after an upgrade): each user's backup is looked at once.
    expect(first.report.reconcile).toMatchObject({
      checked: 320,
      profilesCreated: 320,
      backupsWritten: 320,
      backupsRead: 320,
      failed: 0,
      skipped: 0,
    });
    expect(first.steps).toBeGreaterThan(10);
    await expectConsistent(world);
    expect(new Set(backupVersions(world).values())).toEqual(new Set([1]));

    const second = await nightly(world);
    expect(second.report.reconcile).toMatchObject({
      checked: 320,
      profilesCreated: 0,
      backupsWritten: 0,
      backupsCurrent: 320,
      backupsRead: 0,
    });
    expect(second.gets).toBe(0);

    // Drift: one user's attributes, another's groups; a third lost its profile.
    const [renamed, moved, lost] = [users[17], users[40], users[99]] as [User, User, User];
    world.directory.seed({ ...renamed, attributes: { ...renamed.attributes, name: "Renamed" }, groups: [] });
    await world.directory.addUserToGroup(moved.username, "beta");
    await world.profiles.delete(stableUserId(lost));
    const third = await nightly(world);
    expect(third.report.reconcile).toMatchObject({
      checked: 320,
      profilesCreated: 1,
      backupsWritten: 2,
      backupsCurrent: 318,
      backupsRead: 3,
    });
    // S3 GETs of reconcile per user: 3 / 320, under 0.01.
    expect(third.gets / third.report.reconcile.checked).toBeLessThanOrEqual(0.01);
    for (const user of world.directory.snapshot()) {
      const backup = await world.backups.getUserBackup(stableUserId(user));
      expect(backup?.user.groups).toEqual(user.groups);
      expect(backupDigest(backup?.user as User)).toBe(backupDigest(user));
    }
  });

  it("covers the whole pool in one pass across steps: every user checked once, no page listed twice", async () => {
    const users = aPool(200);
    const world = aWorld(users);
    const before = world.directory.calls.get("ListUsers") ?? 0;
    const { report, steps } = await nightly(world);
    expect(steps).toBeGreaterThan(10);
    expect(report.reconcile.checked).toBe(200);
    // 16 partitions of 12 or 13 users, pages of 5: 3 pages each, never a page again.
    expect((world.directory.calls.get("ListUsers") ?? 0) - before).toBe(16 * 3);
  });

  it("keeps the integrity rules: erased people, identity conflicts, poison records and bad ids", async () => {
    const users = aPool(48);
    const world = aWorld(users);
    const erased = users[5] as User;
    await world.erasures.record({ userId: stableUserId(erased), erasedAt: world.clock.now() });
    // Another username claims users[6]'s stable id: its profile and backup hold users[6].
    const owner = users[6] as User;
    await syncConfirmedUser(
      {
        userPoolId: POOL,
        region: "eu-west-1",
        trigger: "ConfirmSignUp",
        triggerSource: "PostConfirmation_ConfirmSignUp",
        user: owner,
      },
      world,
    );
    const claimant = aUser({
      sub: "60000099-0000-4000-8000-000000000000",
      attributes: { [LEGACY_SUB_ATTRIBUTE]: stableUserId(owner) },
    });
    const tooLong = aUser({
      sub: "70000099-0000-4000-8000-000000000000",
      attributes: { "custom:bio": "x".repeat(2049) },
    });
    const badId = aUser({
      sub: "80000099-0000-4000-8000-000000000000",
      attributes: { [LEGACY_SUB_ATTRIBUTE]: "../x" },
    });
    world.directory.seed(claimant, tooLong, badId);
    const ownerProfile = await world.profiles.get(stableUserId(owner));
    const ownerBackup = world.backups.versions(InMemoryBackupStore.userKey(stableUserId(owner)));

    const { report } = await nightly(world);
    expect(report.reconcile.skipReasons).toEqual({
      "USER.ERASED": 1,
      "USER.IDENTITY_CONFLICT": 1,
      "BACKUP.MALFORMED": 1,
      "USER.INVALID_ID": 1,
    });
    expect(report.reconcile).toMatchObject({ identityConflicts: 1, skipped: 4, failed: 0 });
    expect(await world.profiles.get(stableUserId(erased))).toBeUndefined();
    expect(await world.backups.getUserBackup(stableUserId(erased))).toBeUndefined();
    // The owner's profile and backup are as the owner left them: never written over by the claimant.
    expect(await world.profiles.get(stableUserId(owner))).toEqual(ownerProfile);
    expect(world.backups.versions(InMemoryBackupStore.userKey(stableUserId(owner)))).toEqual(ownerBackup);
    expect(world.backups.keys().some((key) => key.includes(".."))).toBe(false);
    await expectConsistent(
      world,
      new Set([erased.username, claimant.username, tooLong.username, badId.username, owner.username]),
    );
  });

  it("takes back what it wrote for someone erased while their page was written", async () => {
    const users = aPool(32);
    const world = aWorld(users);
    const target = users[9] as User;
    const id = stableUserId(target);
    const backups = new Proxy(world.backups, {
      get(store, property, receiver) {
        const value = Reflect.get(store, property, receiver) as unknown;
        if (property !== "putUserBackup" || typeof value !== "function") return value;
        return async (record: Parameters<BackupStore["putUserBackup"]>[0]) => {
          const outcome = await store.putUserBackup(record);
          // The erase runs right after this user's backup is written (its ledger entry, then its deletions).
          if (stableUserId(record.user) === id)
            await world.erasures.record({ userId: id, erasedAt: world.clock.now() });
          return outcome;
        };
      },
    });
    const { state } = await runSteps(
      snapshotStep({ ...world, backups }, OPTIONS),
      startSnapshot(OPTIONS, world.clock),
      { clock: world.clock, stepBudgetMs: 25_000 },
    );
    expect(state.phase).toBe("done");
    expect(await world.profiles.get(id)).toBeUndefined();
    expect(world.backups.versions(InMemoryBackupStore.userKey(id))).toEqual([]);
  });

  it("leaves no member bucket or entries file behind, and a manifest as without reconcile", async () => {
    const world = aWorld(aPool(64));
    const { state } = await nightly(world);
    const files = await world.backups.listSnapshotFiles(state.snapshotId);
    expect(files.filter((name) => name.startsWith("members-") || name.endsWith("parts.json"))).toEqual([]);
  });

  // A run per boundary over a small pool: most users synced at confirmation, some never, some drifted since.
  it(
    "loses, doubles and writes back nothing when killed at any boundary of its reconcile writes, then run again",
    { timeout: 300_000 },
    async () => {
      const users = aPool(24);
      const erased = users[3] as User;
      const scenario = async (injector: CrashInjector) => {
        const world = aWorld(users);
        for (const [i, user] of users.entries()) {
          if (i % 4 === 1) continue; // never synced: no profile, no backup
          await syncConfirmedUser(
            {
              userPoolId: POOL,
              region: "eu-west-1",
              trigger: "ConfirmSignUp",
              triggerSource: "PostConfirmation_ConfirmSignUp",
              user: { ...user, groups: [] },
            },
            world,
          );
        }
        // Drifted since: attributes changed (the groups differ from the synced backups too).
        for (const user of users.filter((_, i) => i % 4 === 2)) {
          world.directory.seed({ ...user, attributes: { ...user.attributes, name: "Changed" }, groups: [] });
        }
        await world.erasures.record({ userId: stableUserId(erased), erasedAt: world.clock.now() });
        await world.profiles.delete(stableUserId(erased));
        await world.backups.eraseUserBackups(stableUserId(erased));
        const options = {
          userPoolId: POOL,
          reconcile: true,
          pageSize: 3,
          maxRecordsPerPart: 6,
          maxMembersPerGroupFile: 10,
          marginMs: 20_000,
        };
        const { state } = await runStepsThroughCrashes(
          () =>
            snapshotStep(
              {
                clock: world.clock,
                erasures: world.erasures,
                backups: injector.wrap<BackupStore>(world.backups, "backups", [
                  "getUserBackup",
                  "putUserBackup",
                  "putSnapshotFile",
                  "putSnapshotManifest",
                ]),
                profiles: injector.wrap<ProfileStore>(world.profiles, "profiles"),
                directory: injector.wrap<UserDirectory>(world.directory, "directory", [
                  "listUsers",
                  "listGroupMembers",
                ]),
              },
              options,
            ),
          startSnapshot(options, world.clock),
          { clock: world.clock, stepBudgetMs: 25_000, injector },
        );
        return { world, state };
      };
      let expectedVersions = new Map<string, number>();
      const boundaries = await everyBoundary(async (injector) => {
        const { world } = await scenario(injector);
        expectedVersions = backupVersions(world);
      });
      expect(boundaries.length).toBeGreaterThan(100);
      for (const boundary of boundaries) {
        const { world, state } = await scenario(new CrashInjector([boundary]));
        const failure = `crash at boundary ${boundary}`;
        expect(state.phase, failure).toBe("done");
        await expectConsistent(world, new Set([erased.username]));
        expect(backupVersions(world), failure).toEqual(expectedVersions);
        expect(await world.profiles.get(stableUserId(erased)), failure).toBeUndefined();
        expect(await world.backups.getUserBackup(stableUserId(erased)), failure).toBeUndefined();
        const manifest = await world.backups.getSnapshotManifest(state.snapshotId);
        expect(manifest.userCount, failure).toBe(users.length - 1);
      }
    },
  );
});
