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
