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

  /**
   * Records the digest of the user's backup just written (`core/backup/backup-digest.ts`) in the profile,
   * only when the profile exists and holds `username` (a conditional write: the identity binding is never
   * crossed). `no-profile` or `identity-conflict` otherwise, with nothing written. Called after the backup
   * is written, never before: a digest never describes a backup that was not stored.
   */
  recordBackupDigest(
    id: string,
    username: string,
    digest: string,
  ): Promise<"recorded" | "no-profile" | "identity-conflict">;

  /** Deletes the profile. Idempotent: `false` when there was none. */
  delete(id: string): Promise<boolean>;
}
