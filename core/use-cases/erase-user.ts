/**
 * Erasing a person: a tombstone in the erasure ledger first, then the pool, the profile, every version of the
 * per-user backup, and every snapshot part (complete or not). See {@link eraseUser}.
 */
import { type ErasedPerson, isPersonsRecord } from "../erasure/person.js";
import { scrubRestores } from "../erasure/scrub-restores.js";
import { scrubSnapshots, type UnscrubbedPart } from "../erasure/scrub-snapshots.js";
import { LifecycleError, ValidationError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock } from "../ports/clock.js";
import type { ErasureLedger } from "../ports/erasure-ledger.js";
import type { ProfileStore } from "../ports/profile-store.js";
import type { RestoreStateStore } from "../ports/restore-state-store.js";
import type { UserDirectory } from "../ports/user-directory.js";
import { maskEmail } from "../user/mask.js";
import { requireStableUserId, stableUserId, type User } from "../user/user.js";

export interface EraseDeps {
  readonly directory: UserDirectory;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  /** Restores' state (`restores/`): the person leaves every plan and progress. */
  readonly restores: RestoreStateStore;
  readonly clock: Clock;
}

/** Who to erase: the username (when the user is still in the pool) and/or the stable user id. */
export interface EraseRequest {
  readonly username?: string;
  readonly userId?: string;
}

export interface EraseReport {
  /** The stable id whose data was erased; absent when the pool user's id was not theirs (see `identityConflict`). */
  readonly userId?: string;
  /** When the person was first erased (their tombstone); absent without a trusted id. */
  readonly erasedAt?: Date;
  readonly deletedFromPool: boolean;
  readonly profileDeleted: boolean;
  readonly backupVersionsDeleted: number;
  /** Snapshots (complete or not) that held the person and were rewritten without them. */
  readonly snapshotsRewritten: number;
  readonly snapshotPartsRewritten: number;
  readonly snapshotRecordsRemoved: number;
  /**
   * Parts that could not be scrubbed (unreadable, or not matching their manifest), with the error code. Empty
   * when the erasure is complete; otherwise fix or delete those parts and erase again by `userId`.
   */
  readonly unscrubbed: readonly UnscrubbedPart[];
  /** Restores whose plan or progress named the person, rewritten without them (resumable as before). */
  readonly restoresRewritten: number;
  /** Restores whose state could not be read: not scrubbed (erase again by `userId` once fixed). */
  readonly unscrubbedRestores: readonly { readonly planId: string; readonly code: string }[];
  /**
   * The pool user's stable id (`custom:legacy_sub`, else `sub`) is bound to another username, or is not a
   * valid id: the user was erased from the pool and their own snapshot records removed, and the data kept
   * under that id — another person's — was left alone.
   */
  readonly identityConflict?: "BOUND_TO_ANOTHER_USER" | "INVALID_ID";
  readonly complete: boolean;
}

/** Who the request names, checked: the person, the pool user (if any) and whether their id is trusted. */
export interface ResolvedErasure {
  readonly person: ErasedPerson;
  /** The pool user to delete. */
  readonly user?: User;
  readonly identityConflict?: EraseReport["identityConflict"];
}

/**
 * Works out whom the request names, changing nothing.
 *
 * @throws LifecycleError `USER.INVALID` when neither is given; `USER.NOT_FOUND` when only a username is given
 *   and no such user is in the pool; ValidationError `USER.INVALID_ID` (field `userId`) for an id that is not
 *   a stable user id; LifecycleError `ERASE.USER_MISMATCH` when the username and the id belong to two
 *   different people; `ERASE.STILL_IN_POOL` when only an id is given and its user is still in the pool (name
 *   them with the username too, so the pool user is the one meant).
 */
export async function resolveErasure(
  deps: Pick<EraseDeps, "directory" | "profiles" | "backups">,
  request: EraseRequest,
): Promise<ResolvedErasure> {
  if (!request.username && !request.userId) {
    throw new LifecycleError("USER.INVALID", "Name the user to erase: a username, a user id, or both");
  }
  const requestedId =
    request.userId === undefined ? undefined : requireStableUserId(request.userId, "userId");
  const user = request.username ? await deps.directory.getUser(request.username) : undefined;
  if (request.username && !user && requestedId === undefined) {
    throw new LifecycleError(
      "USER.NOT_FOUND",
      "No user with that username is in the pool; pass the user id (custom:legacy_sub or sub) to erase its data",
    );
  }

  let poolId: string | undefined;
  let invalidId = false;
  if (user) {
    try {
      poolId = stableUserId(user);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      invalidId = true;
    }
  }
  if (requestedId !== undefined && user && poolId !== requestedId) {
    throw mismatch();
  }

  const id = requestedId ?? poolId;
  const bound = id === undefined ? undefined : await boundUsername(deps, id);
  if (requestedId !== undefined && request.username !== undefined && !user && bound !== undefined) {
    // The user left the pool: the id's own records say whose it was.
    if (bound !== request.username) throw mismatch();
  }
  if (requestedId !== undefined && request.username === undefined && bound !== undefined) {
    const holder = await deps.directory.getUser(bound);
    if (holder && safeStableId(holder) === requestedId) {
      throw new LifecycleError(
        "ERASE.STILL_IN_POOL",
        "That user id belongs to a user who is still in the pool: name them with the username as well",
      );
    }
  }

  const poolUser = user ? { username: user.username, sub: user.sub } : undefined;
  if (invalidId) {
    return { person: { ...(poolUser ? { poolUser } : {}) }, user, identityConflict: "INVALID_ID" };
  }
  if (user && bound !== undefined && bound !== user.username) {
    // The pool user carries an id that another username is bound to: erasing them must not erase that person.
    return { person: { ...(poolUser ? { poolUser } : {}) }, user, identityConflict: "BOUND_TO_ANOTHER_USER" };
  }
  return {
    person: { ...(id === undefined ? {} : { userId: id }), ...(poolUser ? { poolUser } : {}) },
    ...(user ? { user } : {}),
  };
}

