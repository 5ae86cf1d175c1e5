/**
 * The digest of a user's backed-up state: what a per-user backup says of the user that the pool can tell
 * again by listing (username, sub, status, enabled flag, groups, attributes). Dates of capture, creation
 * and change, and the MFA flag (a listing does not tell it), are left out.
 *
 * It is kept in the user's profile item (`backupDigest`), written after every backup write, so the nightly
 * reconcile learns whether a user's backup is current from the profile it reads anyway (one batch read per
 * page of users) instead of one S3 GET per user. Two users' states with the same digest are the same state:
 * SHA-256 over a canonical form (attributes by name, groups sorted), 128 bits kept.
 */
import { createHash } from "node:crypto";
import { normalizeGroups, type User } from "../user/user.js";

/** Bumped when what is digested changes: every stored digest then differs, and is made again. */
const DIGEST_VERSION = "1";

/** `1-` and 32 lowercase hexadecimal digits. */
export function backupDigest(user: User): string {
  const attributes = Object.keys(user.attributes)
    .sort()
    .map((name) => [name, user.attributes[name]]);
  const canonical = JSON.stringify([
    user.username,
    user.sub,
    user.status,
    user.enabled,
    normalizeGroups(user.groups),
    attributes,
  ]);
  return `${DIGEST_VERSION}-${createHash("sha256").update(canonical, "utf8").digest("hex").slice(0, 32)}`;
}

/** Whether a backup's user and the user as listed now are the same state (dates and the MFA flag aside). */
export function sameBackedUpState(backup: User, current: User): boolean {
  return backupDigest(backup) === backupDigest(current);
}
