import { describe, expect, it } from "vitest";
import type { Profile } from "../user/profile.js";
import type { ProfileStore } from "./profile-store.js";

let counter = 0;
function aProfile(overrides: Partial<Profile> = {}): Profile {
  counter += 1;
  return {
    id: `00000000-0000-4000-8000-${counter.toString().padStart(12, "0")}`,
    username: `user-${counter}`,
    email: `user-${counter}@example.com`,
    createdAt: new Date("2026-01-01T00:00:00.000Z"),
    ...overrides,
  };
}

/** What every ProfileStore adapter must do. `makeStore` gives a fresh, empty store each time. */
export function describeProfileStoreContract(name: string, makeStore: () => Promise<ProfileStore>): void {
  describe(`ProfileStore contract: ${name}`, () => {
    it("creates a profile once; a repeat changes nothing, createdAt included", async () => {
      const store = await makeStore();
      const profile = aProfile();
      expect(await store.createIfAbsent(profile)).toEqual({ created: true });
      const again = {
        ...profile,
        email: "changed@example.com",
        createdAt: new Date("2027-01-01T00:00:00.000Z"),
      };
      expect(await store.createIfAbsent(again)).toEqual({ created: false });
      expect(await store.get(profile.id)).toEqual(profile);
    });

    it("keeps a profile without an email", async () => {
      const store = await makeStore();
      const { email: _email, ...profile } = aProfile();
      await store.createIfAbsent(profile);
      expect(await store.get(profile.id)).toEqual(profile);
    });

    it("returns undefined for an unknown id", async () => {
      const store = await makeStore();
      expect(await store.get("no-such-id")).toBeUndefined();
    });

    it("gets many profiles at once, more than one batch, leaving out the missing", async () => {
      const store = await makeStore();
      const profiles = Array.from({ length: 130 }, () => aProfile());
      for (const profile of profiles) await store.createIfAbsent(profile);
      const ids = [...profiles.map((p) => p.id), "missing-1", "missing-2"];
      const found = await store.getMany(ids);
      expect(found.size).toBe(130);
      for (const profile of profiles) expect(found.get(profile.id)).toEqual(profile);
      expect((await store.getMany([])).size).toBe(0);
    });

    it("keeps a backup digest given at creation, and records a new one only for the same username", async () => {
      const store = await makeStore();
      const profile = aProfile({ backupDigest: "1-00000000000000000000000000000001" });
      await store.createIfAbsent(profile);
      expect(await store.get(profile.id)).toEqual(profile);
      const digest = "1-00000000000000000000000000000002";
      expect(await store.recordBackupDigest(profile.id, profile.username, digest)).toBe("recorded");
      expect(await store.get(profile.id)).toEqual({ ...profile, backupDigest: digest });
      expect((await store.getMany([profile.id])).get(profile.id)?.backupDigest).toBe(digest);
      // Another username's write never lands on this profile: the identity binding holds.
      expect(
        await store.recordBackupDigest(profile.id, "someone-else", "1-ffffffffffffffffffffffffffffffff"),
      ).toBe("identity-conflict");
      expect((await store.get(profile.id))?.backupDigest).toBe(digest);
      // No profile: nothing is created by a digest.
      const absent = aProfile();
      expect(await store.recordBackupDigest(absent.id, absent.username, digest)).toBe("no-profile");
      expect(await store.get(absent.id)).toBeUndefined();
    });

    it("deletes idempotently", async () => {
      const store = await makeStore();
      const profile = aProfile();
      await store.createIfAbsent(profile);
      expect(await store.delete(profile.id)).toBe(true);
      expect(await store.get(profile.id)).toBeUndefined();
      expect(await store.delete(profile.id)).toBe(false);
    });
  });
}