/**
 * Erases a person: first a tombstone in the erasure ledger (so sync, snapshot, reconcile and every restore
 * leave them out from then on, whatever is running), then the pool user, the profile, every version of the
 * per-user backup, and their records in every snapshot part, complete or not. A part that cannot be scrubbed
 * is reported and the rest goes on (`unscrubbed`, `complete: false`); erasing again by `userId` — possible
 * after the user left the pool, since the tombstone stays — finishes the job. Idempotent: erasing again finds
 * nothing more.
 *
 * @throws what {@link resolveErasure} throws (then nothing is written); errors of the stores as they come
 *   (what was done stays done, the tombstone first of all: run it again by `userId`).
 */
export async function eraseUser(deps: EraseDeps, request: EraseRequest): Promise<EraseReport> {
  const { person, user, identityConflict } = await resolveErasure(deps, request);
  const { userId } = person;
  const tombstone =
    userId === undefined ? undefined : await deps.erasures.record({ userId, erasedAt: deps.clock.now() });

  const deletedFromPool = user ? await deps.directory.deleteUser(user.username) : false;
  const profileDeleted = userId === undefined ? false : await deps.profiles.delete(userId);
  const backupVersionsDeleted = userId === undefined ? 0 : await deps.backups.eraseUserBackups(userId);
  const scrub = await scrubSnapshots(deps.backups, (record) => isPersonsRecord(person, record));
  const restores = await scrubRestores(deps.restores, person);

  return {
    ...(userId === undefined ? {} : { userId }),
    ...(tombstone ? { erasedAt: tombstone.erasedAt } : {}),
    deletedFromPool,
    profileDeleted,
    backupVersionsDeleted,
    snapshotsRewritten: scrub.snapshotsRewritten,
    snapshotPartsRewritten: scrub.partsRewritten,
    snapshotRecordsRemoved: scrub.recordsRemoved,
    unscrubbed: scrub.unscrubbed,
    restoresRewritten: restores.restoresRewritten,
    unscrubbedRestores: restores.unscrubbedRestores,
    ...(identityConflict ? { identityConflict } : {}),
    complete: scrub.unscrubbed.length === 0 && restores.unscrubbedRestores.length === 0,
  };
}

/** What an erasure would remove, found without changing anything (the erase's preview). */
export interface ErasurePreview {
  readonly userId?: string;
  readonly identityConflict?: EraseReport["identityConflict"];
  /** The person's email, masked (`a***@example.com`), from the pool, the profile or the backup. */
  readonly maskedEmail?: string;
  /** A tombstone exists already: an earlier erasure (this one would finish what it left). */
  readonly alreadyErased: boolean;
  readonly inPool: boolean;
  readonly profile: boolean;
  readonly backup: boolean;
  /** Snapshots holding the person, with how many of their records. */
  readonly snapshots: number;
  readonly snapshotRecords: number;
  /** Parts that could not be read: the erasure would report them as not scrubbed. */
  readonly unreadable: readonly UnscrubbedPart[];
  /** Restores whose plan or progress names the person. */
  readonly restores: number;
}

/** Where the person is, everything {@link eraseUser} would remove; changes nothing. Throws as it does. */
export async function previewErasure(deps: EraseDeps, request: EraseRequest): Promise<ErasurePreview> {
  const { person, user, identityConflict } = await resolveErasure(deps, request);
  const { userId } = person;
  const profile = userId === undefined ? undefined : await deps.profiles.get(userId);
  const backup =
    userId === undefined ? undefined : await deps.backups.getUserBackup(userId).catch(() => undefined);
  const scan = await scrubSnapshots(deps.backups, (record) => isPersonsRecord(person, record), {
    dryRun: true,
  });
  const restores = await scrubRestores(deps.restores, person, { dryRun: true });
  const email = user?.attributes.email ?? profile?.email ?? backup?.user.attributes.email;
  return {
    ...(userId === undefined ? {} : { userId }),
    ...(identityConflict ? { identityConflict } : {}),
    ...(email ? { maskedEmail: maskEmail(email) } : {}),
    alreadyErased: userId === undefined ? false : await deps.erasures.isErased(userId),
    inPool: user !== undefined,
    profile: profile !== undefined,
    backup: backup !== undefined,
    snapshots: scan.snapshotsRewritten,
    snapshotRecords: scan.recordsRemoved,
    unreadable: scan.unscrubbed,
    restores: restores.restoresRewritten,
  };
}

/** The username the id is bound to: its profile's, else its backup's; `undefined` when neither exists. */
export async function boundUsername(
  deps: Pick<EraseDeps, "profiles" | "backups">,
  userId: string,
): Promise<string | undefined> {
  const profile = await deps.profiles.get(userId);
  if (profile) return profile.username;
  const backup = await deps.backups.getUserBackup(userId).catch(() => undefined);
  return backup?.user.username;
}

function safeStableId(user: User): string | undefined {
  try {
    return stableUserId(user);
  } catch {
    return undefined;
  }
}

function mismatch(): LifecycleError {
  return new LifecycleError(
    "ERASE.USER_MISMATCH",
    "The username and the user id name two different people: nothing was erased",
  );
}
