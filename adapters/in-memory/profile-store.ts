import type { ProfileStore } from "../../core/ports/profile-store.js";
import type { Profile } from "../../core/user/profile.js";
import { Outage } from "./outage.js";

/** Profiles in a map, with the conditional-create semantics of a DynamoDB `attribute_not_exists(id)` put. */
export class InMemoryProfileStore implements ProfileStore {
  private readonly profiles = new Map<string, Profile>();
  readonly outage = new Outage();

  async createIfAbsent(profile: Profile): Promise<{ created: boolean }> {
    this.outage.check();
    if (this.profiles.has(profile.id)) return { created: false };
    this.profiles.set(profile.id, { ...profile });
    return { created: true };
  }

  async get(id: string): Promise<Profile | undefined> {
    this.outage.check();
    const profile = this.profiles.get(id);
    return profile ? { ...profile } : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, Profile>> {
    this.outage.check();
    const found = new Map<string, Profile>();
    for (const id of ids) {
      const profile = this.profiles.get(id);
      if (profile) found.set(id, { ...profile });
    }
    return found;
  }

  async recordBackupDigest(
    id: string,
    username: string,
    digest: string,
  ): Promise<"recorded" | "no-profile" | "identity-conflict"> {
    this.outage.check();
    const profile = this.profiles.get(id);
    if (!profile) return "no-profile";
    if (profile.username !== username) return "identity-conflict";
    this.profiles.set(id, { ...profile, backupDigest: digest });
    return "recorded";
  }

  async delete(id: string): Promise<boolean> {
    this.outage.check();
    return this.profiles.delete(id);
  }

  /** Every profile (test inspection). */
  all(): Profile[] {
    return [...this.profiles.values()];
  }
}
