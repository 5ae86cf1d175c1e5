/**
 * What every restore does with the erasure ledger: a tombstoned person is never planned, created, imported
 * or finalized, whether the erasure came before the plan or while the restore ran. Kept here, apart from the
 * restore's steps, so each step only asks "who is erased now?" and filters.
 */
import type { PlannedUser } from "../backup/restore-state.js";
import type { ErasureLedger } from "../ports/erasure-ledger.js";
import type { UserDirectory } from "../ports/user-directory.js";
import { recordedUserId } from "./person.js";

/** The erased ids as of now: loaded once per plan, and again before every step of a restore. */
export function erasedNow(ledger: ErasureLedger): Promise<ReadonlySet<string>> {
  return ledger.erasedIds();
}

/** Whether a planned user is a tombstoned person (a planned user's `sub` is its stable id). */
export function isErasedPlannedUser(planned: Pick<PlannedUser, "sub">, erased: ReadonlySet<string>): boolean {
  return erased.has(planned.sub);
}

/** The planned users who are not erased, in order. */
export function withoutErased<T extends Pick<PlannedUser, "sub">>(
  users: readonly T[],
  erased: ReadonlySet<string>,
): T[] {
  return erased.size === 0 ? [...users] : users.filter((planned) => !erased.has(planned.sub));
}

/**
 * Deletes the pool user a restore brought back although the person was erased meanwhile (an import job that
 * had started before the erasure): only when the pool user under that username carries the erased id, so a
 * newcomer who took the username is never touched. Returns whether a user was deleted.
 */
export async function removeErasedFromPool(
  directory: UserDirectory,
  planned: Pick<PlannedUser, "username" | "sub">,
): Promise<boolean> {
  const current = await directory.getUser(planned.username);
  if (!current || recordedUserId(current) !== planned.sub) return false;
  return directory.deleteUser(planned.username);
}
