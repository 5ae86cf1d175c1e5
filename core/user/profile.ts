import { stableUserId, type User } from "./user.js";

/**
 * The application's profile of a confirmed user, kept in the profile table keyed by `id`.
 * `id` is the stable user id (it survives a restore), `createdAt` is when the user first confirmed and never
 * changes afterwards — a forgot-password confirmation or a repeated trigger must not reset it.
 */
export interface Profile {
  readonly id: string;
  readonly username: string;
  readonly email?: string;
  readonly createdAt: Date;
  /**
   * The digest of the user's backup as last written (`core/backup/backup-digest.ts`): absent until a writer
   * records it. Not the application's: this system's own bookkeeping, so reconcile reads no backup to learn
   * it is current.
   */
  readonly backupDigest?: string;
}

/** The profile for a user confirmed at `now`. */
export function profileFor(user: User, now: Date): Profile {
  const email = user.attributes.email;
  return {
    id: stableUserId(user),
    username: user.username,
    ...(email !== undefined && email !== "" ? { email } : {}),
    createdAt: now,
  };
}
