import type { BackupRecord } from "../backup/backup-record.js";
import { errorCode, LifecycleError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock } from "../ports/clock.js";
import type { ProfileStore } from "../ports/profile-store.js";
import type { ConfirmationEvent } from "../user/post-confirmation.js";
import { profileFor } from "../user/profile.js";
import { stableUserId, type User } from "../user/user.js";

export interface SyncDeps {
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly clock: Clock;
}

export interface SyncResult {
  readonly userId: string;
  /** `existed` on a repeat, a retry or a forgot-password confirmation: the profile was left as it was. */
  readonly profile: "created" | "existed";
  readonly backup: "written";
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
  const userId = stableUserId(event.user);

  const writeBackup = async (): Promise<void> => {
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
    await deps.backups.putUserBackup(record);
  };

  const [profile, backup] = await Promise.allSettled([
    deps.profiles.createIfAbsent(profileFor(event.user, now)),
    writeBackup(),
  ]);

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
  return { userId, profile: profile.value.created ? "created" : "existed", backup: "written" };
}
