import type { Profile } from "../user/profile.js";

/** The application's profiles of confirmed users, keyed by the stable user id. */
export interface ProfileStore {
  /**
   * Creates the profile unless one with the same `id` exists (a conditional write). Idempotent: a repeat,
   * a retried trigger or a forgot-password confirmation never changes an existing profile — in particular
   * never its `createdAt`. Returns whether this call created it.
   */
  createIfAbsent(profile: Profile): Promise<{ created: boolean }>;

  /** The profile, or `undefined`. */
  get(id: string): Promise<Profile | undefined>;

  /** The profiles that exist among `ids` (any number; adapters batch). Missing ids are simply absent. */
  getMany(ids: readonly string[]): Promise<Map<string, Profile>>;

  /** Deletes the profile. Idempotent: `false` when there was none. */
  delete(id: string): Promise<boolean>;
}
