/**
 * Reconcile of one page of users: what the snapshot runs on each page it lists (and the whole-pool
 * `reconcile` on its own pages). Repairs what a failed or missed confirmation sync left out: a confirmed user
 * gets a profile if it has none, and a backup whenever the stored one is missing, unreadable or out of date.
 *
 * Reads: one batch read of the page's profiles. Each profile holds the digest of the user's backup as last
 * written (`backupDigest`, `core/backup/backup-digest.ts`); a user whose digest equals the digest of the
 * user as listed now (with its groups) is current, and costs nothing more. Only a user whose digest differs
 * or is missing (it drifted, its profile is missing, a writer stopped between the backup and the digest, or
 * the digest was never recorded: the first run after an upgrade) has its backup read from S3, and written
 * only when it really differs (so a rerun after a crash writes no second version). The digest is recorded
 * after the backup, never before: a digest never describes a backup that was not stored.
 *
 * Rules kept on every write: the erasure ledger is consulted before (the caller leaves tombstoned people
 * out) and after (someone erased while the page was written loses what it wrote); a stable id bound to
 * another username (profile or backup) is reported as `USER.IDENTITY_CONFLICT`, never written over; a user
 * whose record cannot be written (a value past Cognito's limits) is skipped with its reason; one user's
 * failure never fails the page.
 *
 * What a digest cannot see: a backup object changed or deleted behind this system's back while its digest
 * stays (nothing in the profile changes then). And a confirmation sync and this page writing the same
 * user's backup at the same instant from two different states can leave the last backup and the last
 * digest from different writers; the next change of that user repairs it.
 */
import { backupDigest } from "../backup/backup-digest.js";
import type { BackupRecord } from "../backup/backup-record.js";
import { errorCode, ValidationError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock } from "../ports/clock.js";
import type { ErasureLedger } from "../ports/erasure-ledger.js";
import type { ProfileStore } from "../ports/profile-store.js";
import type { Profile } from "../user/profile.js";
import type { User } from "../user/user.js";

export interface ReconcilePageDeps {
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
}

/** What reconcile did, as counts (never a username). Summed over pages and steps. */
export interface ReconcileCounts {
  /** Confirmed users checked. */
  readonly checked: number;
  readonly profilesCreated: number;
  readonly backupsWritten: number;
  /** Users whose backup was found current (by digest, or read and compared). */
  readonly backupsCurrent: number;
  /** Per-user backups read from S3 (users whose digest was missing or differed): S3 GETs of reconcile. */
  readonly backupsRead: number;
  readonly digestsRecorded: number;
  readonly failed: number;
  readonly failureCodes: Readonly<Record<string, number>>;
  /**
   * Users left alone, by reason code: `USER.INVALID_ID` (a stable id that is no UUID), `BACKUP.MALFORMED`
   * (an attribute value past Cognito's limits), `USER.IDENTITY_CONFLICT` (the id's profile or backup is
   * another username's: not written over), `USER.ERASED` (a tombstoned person).
   */
  readonly skipped: number;
  readonly skipReasons: Readonly<Record<string, number>>;
  /** Of the skipped, those whose id is bound to another username (also in `skipReasons`). */
  readonly identityConflicts: number;
}

export const NO_RECONCILE_COUNTS: ReconcileCounts = {
  checked: 0,
  profilesCreated: 0,
  backupsWritten: 0,
  backupsCurrent: 0,
  backupsRead: 0,
  digestsRecorded: 0,
  failed: 0,
  failureCodes: {},
  skipped: 0,
  skipReasons: {},
  identityConflicts: 0,
};

/** A user of the page to reconcile: as listed, with its groups, and its stable id. */
export interface PageUser {
  readonly user: User;
  readonly id: string;
}

/** `a` and `b` added up. */
export function addReconcileCounts(a: ReconcileCounts, b: ReconcileCounts): ReconcileCounts {
  const sum = (x: Readonly<Record<string, number>>, y: Readonly<Record<string, number>>) => {
    const out: Record<string, number> = { ...x };
    for (const [code, n] of Object.entries(y)) out[code] = (out[code] ?? 0) + n;
    return out;
  };
  return {
    checked: a.checked + b.checked,
    profilesCreated: a.profilesCreated + b.profilesCreated,
    backupsWritten: a.backupsWritten + b.backupsWritten,
    backupsCurrent: a.backupsCurrent + b.backupsCurrent,
    backupsRead: a.backupsRead + b.backupsRead,
    digestsRecorded: a.digestsRecorded + b.digestsRecorded,
    failed: a.failed + b.failed,
    failureCodes: sum(a.failureCodes, b.failureCodes),
    skipped: a.skipped + b.skipped,
    skipReasons: sum(a.skipReasons, b.skipReasons),
    identityConflicts: a.identityConflicts + b.identityConflicts,
  };
}

/** Counts of users skipped before reconcile saw them (poison records, tombstoned people), by reason. */
export function skippedCounts(skipReasons: Readonly<Record<string, number>>): ReconcileCounts {
  const skipped = Object.values(skipReasons).reduce((total, n) => total + n, 0);
  return { ...NO_RECONCILE_COUNTS, skipped, skipReasons: { ...skipReasons } };
}

