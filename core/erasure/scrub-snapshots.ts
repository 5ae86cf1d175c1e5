/**
 * Removing a person's records from stored snapshots: complete ones (parts, then the manifest that describes
 * them) and incomplete ones (parts without a manifest: a snapshot still running, or one that stopped). A part
 * that cannot be trusted (its checksum differs from the manifest, or a line does not read) is not rewritten:
 * it is reported, and the rest goes on.
 */
import { parseBackupRecord } from "../backup/backup-record.js";
import {
  describeFile,
  describePart,
  type GroupFileEntry,
  type SnapshotManifest,
  type SnapshotPartEntry,
  verifyPart,
} from "../backup/snapshot.js";
import {
  isGroupFileName,
  parseGroupMembers,
  parseIdIndex,
  partIndexName,
  readPartitionFileName,
  serializeGroupMembers,
  serializeIdIndex,
} from "../backup/snapshot-files.js";
import { recordedUserId } from "./person.js";
import { errorCode, ValidationError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { User } from "../user/user.js";

/** A part an erasure could not scrub, and why (an error code: never the content). */
export interface UnscrubbedPart {
  readonly snapshotId: string;
  readonly part: string;
  readonly code: string;
}

export interface SnapshotScrubReport {
  /** Snapshots (complete or not) that held the person and were rewritten without them. */
  readonly snapshotsRewritten: number;
  readonly partsRewritten: number;
  readonly recordsRemoved: number;
  /** Version 2: group member files rewritten without the person's username, and the memberships removed. */
  readonly groupFilesRewritten: number;
  readonly membershipsRemoved: number;
  readonly unscrubbed: readonly UnscrubbedPart[];
}

/**
 * The part's JSON Lines text without the records `drop` matches; lines kept are kept byte for byte. Also the
 * stable ids of the records kept, in order (a version 2 part's new index), and the usernames removed.
 *
 * @throws ValidationError `BACKUP.MALFORMED` / `SNAPSHOT.MALFORMED` naming the part and line when a line does
 *   not read (nothing can be said about whom it holds).
 */
export function withoutRecords(
  text: string,
  partName: string,
  drop: (user: User) => boolean,
): { text: string; removed: number; keptIds: string[]; removedUsernames: string[] } {
  if (text !== "" && !text.endsWith("\n")) {
    throw new ValidationError("SNAPSHOT.MALFORMED", partName, "the last line does not end with a newline");
  }
  const kept: string[] = [];
  const keptIds: string[] = [];
  const removedUsernames: string[] = [];
  let removed = 0;
  let line = 0;
  for (let start = 0; start < text.length;) {
    const end = text.indexOf("\n", start);
    line += 1;
    const lineText = text.slice(start, end + 1);
    const record = parseBackupRecord(lineText.slice(0, -1), `${partName} line ${line}`);
    if (drop(record.user)) {
      removed += 1;
      removedUsernames.push(record.user.username);
    } else {
      kept.push(lineText);
      keptIds.push(recordedUserId(record.user) ?? "");
    }
    start = end + 1;
  }
  return { text: removed === 0 ? text : kept.join(""), removed, keptIds, removedUsernames };
}

export interface ScrubOptions {
  /** This snapshot only (a snapshot scrubbing what it just wrote). */
  readonly only?: string;
  /** Find and count, write nothing (an erase's preview). */
  readonly dryRun?: boolean;
  /**
   * Usernames to take out of version 2 group files besides those of the records removed (the pool user being
   * erased: a snapshot may have listed their memberships before it listed them, or without ever listing them).
   */
  readonly usernames?: readonly string[];
  /**
   * When every record `drop` matches is one of these stable ids: a version 2 part whose index holds none of
   * them is not read (the index is read instead, a fraction of the part).
   */
  readonly ids?: ReadonlySet<string>;
}

/**
 * Rewrites every stored snapshot part holding a record `drop` matches (see the module comment). Version 2
 * snapshots: a rewritten part gets its index rewritten with it, and the usernames of the records removed
 * (and `options.usernames`) leave the snapshot's group files; the manifest is made to describe them all.
 */
export async function scrubSnapshots(
  backups: BackupStore,
  drop: (user: User) => boolean,
  options: ScrubOptions = {},
): Promise<SnapshotScrubReport> {
  const { only, dryRun = false } = options;
  const complete = new Set(await backups.listSnapshots());
  const loose = new Map<string, string[]>();
  for (const { snapshotId, partName } of await backups.listSnapshotParts()) {
    loose.set(snapshotId, [...(loose.get(snapshotId) ?? []), partName]);
  }
  // A snapshot with group files and no part yet may hold the usernames too.
  const others = (options.usernames ?? []).length > 0 ? await backups.listSnapshotIds() : [];
  const ids = [...new Set([...complete, ...loose.keys(), ...others])]
    .filter((id) => only === undefined || id === only)
    .sort();
  const unscrubbed: UnscrubbedPart[] = [];
  let snapshotsRewritten = 0;
  let partsRewritten = 0;
  let recordsRemoved = 0;
  let groupFilesRewritten = 0;
  let membershipsRemoved = 0;

  /** Whether the part's index (checked against its entry when there is one) holds one of `options.ids`. */
  const indexHolds = async (
    snapshotId: string,
    partName: string,
    entry?: SnapshotPartEntry,
  ): Promise<boolean> => {
    const ids = options.ids;
    if (ids === undefined || readPartitionFileName(partName) === undefined) return true;
    const indexName = partIndexName(partName);
    const text = await backups.getSnapshotFile(snapshotId, indexName);
    // No index (a part written just before a crash, its index not yet): the part itself is read.
    if (text === undefined) return true;
    if (entry?.index) verifyPart(entry.index, text);
    return parseIdIndex(text, indexName).some((id) => ids.has(id));
  };

  const scrubPart = async (
    snapshotId: string,
    partName: string,
    removedUsernames: Set<string>,
    entry?: SnapshotPartEntry,
  ): Promise<SnapshotPartEntry | undefined> => {
    try {
      if (!(await indexHolds(snapshotId, partName, entry))) return undefined;
      const text = await backups.getSnapshotPart(snapshotId, partName);
      if (entry) verifyPart(entry, text);
      const scrubbed = withoutRecords(text, partName, drop);
      if (scrubbed.removed === 0) return undefined;
      let described: SnapshotPartEntry = describePart(partName, scrubbed.text);
      const partitioned = readPartitionFileName(partName) !== undefined;
      const indexText = serializeIdIndex(scrubbed.keptIds);
      if (partitioned) described = { ...described, index: describeFile(partIndexName(partName), indexText) };
      if (!dryRun) {
        await backups.putSnapshotPart(snapshotId, { ...described, text: scrubbed.text });
        if (partitioned) await backups.putSnapshotFile(snapshotId, partIndexName(partName), indexText);
      }
      for (const username of scrubbed.removedUsernames) removedUsernames.add(username);
      partsRewritten += 1;
      recordsRemoved += scrubbed.removed;
      return described;
    } catch (error) {
      if (!(error instanceof ValidationError) && !isSnapshotError(error)) throw error;
      unscrubbed.push({ snapshotId, part: partName, code: errorCode(error) });
      return undefined;
    }
  };

  /** The group file without `usernames`: its new entry when it held one of them, else `undefined`. */
  const scrubGroupFile = async (
    snapshotId: string,
    name: string,
    usernames: ReadonlySet<string>,
    entry?: GroupFileEntry,
  ): Promise<GroupFileEntry | undefined> => {
    try {
      const rewritten = await groupFileWithout(backups, snapshotId, name, usernames, dryRun, entry);
      if (rewritten === undefined) return undefined;
      groupFilesRewritten += 1;
      membershipsRemoved += rewritten.removed;
      return rewritten.entry;
    } catch (error) {
      if (!(error instanceof ValidationError) && !isSnapshotError(error)) throw error;
      unscrubbed.push({ snapshotId, part: name, code: errorCode(error) });
      return undefined;
    }
  };

  for (const snapshotId of ids) {
    let manifest: SnapshotManifest | undefined;
    if (complete.has(snapshotId)) {
      try {
        manifest = await backups.getSnapshotManifest(snapshotId);
      } catch (error) {
        if (!(error instanceof ValidationError) && !isSnapshotError(error)) throw error;
        unscrubbed.push({ snapshotId, part: "manifest.json", code: errorCode(error) });
      }
    }
    const listed = new Set(manifest?.parts.map((entry) => entry.name) ?? []);
    let changed = false;
    const entries: SnapshotPartEntry[] = [];
    const removedUsernames = new Set<string>(options.usernames ?? []);
    let removedHere = 0;
    for (const entry of manifest?.parts ?? []) {
      const before = recordsRemoved;
      const rewritten = await scrubPart(snapshotId, entry.name, removedUsernames, entry);
      removedHere += recordsRemoved - before;
      entries.push(rewritten ?? entry);
      if (rewritten) changed = true;
    }
    for (const partName of loose.get(snapshotId) ?? []) {
      if (listed.has(partName)) continue;
      if (await scrubPart(snapshotId, partName, removedUsernames)) changed = true;
    }
    // Version 2 (or a snapshot not complete yet, whose version is not known): its group files.
    const groupFiles: GroupFileEntry[] = manifest?.version === 2 ? [...manifest.groupFiles] : [];
    let membershipsHere = 0;
    if (removedUsernames.size > 0 && manifest?.version !== 1) {
      const before = membershipsRemoved;
      for (const [i, entry] of groupFiles.entries()) {
        const rewritten = await scrubGroupFile(snapshotId, entry.name, removedUsernames, entry);
        if (rewritten) groupFiles[i] = { ...rewritten, group: entry.group };
      }
      const described = new Set(groupFiles.map((entry) => entry.name));
      for (const name of await backups.listSnapshotFiles(snapshotId)) {
        if (isGroupFileName(name) && !described.has(name))
          await scrubGroupFile(snapshotId, name, removedUsernames);
      }
      membershipsHere = membershipsRemoved - before;
      if (membershipsHere > 0) changed = true;
    }
    if (manifest && (removedHere > 0 || membershipsHere > 0) && !dryRun) {
      const fields = {
        ...manifest,
        userCount: Math.max(0, manifest.userCount - removedHere),
        parts: entries,
      };
      await backups.putSnapshotManifest(
        manifest.version === 1
          ? fields
          : {
              ...fields,
              version: 2,
              groupFiles,
              membershipCount: groupFiles.reduce((sum, entry) => sum + entry.members, 0),
            },
      );
    }
    if (changed) snapshotsRewritten += 1;
  }
  return {
    snapshotsRewritten,
    partsRewritten,
    recordsRemoved,
    groupFilesRewritten,
    membershipsRemoved,
    unscrubbed,
  };
}

/**
 * Takes `usernames` out of the group files of a snapshot still being written (no manifest describes them
 * yet): what a snapshot does when it meets a tombstoned person still in the pool, whose memberships it
 * listed before. Returns the memberships removed.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` for a group file that does not read.
 */
export async function removeFromGroupFiles(
  backups: BackupStore,
  snapshotId: string,
  usernames: ReadonlySet<string>,
): Promise<number> {
  let removed = 0;
  for (const name of await backups.listSnapshotFiles(snapshotId)) {
    if (!isGroupFileName(name)) continue;
    const rewritten = await groupFileWithout(backups, snapshotId, name, usernames, false);
    removed += rewritten?.removed ?? 0;
  }
  return removed;
}

/** The group file without `usernames`, rewritten (unless `dryRun`) when it held one: its new entry. */
async function groupFileWithout(
  backups: BackupStore,
  snapshotId: string,
  name: string,
  usernames: ReadonlySet<string>,
  dryRun: boolean,
  entry?: GroupFileEntry,
): Promise<{ entry: GroupFileEntry; removed: number } | undefined> {
  const text = await backups.getSnapshotFile(snapshotId, name);
  if (text === undefined) throw new ValidationError("SNAPSHOT.MALFORMED", name, "is missing");
  if (entry) verifyPart(entry, text);
  const members = parseGroupMembers(text, name);
  const kept = members.filter((username) => !usernames.has(username));
  if (kept.length === members.length) return undefined;
  const keptText = serializeGroupMembers(kept);
  if (!dryRun) await backups.putSnapshotFile(snapshotId, name, keptText);
  return {
    entry: { ...describeFile(name, keptText), group: entry?.group ?? "", members: kept.length },
    removed: members.length - kept.length,
  };
}

function isSnapshotError(error: unknown): boolean {
  const code = errorCode(error);
  return code.startsWith("SNAPSHOT.") || code.startsWith("BACKUP.");
}
