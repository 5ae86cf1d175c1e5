import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../../adapters/in-memory/profile-store.js";
import { aUser } from "../testing/builders.js";
import type { ConfirmationEvent } from "../user/post-confirmation.js";
import { LEGACY_SUB_ATTRIBUTE, type User } from "../user/user.js";
import { backupDigest } from "../backup/backup-digest.js";
import { syncConfirmedUser } from "./sync-confirmed-user.js";

function setup() {
  const clock = new ManualClock("2026-06-01T12:00:00.000Z");
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const erasures = new InMemoryErasureLedger();
  return { clock, profiles, backups, erasures, deps: { clock, profiles, backups, erasures } };
}

function confirmation(
  user: User,
  trigger: ConfirmationEvent["trigger"] = "ConfirmSignUp",
): ConfirmationEvent {
  return {
    userPoolId: "eu-west-1_Pool",
    region: "eu-west-1",
    trigger,
    triggerSource: `PostConfirmation_${trigger}`,
    user: { ...user, groups: [], createdAt: undefined, modifiedAt: undefined } as User,
  };
}

describe("syncConfirmedUser", () => {
  it("records the digest of the backup it wrote in the profile, after the backup, for reconcile to read", async () => {
    const { deps, profiles, backups } = setup();
    const user = aUser();
    let backupWritten = false;
    backups.beforeNext("putUserBackup", async () => {
      expect((await profiles.get(user.sub))?.backupDigest).toBeUndefined();
      backupWritten = true;
    });
    await syncConfirmedUser(confirmation(user), deps);
    expect(backupWritten).toBe(true);
    const backup = await backups.getUserBackup(user.sub);
    expect(backup).toBeDefined();
    expect((await profiles.get(user.sub))?.backupDigest).toBe(backupDigest(backup?.user as User));
  });

  it("records no digest over another username's profile (identity binding)", async () => {
    const { deps, profiles } = setup();
    const owner = aUser();
    await syncConfirmedUser(confirmation(owner), deps);
    const before = await profiles.get(owner.sub);
    const claimant = aUser({ attributes: { [LEGACY_SUB_ATTRIBUTE]: owner.sub, email: "c@example.com" } });
    const result = await syncConfirmedUser(confirmation(claimant), deps);
    expect(result.profile).toBe("identity-conflict");
    expect(await profiles.get(owner.sub)).toEqual(before);
  });

  it("creates the profile and writes the backup of a newly confirmed user", async () => {
    const { deps, profiles, backups } = setup();
    const user = aUser();
    const result = await syncConfirmedUser(confirmation(user), deps);
    expect(result).toEqual({ userId: user.sub, profile: "created", backup: "written" });
    const backup = await backups.getUserBackup(user.sub);
    expect(await profiles.get(user.sub)).toEqual({
      id: user.sub,
      username: user.username,
      email: user.attributes.email,
      createdAt: new Date("2026-06-01T12:00:00.000Z"),
      backupDigest: backupDigest(backup?.user as User),
    });
    expect(backup?.source).toEqual({
      kind: "post-confirmation",
      userPoolId: "eu-west-1_Pool",
      trigger: "PostConfirmation_ConfirmSignUp",
    });
    expect(backup?.user.attributes.email).toBe(user.attributes.email);
  });

  it("is idempotent under retries: one profile, createdAt unchanged, one backup location", async () => {
    const { deps, clock, profiles, backups } = setup();
    const user = aUser();
    await syncConfirmedUser(confirmation(user), deps);
    clock.advance(60_000);
    const again = await syncConfirmedUser(confirmation(user), deps);
    expect(again.profile).toBe("existed");
    expect((await profiles.get(user.sub))?.createdAt).toEqual(new Date("2026-06-01T12:00:00.000Z"));
    expect(profiles.all()).toHaveLength(1);
    expect(backups.keys()).toEqual([`users/${user.sub}.json`]);
  });

  it("on a forgot-password confirmation keeps createdAt and what the backup knew of groups and MFA", async () => {
    const { deps, clock, profiles, backups } = setup();
    const user = aUser();
    await syncConfirmedUser(confirmation(user), deps);
    await backups.putUserBackup({
      version: 1,
      capturedAt: clock.now(),
      source: { kind: "reconcile" },
      user: { ...user, groups: ["admins"], mfaEnabled: true },
    });
    clock.advance(86_400_000);
    const result = await syncConfirmedUser(confirmation(user, "ConfirmForgotPassword"), deps);
    expect(result.profile).toBe("existed");
    expect((await profiles.get(user.sub))?.createdAt).toEqual(new Date("2026-06-01T12:00:00.000Z"));
    const backup = await backups.getUserBackup(user.sub);
    expect(backup?.user.groups).toEqual(["admins"]);
    expect(backup?.user.mfaEnabled).toBe(true);
    expect(backup?.source.trigger).toBe("PostConfirmation_ConfirmForgotPassword");
  });

  it("creates a missing profile on a forgot-password confirmation (a user from before the system)", async () => {
    const { deps, profiles } = setup();
    const user = aUser();
    const result = await syncConfirmedUser(confirmation(user, "ConfirmForgotPassword"), deps);
    expect(result.profile).toBe("created");
    expect(await profiles.get(user.sub)).toBeDefined();
  });

  it("keys a restored user's profile and backup on its original sub", async () => {
    const { deps, profiles, backups } = setup();
    const restored = aUser({ attributes: { "custom:legacy_sub": "11111111-1111-4111-8111-111111111111" } });
    await syncConfirmedUser(confirmation(restored, "ConfirmForgotPassword"), deps);
    expect(await profiles.get("11111111-1111-4111-8111-111111111111")).toBeDefined();
    expect(await backups.getUserBackup("11111111-1111-4111-8111-111111111111")).toBeDefined();
  });

  it("still writes the profile when the backup store is down, and says which write failed", async () => {
    const { deps, profiles, backups } = setup();
    backups.outage.begin();
    const user = aUser();
    const error = await syncConfirmedUser(confirmation(user), deps).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "SYNC.WRITE_FAILED",
      details: { failed: { backup: "ECONNREFUSED" } },
    });
    expect(String(error)).not.toContain(user.attributes.email);
    expect(await profiles.get(user.sub)).toBeDefined();
  });
});

