/**
 * Erasing a person: a tombstone in the erasure ledger first, then the pool, the profile, every version of the
 * per-user backup, and every snapshot part (complete or not); the application's accounts table is checked and,
 * when asked, the person's rows deleted. See {@link eraseUser}.
 */
import { type ErasedPerson, isPersonsRecord } from "../erasure/person.js";
import { scrubRestores } from "../erasure/scrub-restores.js";
import { scrubSnapshots, type UnscrubbedPart } from "../erasure/scrub-snapshots.js";
import { errorCode, LifecycleError, ValidationError } from "../errors.js";
import type { ApplicationAccounts } from "../ports/application-accounts.js";
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
  /**
   * The application's accounts table, when this process can reach it (the CLI, with the accounts database's
   * settings). Without it the report says the row was not checked (`NO_DATABASE_ACCESS`).
   */
  readonly accounts?: ApplicationAccounts;
}

export interface EraseOptions {
  /**
   * Delete the person's rows in the application's accounts table. Without it the table, which is the
   * application's, is only read: the report says whether the person is still there.
   */
  readonly deleteAccountRow?: boolean;
}

/** Why the accounts table was not checked for the person. */
export type AccountRowNotChecked =
  /** No access to the accounts database: the erase function runs outside its VPC, or no settings were given. */
  | "NO_DATABASE_ACCESS"
  /** No email is known for the person (gone from the pool, no profile or backup holds one): no row to look for. */
  | "EMAIL_UNKNOWN"
  /** The database failed (`code` says how: `SERVICE.UNREACHABLE`, `DATABASE.AUTH_FAILED`, …). */
  | "DATABASE_FAILED";

/**
 * The person in the application's accounts table (rows matched by email, ignoring case): `present` — still
 * there, kept because deleting was not asked for; `deleted`; `absent` — no row holds their email;
 * `not-checked`, with the reason.
 */
export type AccountRowReport =
  | { readonly status: "absent" }
  | { readonly status: "present"; readonly rows: number }
  | { readonly status: "deleted"; readonly rows: number }
  | { readonly status: "not-checked"; readonly reason: AccountRowNotChecked; readonly code?: string };

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
  /** The person's rows in the application's accounts table, and what was done with them. */
  readonly accountRow: AccountRowReport;
  /**
   * Everything asked for is done: every part and restore scrubbed, and, when deleting the account row was asked
   * for, the table checked (a row that could not be checked is only reported otherwise).
   */
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
 *
 * The application's accounts table comes last: the person's rows, found by the email the pool, the profile or
 * the backup held (read before they are deleted), are counted, or deleted with `deleteAccountRow`. A database
 * failure there stops nothing: the rest is done, and the report says the row was not checked, with the error's
 * code — `complete: false` when deleting was asked for. A rerun cannot look again once no store holds the email.
 *
 * @throws what {@link resolveErasure} throws (then nothing is written); errors of the stores as they come
 *   (what was done stays done, the tombstone first of all: run it again by `userId`).
 */
export async function eraseUser(
  deps: EraseDeps,
  request: EraseRequest,
  options: EraseOptions = {},
): Promise<EraseReport> {
  const resolved = await resolveErasure(deps, request);
  const { person, user, identityConflict } = resolved;
  const { userId } = person;
  const tombstone =
    userId === undefined ? undefined : await deps.erasures.record({ userId, erasedAt: deps.clock.now() });
  // Read while the pool user, the profile and the backup still hold it.
  const email = deps.accounts ? await personsEmail(deps, resolved) : undefined;

  const deletedFromPool = user ? await deps.directory.deleteUser(user.username) : false;
  const profileDeleted = userId === undefined ? false : await deps.profiles.delete(userId);
  const backupVersionsDeleted = userId === undefined ? 0 : await deps.backups.eraseUserBackups(userId);
  // The pool user's username also leaves version 2 group files a snapshot wrote before listing (or without
  // ever listing) their record.
  const usernames = person.poolUser ? [person.poolUser.username] : [];
  const scrub = await scrubSnapshots(deps.backups, (record) => isPersonsRecord(person, record), {
    usernames,
  });
  const restores = await scrubRestores(deps.restores, person);
  const deleteAccountRow = options.deleteAccountRow === true;
  const accountRow = await settleAccountRow(deps.accounts, email, deleteAccountRow);

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
    accountRow,
    complete:
      scrub.unscrubbed.length === 0 &&
      restores.unscrubbedRestores.length === 0 &&
      !(deleteAccountRow && accountRow.status === "not-checked"),
  };
}

/**
 * Counts the person's rows, or deletes them; a failure of the database becomes `not-checked` with its code.
 * `email` is undefined without `accounts`, or when no store holds one.
 */
async function settleAccountRow(
  accounts: ApplicationAccounts | undefined,
  email: string | undefined,
  remove: boolean,
): Promise<AccountRowReport> {
  if (!accounts) return { status: "not-checked", reason: "NO_DATABASE_ACCESS" };
  if (email === undefined) return { status: "not-checked", reason: "EMAIL_UNKNOWN" };
  try {
    if (remove) {
      const rows = await accounts.deleteByEmail(email);
      return rows > 0 ? { status: "deleted", rows } : { status: "absent" };
    }
    const rows = await accounts.countByEmail(email);
    return rows > 0 ? { status: "present", rows } : { status: "absent" };
  } catch (error) {
    return { status: "not-checked", reason: "DATABASE_FAILED", code: errorCode(error) };
  }
}

/**
 * The person's email: the pool user's, else their profile's, else their backup's — never one kept under an id
 * that is not theirs (an identity conflict leaves only the pool user's). An unreadable backup gives none.
 */
async function personsEmail(
  deps: Pick<EraseDeps, "profiles" | "backups">,
  { person, user }: ResolvedErasure,
): Promise<string | undefined> {
  const fromPool = user?.attributes.email;
  if (fromPool) return fromPool;
  if (person.userId === undefined) return undefined;
  const profile = await deps.profiles.get(person.userId);
  if (profile?.email) return profile.email;
  const backup = await deps.backups.getUserBackup(person.userId).catch(() => undefined);
  return backup?.user.attributes.email || undefined;
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
  /** The person in the application's accounts table: `present`, `absent` or `not-checked` (never deleted here). */
  readonly accountRow: Exclude<AccountRowReport, { status: "deleted" }>;
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
    usernames: person.poolUser ? [person.poolUser.username] : [],
  });
  const restores = await scrubRestores(deps.restores, person, { dryRun: true });
  const email = user?.attributes.email || profile?.email || backup?.user.attributes.email || undefined;
  const accountRow = (await settleAccountRow(deps.accounts, email, false)) as ErasurePreview["accountRow"];
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
    accountRow,
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
