import type { BackupRecord } from "../backup/backup-record.js";
import { type SnapshotManifest, SnapshotPartWriter, snapshotIdFor } from "../backup/snapshot.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock } from "../ports/clock.js";
import { allUsers, groupMemberships, type UserDirectory } from "../ports/user-directory.js";
import { normalizeGroups } from "../user/user.js";

export interface SnapshotDeps {
  readonly directory: UserDirectory;
  readonly backups: BackupStore;
  readonly clock: Clock;
}

export interface SnapshotOptions {
  readonly userPoolId: string;
  readonly maxRecordsPerPart?: number;
  readonly maxBytesPerPart?: number;
}

/**
 * Writes a snapshot of the whole pool: every user with its group memberships, and the group definitions, so
 * the pool can be rebuilt in a new pool. Users are streamed page by page into parts (one part in memory at a
 * time); the manifest is written last, so an interrupted snapshot is never mistaken for a complete one.
 *
 * Group memberships are read first (ListUsersInGroup per group), which is far cheaper than one
 * AdminListGroupsForUser call per user.
 */
export async function snapshotUsers(deps: SnapshotDeps, options: SnapshotOptions): Promise<SnapshotManifest> {
  const startedAt = deps.clock.now();
  const snapshotId = snapshotIdFor(startedAt);
  const { groups, membership } = await groupMemberships(deps.directory);
  const writer = new SnapshotPartWriter({
    ...(options.maxRecordsPerPart !== undefined ? { maxRecordsPerPart: options.maxRecordsPerPart } : {}),
    ...(options.maxBytesPerPart !== undefined ? { maxBytesPerPart: options.maxBytesPerPart } : {}),
  });
  let userCount = 0;
  for await (const user of allUsers(deps.directory)) {
    const record: BackupRecord = {
      version: 1,
      capturedAt: deps.clock.now(),
      source: { kind: "snapshot", userPoolId: options.userPoolId },
      user: { ...user, groups: normalizeGroups(membership.get(user.username) ?? []) },
    };
    userCount += 1;
    const closed = writer.add(record);
    if (closed) await deps.backups.putSnapshotPart(snapshotId, closed);
  }
  const last = writer.finish();
  if (last) await deps.backups.putSnapshotPart(snapshotId, last);
  const manifest: SnapshotManifest = {
    version: 1,
    snapshotId,
    userPoolId: options.userPoolId,
    startedAt,
    completedAt: deps.clock.now(),
    userCount,
    groups,
    parts: writer.parts,
  };
  await deps.backups.putSnapshotManifest(manifest);
  return manifest;
}
