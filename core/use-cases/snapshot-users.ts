import type { BackupRecord } from "../backup/backup-record.js";
import {
  describePart,
  type SnapshotManifest,
  type SnapshotPartEntry,
  SnapshotPartWriter,
  snapshotIdFor,
} from "../backup/snapshot.js";
import { recordedUserId } from "../erasure/person.js";
import { withoutRecords } from "../erasure/scrub-snapshots.js";
import { errorCode, ValidationError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock } from "../ports/clock.js";
import type { ErasureLedger } from "../ports/erasure-ledger.js";
import { allUsers, groupMemberships, type UserDirectory } from "../ports/user-directory.js";
import { normalizeGroups, stableUserId, type User } from "../user/user.js";

export interface SnapshotDeps {
  readonly directory: UserDirectory;
  readonly backups: BackupStore;
  /** The erasure ledger: erased people are left out, even when erased while the snapshot runs. */
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
}

export interface SnapshotOptions {
  readonly userPoolId: string;
  readonly maxRecordsPerPart?: number;
  readonly maxBytesPerPart?: number;
}

/** The snapshot's manifest, and who was left out of it (counts by reason only: no usernames). */
export interface SnapshotResult extends SnapshotManifest {
  /**
   * Users of the pool that cannot be backed up, left out so the rest is: by error code, e.g.
   * `BACKUP.MALFORMED` (an attribute value over Cognito's 2,048 characters) or `USER.INVALID_ID` (a
   * `custom:legacy_sub` that is no UUID).
   */
  readonly skipped: number;
  readonly skipReasons: Readonly<Record<string, number>>;
  /** Erased people left out (tombstoned before the run, or scrubbed from it after an erasure during it). */
  readonly erasedLeftOut: number;
}

/** At most this many rounds of "erasures that began while the snapshot ran" are scrubbed from it. */
const ERASURE_RECHECKS = 3;

/**
 * Writes a snapshot of the whole pool: every user with its group memberships, and the group definitions, so
 * the pool can be rebuilt in a new pool. Users are streamed page by page into parts (one part in memory at a
 * time); the manifest is written last, so an interrupted snapshot is never mistaken for a complete one.
 *
 * Group memberships are read first (ListUsersInGroup per group), which is far cheaper than one
 * AdminListGroupsForUser call per user.
 *
 * One user that cannot be backed up (an attribute value past Cognito's limits, a stable id that is no UUID)
 * is left out and counted by reason; the snapshot goes on.
 *
 * Erased people: the tombstones are loaded once at the start (they are few) and tombstoned users are never
 * written. An erasure that begins while the snapshot runs may list this snapshot's parts before they are
 * written, so once the manifest is written the ledger is read again, and anyone tombstoned since the start is
 * scrubbed from this snapshot (parts rewritten, the manifest made to describe the parts as stored, which an
 * erasure may have rewritten after this snapshot described them); repeated while new tombstones appear.
 * Either the erasure sees a part (and scrubs it), or the part was written after the tombstone, and this
 * re-read, later still, sees the tombstone.
 */
export async function snapshotUsers(deps: SnapshotDeps, options: SnapshotOptions): Promise<SnapshotResult> {
  const startedAt = deps.clock.now();
  const snapshotId = snapshotIdFor(startedAt);
  const known = new Set(await deps.erasures.erasedIds());
  const { groups, membership } = await groupMemberships(deps.directory);
  const writer = new SnapshotPartWriter({
    ...(options.maxRecordsPerPart !== undefined ? { maxRecordsPerPart: options.maxRecordsPerPart } : {}),
    ...(options.maxBytesPerPart !== undefined ? { maxBytesPerPart: options.maxBytesPerPart } : {}),
  });
  let userCount = 0;
  let erasedLeftOut = 0;
  const skipReasons: Record<string, number> = {};
  const skip = (error: unknown) => {
    const code = errorCode(error);
    skipReasons[code] = (skipReasons[code] ?? 0) + 1;
  };
  for await (const user of allUsers(deps.directory)) {
    let userId: string;
    try {
      userId = stableUserId(user);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      skip(error);
      continue;
    }
    if (known.has(userId)) {
      erasedLeftOut += 1;
      continue;
    }
    const record: BackupRecord = {
      version: 1,
      capturedAt: deps.clock.now(),
      source: { kind: "snapshot", userPoolId: options.userPoolId },
      user: { ...user, groups: normalizeGroups(membership.get(user.username) ?? []) },
    };
    let closed;
    try {
      // Checked before it is added: a record a restore would refuse is never written.
      closed = writer.add(record);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      skip(error);
      continue;
    }
    userCount += 1;
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

  let current = manifest;
  for (let round = 0; round < ERASURE_RECHECKS; round += 1) {
    const fresh = new Set([...(await deps.erasures.erasedIds())].filter((id) => !known.has(id)));
    if (fresh.size === 0) break;
    for (const id of fresh) known.add(id);
    const before = current.userCount;
    current = await rebuildWithout(deps.backups, current, (user) => {
      const id = recordedUserId(user);
      return id !== undefined && fresh.has(id);
    });
    erasedLeftOut += before - current.userCount;
  }
  const skipped = Object.values(skipReasons).reduce((total, n) => total + n, 0);
  return { ...current, skipped, skipReasons, erasedLeftOut };
}

/**
 * This snapshot's parts as stored now, without the records `drop` matches, and its manifest made to describe
 * them. The parts are read without checking them against `manifest`: an erasure may have rewritten one
 * (without its person) after this snapshot described it, and this snapshot is their only other writer.
 */
async function rebuildWithout(
  backups: BackupStore,
  manifest: SnapshotManifest,
  drop: (user: User) => boolean,
): Promise<SnapshotManifest> {
  const parts: SnapshotPartEntry[] = [];
  for (const entry of manifest.parts) {
    const text = await backups.getSnapshotPart(manifest.snapshotId, entry.name);
    const scrubbed = withoutRecords(text, entry.name, drop);
    const described = describePart(entry.name, scrubbed.text);
    if (scrubbed.removed > 0)
      await backups.putSnapshotPart(manifest.snapshotId, { ...described, text: scrubbed.text });
    parts.push(described);
  }
  const unchanged = parts.every((part, i) => part.sha256 === manifest.parts[i]?.sha256);
  if (unchanged) return manifest;
  const rebuilt = { ...manifest, userCount: parts.reduce((total, part) => total + part.records, 0), parts };
  await backups.putSnapshotManifest(rebuilt);
  return rebuilt;
}
