import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryProfileStore } from "../../adapters/in-memory/profile-store.js";
import { aUser } from "../testing/builders.js";
import type { ConfirmationEvent } from "../user/post-confirmation.js";
import type { User } from "../user/user.js";
import { syncConfirmedUser } from "./sync-confirmed-user.js";

function setup() {
  const clock = new ManualClock("2026-06-01T12:00:00.000Z");
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  return { clock, profiles, backups, deps: { clock, profiles, backups } };
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
  it("creates the profile and writes the backup of a newly confirmed user", async () => {
    const { deps, profiles, backups } = setup();
    const user = aUser();
    const result = await syncConfirmedUser(confirmation(user), deps);
    expect(result).toEqual({ userId: user.sub, profile: "created", backup: "written" });
    expect(await profiles.get(user.sub)).toEqual({
      id: user.sub,
      username: user.username,
      email: user.attributes.email,
      createdAt: new Date("2026-06-01T12:00:00.000Z"),
    });
    const backup = await backups.getUserBackup(user.sub);
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
