import type { BackupRecord } from "../backup/backup-record.js";
import { errorCode } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock } from "../ports/clock.js";
import type { ProfileStore } from "../ports/profile-store.js";
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
  const counts = { checked: 0, profilesCreated: 0, backupsWritten: 0, backupsCurrent: 0, failed: 0 };
  const failureCodes: Record<string, number> = {};
  const fail = (error: unknown) => {
    counts.failed += 1;
    const code = errorCode(error);
    failureCodes[code] = (failureCodes[code] ?? 0) + 1;
  };

  let batch: User[] = [];
  let stoppedBy: ReconcileReport["stoppedBy"] = "completed";
  const flush = async () => {
    const users = batch;
    batch = [];
    let existing: Map<string, unknown>;
    try {
      existing = await deps.profiles.getMany(users.map(stableUserId));
    } catch (error) {
      for (const _ of users) fail(error);
      return;
    }
    const now = deps.clock.now();
    await Promise.all(
      users.map(async (user) => {
        counts.checked += 1;
        const id = stableUserId(user);
        try {
          if (!existing.has(id)) {
            const email = user.attributes.email;
            const { created } = await deps.profiles.createIfAbsent({
              id,
              username: user.username,
              ...(email ? { email } : {}),
              createdAt: user.createdAt ?? now,
            });
            if (created) counts.profilesCreated += 1;
          }
          const previous = await deps.backups.getUserBackup(id).catch(() => undefined);
          if (previous && sameUser(previous.user, user)) {
            counts.backupsCurrent += 1;
            return;
          }
          const record: BackupRecord = {
            version: 1,
            capturedAt: now,
            source: { kind: "reconcile", userPoolId: options.userPoolId },
            // Listing does not tell MFA settings: keep what the previous backup knew.
            user: previous ? { ...user, mfaEnabled: previous.user.mfaEnabled } : user,
          };
          await deps.backups.putUserBackup(record);
          counts.backupsWritten += 1;
        } catch (error) {
          fail(error);
        }
      }),
    );
  };

  for await (const listed of allUsers(deps.directory)) {
    if (listed.status === "UNCONFIRMED") continue;
    batch.push({ ...listed, groups: normalizeGroups(membership.get(listed.username) ?? []) });
    if (batch.length >= MAX_USERS_PAGE_SIZE) {
      await flush();
      if (options.deadline && deps.clock.now().getTime() >= options.deadline.getTime()) {
        stoppedBy = "time-budget";
        break;
      }
    }
  }
  if (batch.length > 0) await flush();
  return { ...counts, failureCodes, stoppedBy };
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
