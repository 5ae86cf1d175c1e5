import {
  type CompletedPart,
  describePart,
  parseSnapshotPart,
  serializeSnapshotLine,
  verifyPart,
} from "../backup/snapshot.js";
import { LifecycleError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { ProfileStore } from "../ports/profile-store.js";
import type { UserDirectory } from "../ports/user-directory.js";
import { stableUserId } from "../user/user.js";

export interface EraseDeps {
  readonly directory: UserDirectory;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
}

/** Who to erase: the username (when the user is still in the pool) and/or the stable user id. */
export interface EraseRequest {
  readonly username?: string;
  readonly userId?: string;
}

export interface EraseReport {
  readonly userId: string;
  readonly deletedFromPool: boolean;
  readonly profileDeleted: boolean;
  readonly backupVersionsDeleted: number;
  /** Snapshots that held the user and were rewritten without them. */
  readonly snapshotsRewritten: number;
}

/**
 * Erases a person from the pool, the profile, every version of the per-user backup, and every snapshot (the
 * parts that held the user are rewritten without them). Idempotent: erasing again finds nothing and reports
 * zeros. Not erased: the state of a restore (`restores/<planId>/`) whose plan listed the person; it is kept
 * until it expires (`backups.restoreStateDays`, 30 days by default).
 *
 * @throws LifecycleError `USER.NOT_FOUND` when only a username is given and no such user is in the
 *   pool (the stable id cannot be known then: pass `userId`).
 * @throws LifecycleError `USER.INVALID` when neither is given.
 * @throws `SNAPSHOT.CHECKSUM_MISMATCH` / `SNAPSHOT.MALFORMED` when a snapshot part cannot be trusted; nothing
 *   of that snapshot is rewritten.
 */
export async function eraseUser(deps: EraseDeps, request: EraseRequest): Promise<EraseReport> {
  if (!request.username && !request.userId) {
    throw new LifecycleError("USER.INVALID", "Name the user to erase: a username, a user id, or both");
  }
  const user = request.username ? await deps.directory.getUser(request.username) : undefined;
  const userId = request.userId ?? (user ? stableUserId(user) : undefined);
  if (userId === undefined) {
    throw new LifecycleError(
      "USER.NOT_FOUND",
      "No user with that username is in the pool; pass the user id (custom:legacy_sub or sub) to erase its data",
    );
  }
  const username = request.username ?? user?.username;

  const deletedFromPool = username ? await deps.directory.deleteUser(username) : false;
  const profileDeleted = await deps.profiles.delete(userId);
  const backupVersionsDeleted = await deps.backups.eraseUserBackups(userId);

  let snapshotsRewritten = 0;
  for (const snapshotId of await deps.backups.listSnapshots()) {
    const manifest = await deps.backups.getSnapshotManifest(snapshotId);
    const rewritten: CompletedPart[] = [];
    let removed = 0;
    for (const entry of manifest.parts) {
      const text = await deps.backups.getSnapshotPart(snapshotId, entry.name);
      verifyPart(entry, text);
      const records = parseSnapshotPart(text, entry.name);
      const kept = records.filter(
        (record) =>
          stableUserId(record.user) !== userId &&
          (username === undefined || record.user.username !== username),
      );
      if (kept.length === records.length) continue;
      removed += records.length - kept.length;
      const keptText = kept.map(serializeSnapshotLine).join("");
      rewritten.push({ ...describePart(entry.name, keptText), text: keptText });
    }
    if (removed === 0) continue;
    for (const part of rewritten) await deps.backups.putSnapshotPart(snapshotId, part);
    const byName = new Map(rewritten.map((part) => [part.name, part]));
    await deps.backups.putSnapshotManifest({
      ...manifest,
      userCount: manifest.userCount - removed,
      parts: manifest.parts.map((entry) => {
        const part = byName.get(entry.name);
        return part
          ? { name: part.name, records: part.records, bytes: part.bytes, sha256: part.sha256 }
          : entry;
      }),
    });
    snapshotsRewritten += 1;
  }
  return { userId, deletedFromPool, profileDeleted, backupVersionsDeleted, snapshotsRewritten };
}
