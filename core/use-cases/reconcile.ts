import type { BackupRecord } from "../backup/backup-record.js";
import { errorCode, ValidationError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock } from "../ports/clock.js";
import type { ErasureLedger } from "../ports/erasure-ledger.js";
import type { ProfileStore } from "../ports/profile-store.js";
import type { Profile } from "../user/profile.js";
import {
  allUsers,
  groupMemberships,
  MAX_USERS_PAGE_SIZE,
  type UserDirectory,
} from "../ports/user-directory.js";
import { normalizeGroups, stableUserId, type User } from "../user/user.js";

export interface ReconcileDeps {
  readonly directory: UserDirectory;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
}

export interface ReconcileOptions {
  readonly userPoolId: string;
  /** Stop at this instant; the next run picks up what is left. */
  readonly deadline?: Date;
}

export interface ReconcileReport {
  /** Users checked (every user that has confirmed, whatever its status now). */
  readonly checked: number;
  readonly profilesCreated: number;
  readonly backupsWritten: number;
  readonly backupsCurrent: number;
  readonly failed: number;
  readonly failureCodes: Readonly<Record<string, number>>;
  /**
   * Users left alone, by reason code (never a username): `USER.INVALID_ID` (a stable id that is no UUID),
   * `BACKUP.MALFORMED` (an attribute value past Cognito's limits), `USER.IDENTITY_CONFLICT` (the id's profile
   * or backup is another username's: not written over), `USER.ERASED` (a tombstoned person).
   */
  readonly skipped: number;
  readonly skipReasons: Readonly<Record<string, number>>;
  /** Of the skipped, those whose id is bound to another username (also in `skipReasons`). */
  readonly identityConflicts: number;
  readonly stoppedBy: "completed" | "time-budget";
}

/**
 * Repairs what a failed or missed trigger left out: every user that has confirmed gets a profile if it has
 * none, and a backup whenever the stored one is missing, unreadable or out of date (attributes, status,
 * enabled flag or groups changed since). Safe to run any time: it only creates what is missing and rewrites
 * what differs.
 */
export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const { membership } = await groupMemberships(deps.directory);
  let erased = await deps.erasures.erasedIds();
  const counts = { checked: 0, profilesCreated: 0, backupsWritten: 0, backupsCurrent: 0, failed: 0 };
  const failureCodes: Record<string, number> = {};
  const skipReasons: Record<string, number> = {};
  const tally = (into: Record<string, number>, code: string) => {
    into[code] = (into[code] ?? 0) + 1;
  };
  const fail = (error: unknown) => {
    counts.failed += 1;
    tally(failureCodes, errorCode(error));
  };

  let batch: { user: User; id: string }[] = [];
  let stoppedBy: ReconcileReport["stoppedBy"] = "completed";
  const flush = async () => {
    const users = batch;
    batch = [];
    let existing: Map<string, Profile>;
    try {
      existing = await deps.profiles.getMany(users.map(({ id }) => id));
    } catch (error) {
      for (const _ of users) fail(error);
      return;
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
          let profileCreated = false;
          if (!profile) {
            const email = user.attributes.email;
            const { created } = await deps.profiles.createIfAbsent({
              id,
              username: user.username,
              ...(email ? { email } : {}),
              createdAt: user.createdAt ?? now,
            });
            if (created) {
              counts.profilesCreated += 1;
              profileCreated = true;
            }
          }
          const previous = await deps.backups.getUserBackup(id).catch(() => undefined);
          if (previous && sameUser(previous.user, user)) {
            counts.backupsCurrent += 1;
            if (profileCreated) written.push({ id, profile: true, backup: false });
            return;
          }
          const record: BackupRecord = {
            version: 1,
            capturedAt: now,
            source: { kind: "reconcile", userPoolId: options.userPoolId },
            // Listing does not tell MFA settings: keep what the previous backup knew.
            user: previous ? { ...user, mfaEnabled: previous.user.mfaEnabled } : user,
          };
          let outcome: Awaited<ReturnType<BackupStore["putUserBackup"]>>;
          try {
            outcome = await deps.backups.putUserBackup(record);
          } catch (error) {
            // One user whose record cannot be written (a value past Cognito's limits) never fails the batch.
            if (!(error instanceof ValidationError)) throw error;
            tally(skipReasons, errorCode(error));
            if (profileCreated) written.push({ id, profile: true, backup: false });
            return;
          }
          if (outcome === "identity-conflict") {
            tally(skipReasons, "USER.IDENTITY_CONFLICT");
          } else {
            counts.backupsWritten += 1;
          }
          if (profileCreated || outcome === "written") {
            written.push({ id, profile: profileCreated, backup: outcome === "written" });
          }
        } catch (error) {
          fail(error);
        }
      }),
    );
    // Written, then checked (as the confirmation sync does): someone erased while this batch was written
    // loses what it wrote, whichever came first.
    if (written.length > 0) {
      erased = await deps.erasures.erasedIds();
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
  };

  for await (const listed of allUsers(deps.directory)) {
    if (listed.status === "UNCONFIRMED") continue;
    let id: string;
    try {
      id = stableUserId(listed);
    } catch (error) {
      tally(skipReasons, errorCode(error));
      continue;
    }
    if (erased.has(id)) {
      tally(skipReasons, "USER.ERASED");
      continue;
    }
    batch.push({ user: { ...listed, groups: normalizeGroups(membership.get(listed.username) ?? []) }, id });
    if (batch.length >= MAX_USERS_PAGE_SIZE) {
      await flush();
      if (options.deadline && deps.clock.now().getTime() >= options.deadline.getTime()) {
        stoppedBy = "time-budget";
        break;
      }
    }
  }
  if (batch.length > 0) await flush();
  const skipped = Object.values(skipReasons).reduce((total, n) => total + n, 0);
  return {
    ...counts,
    failureCodes,
    skipped,
    skipReasons,
    identityConflicts: skipReasons["USER.IDENTITY_CONFLICT"] ?? 0,
    stoppedBy,
  };
}

/** Whether a backup still describes the user as the pool has it now (dates of capture aside). */
function sameUser(backup: User, current: User): boolean {
  return (
    backup.username === current.username &&
    backup.sub === current.sub &&
    backup.status === current.status &&
    backup.enabled === current.enabled &&
    sameList(backup.groups, current.groups) &&
    sameAttributes(backup.attributes, current.attributes)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