describe("syncConfirmedUser: identity binding and the erasure ledger", () => {
  it("a sign-up claiming another user's id (custom:legacy_sub) overwrites neither their profile nor their backup", async () => {
    const { deps, profiles, backups } = setup();
    const victim = aUser();
    await syncConfirmedUser(confirmation(victim), deps);
    const attacker = aUser({ attributes: { [LEGACY_SUB_ATTRIBUTE]: victim.sub } });
    const result = await syncConfirmedUser(confirmation(attacker), deps);
    expect(result).toEqual({ userId: victim.sub, profile: "identity-conflict", backup: "identity-conflict" });
    expect((await profiles.get(victim.sub))?.username).toBe(victim.username);
    const backup = await backups.getUserBackup(victim.sub);
    expect(backup?.user.username).toBe(victim.username);
    expect(backup?.user.attributes.email).toBe(victim.attributes.email);
    expect(backups.versions(InMemoryBackupStore.userKey(victim.sub))).toHaveLength(1);
  });

  it.each(["../../x", "__proto__", "x".repeat(2049)])(
    "refuses a stable id that is no UUID (%s) with a typed error naming the attribute, writing nothing",
    async (legacy) => {
      const { deps, profiles, backups } = setup();
      const user = aUser({ attributes: { [LEGACY_SUB_ATTRIBUTE]: legacy } });
      await expect(syncConfirmedUser(confirmation(user), deps)).rejects.toMatchObject({
        name: "ValidationError",
        code: "USER.INVALID_ID",
        field: LEGACY_SUB_ATTRIBUTE,
      });
      expect(profiles.all()).toEqual([]);
      expect(backups.keys()).toEqual([]);
    },
  );

  it("writes nothing for an erased person (a retried trigger after the erase)", async () => {
    const { deps, profiles, backups, erasures, clock } = setup();
    const user = aUser();
    await erasures.record({ userId: user.sub, erasedAt: clock.now() });
    expect(await syncConfirmedUser(confirmation(user), deps)).toEqual({
      userId: user.sub,
      profile: "erased",
      backup: "erased",
    });
    expect(profiles.all()).toEqual([]);
    expect(backups.keys()).toEqual([]);
  });

  it("an erase that starts while the writes are in flight leaves nothing of the person", async () => {
    const { deps, profiles, backups, erasures, clock } = setup();
    const user = aUser();
    // The erase (tombstone, then deletions) runs right after the backup is written, before the re-check.
    backups.beforeNext("putUserBackup", async () => {
      erasures.beforeNextCall = async () => {
        await erasures.record({ userId: user.sub, erasedAt: clock.now() });
        await profiles.delete(user.sub);
        await backups.eraseUserBackups(user.sub);
      };
    });
    const result = await syncConfirmedUser(confirmation(user), deps);
    expect(result.profile).toBe("erased");
    expect(await profiles.get(user.sub)).toBeUndefined();
    expect(backups.keys()).toEqual([]);
  });
});
