import { backupDigest } from "../backup/backup-digest.js";
import type { BackupRecord } from "../backup/backup-record.js";
import { errorCode, LifecycleError } from "../errors.js";
import type { BackupStore, PutBackupOutcome } from "../ports/backup-store.js";
import type { ErasureLedger } from "../ports/erasure-ledger.js";
import type { Clock } from "../ports/clock.js";
import type { ProfileStore } from "../ports/profile-store.js";
import type { ConfirmationEvent } from "../user/post-confirmation.js";
import { profileFor } from "../user/profile.js";
import { stableUserId, type User } from "../user/user.js";

export interface SyncDeps {
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
}

export interface SyncResult {
  readonly userId: string;
  /**
   * `existed` on a repeat, a retry or a forgot-password confirmation: the profile was left as it was.
   * `identity-conflict`: the id's profile is another username's (the user claimed someone else's
   * `custom:legacy_sub`); it was left as it was. `erased`: the person is erased, nothing was kept.
   */
  readonly profile: "created" | "existed" | "identity-conflict" | "erased";
  /** `identity-conflict`: the id's backup is another username's, and was left as it was. */
  readonly backup: "written" | "identity-conflict" | "erased";
}

/** Whether a sync met a stable id bound to another username (reported, logged by code and counted). */
export function hasIdentityConflict(result: SyncResult): boolean {
  return result.profile === "identity-conflict" || result.backup === "identity-conflict";
}

/**
 * Records a confirmed user: creates the profile if it does not exist yet and writes the user's backup, both
 * at once (the trigger has five seconds). Idempotent: Cognito retries and duplicate events create nothing
 * twice and never reset the profile's `createdAt`.
 *
 * A forgot-password confirmation carries no groups or MFA setting, so what the current backup knows of those
 * is kept rather than overwritten with blanks.
 *
 * @throws LifecycleError `SYNC.WRITE_FAILED` when either write failed (after both were attempted); `details`
 *   names which (`profile`, `backup`) with error codes only.
 */
export async function syncConfirmedUser(event: ConfirmationEvent, deps: SyncDeps): Promise<SyncResult> {
  const now = deps.clock.now();
  // Throws USER.INVALID_ID for a `custom:legacy_sub` (or sub) that is no UUID: nothing is written.
  const userId = stableUserId(event.user);
  // The ledger lives beside the backups: when it cannot be read, the profile is still written (the backup
  // write fails the same way, and reconcile repairs it later, reading the ledger then).
  const isErased = () => deps.erasures.isErased(userId).catch(() => false);
  if (await isErased()) return { userId, profile: "erased", backup: "erased" };

  let written: User = event.user;
  const writeBackup = async (): Promise<PutBackupOutcome> => {
    let user: User = event.user;
    if (event.trigger === "ConfirmForgotPassword") {
      const previous = await deps.backups.getUserBackup(userId).catch(() => undefined);
      if (previous && previous.user.username === user.username) {
        user = {
          ...user,
          groups: previous.user.groups,
          mfaEnabled: previous.user.mfaEnabled,
          enabled: previous.user.enabled,
          ...(previous.user.createdAt ? { createdAt: previous.user.createdAt } : {}),
        };
      }
    }
    const record: BackupRecord = {
      version: 1,
      capturedAt: now,
      source: { kind: "post-confirmation", userPoolId: event.userPoolId, trigger: event.triggerSource },
      user,
    };
    written = user;
    return deps.backups.putUserBackup(record);
  };
  const createProfile = async (): Promise<SyncResult["profile"]> => {
    const { created } = await deps.profiles.createIfAbsent(profileFor(event.user, now));
    if (created) return "created";
    // Profiles are never rewritten: the one that exists says which username the id is bound to.
    const existing = await deps.profiles.get(userId);
    return existing && existing.username !== event.user.username ? "identity-conflict" : "existed";
  };

  const [profile, backup] = await Promise.allSettled([createProfile(), writeBackup()]);

  const failed: Record<string, string> = {};
  if (profile.status === "rejected") failed.profile = errorCode(profile.reason);
  if (backup.status === "rejected") failed.backup = errorCode(backup.reason);
  if (profile.status === "rejected" || backup.status === "rejected") {
    throw new LifecycleError(
      "SYNC.WRITE_FAILED",
      `Could not record the confirmed user: ${Object.keys(failed).join(" and ")} write failed`,
      {
        cause:
          profile.status === "rejected"
            ? profile.reason
            : backup.status === "rejected"
              ? backup.reason
              : undefined,
        details: { userId, failed },
      },
    );
  }
  // Written, then checked: an erasure that began before this check has its tombstone seen here, and one
  // that began after it deletes what was just written. Either way nothing of an erased person stays.
  if (await isErased()) {
    if (profile.value === "created") await deps.profiles.delete(userId);
    if (backup.value === "written") await deps.backups.eraseUserBackups(userId);
    return { userId, profile: "erased", backup: "erased" };
  }
  if (backup.value === "written" && profile.value !== "identity-conflict") {
    // After the backup, never before: a digest only ever describes a stored backup. The write is
    // conditional on the profile holding this username. A failure here costs nothing but one S3 read at the
    // next reconcile (a missing or stale digest sends it to the backup itself), so the confirmation stands.
    await deps.profiles
      .recordBackupDigest(userId, event.user.username, backupDigest(written))
      .catch(() => undefined);
  }
  return { userId, profile: profile.value, backup: backup.value };
}