/**
 * Reconciles one page of confirmed users (UNCONFIRMED ones and tombstoned people are the caller's to leave
 * out). Backups it writes say `source: {kind: "reconcile", userPoolId}`.
 *
 * @throws whatever the erasure ledger throws when it cannot be read after a write (the page is then done
 *   again by the caller's rerun: every write here is idempotent).
 */
export async function reconcilePage(
  deps: ReconcilePageDeps,
  users: readonly PageUser[],
  userPoolId: string,
): Promise<ReconcileCounts> {
  const {
    failureCodes: _f,
    skipReasons: _s,
    skipped: _k,
    identityConflicts: _i,
    ...zeros
  } = NO_RECONCILE_COUNTS;
  const counts = { ...zeros };
  const failureCodes: Record<string, number> = {};
  const skipReasons: Record<string, number> = {};
  const tally = (into: Record<string, number>, code: string) => {
    into[code] = (into[code] ?? 0) + 1;
  };
  const fail = (error: unknown) => {
    counts.failed += 1;
    tally(failureCodes, errorCode(error));
  };
  const result = (): ReconcileCounts => ({
    ...counts,
    failureCodes,
    skipped: Object.values(skipReasons).reduce((total, n) => total + n, 0),
    skipReasons,
    identityConflicts: skipReasons["USER.IDENTITY_CONFLICT"] ?? 0,
  });
  if (users.length === 0) return result();

  let existing: Map<string, Profile>;
  try {
    existing = await deps.profiles.getMany(users.map(({ id }) => id));
  } catch (error) {
    for (const _ of users) fail(error);
    return result();
  }
  const now = deps.clock.now();
  const written: { id: string; profile: boolean; backup: boolean }[] = [];
  await Promise.all(
    users.map(async ({ user, id }) => {
      counts.checked += 1;
      try {
        const profile = existing.get(id);
        if (profile && profile.username !== user.username) {
          tally(skipReasons, "USER.IDENTITY_CONFLICT");
          return;
        }
        const digest = backupDigest(user);
        if (profile?.backupDigest === digest) {
          counts.backupsCurrent += 1;
          return;
        }
        counts.backupsRead += 1;
        // An unreadable backup is replaced by a fresh one (it binds nobody: see boundToAnother).
        const previous = await deps.backups.getUserBackup(id).catch((error: unknown) => {
          if (error instanceof ValidationError) return undefined;
          throw error;
        });
        if (previous && previous.user.username !== user.username) {
          tally(skipReasons, "USER.IDENTITY_CONFLICT");
          return;
        }
        let backupWritten = false;
        if (previous && backupDigest(previous.user) === digest) {
          counts.backupsCurrent += 1;
        } else {
          const record: BackupRecord = {
            version: 1,
            capturedAt: now,
            source: { kind: "reconcile", userPoolId },
            // Listing does not tell MFA settings: keep what the previous backup knew.
            user: previous ? { ...user, mfaEnabled: previous.user.mfaEnabled } : user,
          };
          let outcome: Awaited<ReturnType<BackupStore["putUserBackup"]>>;
          try {
            outcome = await deps.backups.putUserBackup(record);
          } catch (error) {
            // One user whose record cannot be written never fails the page.
            if (!(error instanceof ValidationError)) throw error;
            tally(skipReasons, error.code);
            return;
          }
          if (outcome === "identity-conflict") {
            tally(skipReasons, "USER.IDENTITY_CONFLICT");
            return;
          }
          counts.backupsWritten += 1;
          backupWritten = true;
        }
        // The digest after the backup: with the new profile, or on the existing one (conditional on its
        // username).
        let profileCreated = false;
        if (!profile) {
          const email = user.attributes.email;
          const { created } = await deps.profiles.createIfAbsent({
            id,
            username: user.username,
            ...(email ? { email } : {}),
            createdAt: user.createdAt ?? now,
            backupDigest: digest,
          });
          if (created) {
            counts.profilesCreated += 1;
            counts.digestsRecorded += 1;
            profileCreated = true;
          }
        }
        if (!profileCreated) {
          const recorded = await deps.profiles.recordBackupDigest(id, user.username, digest);
          if (recorded === "recorded") counts.digestsRecorded += 1;
          else if (recorded === "identity-conflict") tally(skipReasons, "USER.IDENTITY_CONFLICT");
        }
        if (profileCreated || backupWritten) {
          written.push({ id, profile: profileCreated, backup: backupWritten });
        }
      } catch (error) {
        fail(error);
      }
    }),
  );
  // Written, then checked (as the confirmation sync does): someone erased while this page was written loses
  // what it wrote, whichever came first.
  if (written.length > 0) {
    // A ledger that cannot be read fails the page (and its step, which runs again): never leave a write
    // unchecked.
    const erased = await deps.erasures.erasedIds();
    for (const { id, profile, backup } of written) {
      if (!erased.has(id)) continue;
      try {
        if (profile) await deps.profiles.delete(id);
        if (backup) await deps.backups.eraseUserBackups(id);
      } catch (error) {
        fail(error);
      }
    }
  }
  return result();
}
