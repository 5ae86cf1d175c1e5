/**
 * Who an erasure is about, as data is matched against it. A person is their stable user id; when that id
 * cannot be trusted (it belongs to another username, or is not a UUID: a hostile `custom:legacy_sub`), the
 * person is only the pool user itself, matched by username and the pool's own `sub` — never by the id.
 */
import { isStableUserId, LEGACY_SUB_ATTRIBUTE, type User } from "../user/user.js";

export interface ErasedPerson {
  /** The stable id whose data goes (absent when the id is not the person's). */
  readonly userId?: string;
  /** The pool user being erased, when there is one: its own records go even without a trusted id. */
  readonly poolUser?: { readonly username: string; readonly sub: string };
}

/** The stable id a record carries, without throwing: `undefined` when it is not a valid one. */
export function recordedUserId(user: Pick<User, "sub" | "attributes">): string | undefined {
  const legacy = Object.hasOwn(user.attributes, LEGACY_SUB_ATTRIBUTE)
    ? user.attributes[LEGACY_SUB_ATTRIBUTE]
    : undefined;
  const id = legacy !== undefined && legacy !== "" ? legacy : user.sub;
  return isStableUserId(id) ? id : undefined;
}

/** Whether a backed-up user (a snapshot line, a backup) is the person. */
export function isPersonsRecord(person: ErasedPerson, user: Pick<User, "username" | "sub" | "attributes">) {
  if (person.userId !== undefined && recordedUserId(user) === person.userId) return true;
  const own = person.poolUser;
  return own !== undefined && user.username === own.username && user.sub === own.sub;
}

/** Whether a restore plan's user is the person (a planned user's `sub` is its stable id before the restore). */
export function isPersonsPlannedUser(
  person: ErasedPerson,
  planned: { readonly username: string; readonly sub: string },
) {
  if (person.userId !== undefined && planned.sub === person.userId) return true;
  // Without a trusted id, the pool user's own username: plans carry no pool sub to tell two apart.
  return person.userId === undefined && person.poolUser?.username === planned.username;
}
