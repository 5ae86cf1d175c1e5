import { type BackupRecord, parseBackupRecord } from "../backup/backup-record.js";
import type { CompletedPart, SnapshotManifest } from "../backup/snapshot.js";
import type { ValidationError } from "../errors.js";

/** `written`, or `identity-conflict`: the id's current backup is another username's (nothing written). */
export type PutBackupOutcome = "written" | "identity-conflict";

/** A stored snapshot part: its snapshot and its name (`part-00001.jsonl`). */
export interface SnapshotPartRef {
  readonly snapshotId: string;
  readonly partName: string;
}

/** One per-user backup as listed: the record, or why it could not be read. */
export type BackupEntry =
  | { readonly kind: "record"; readonly userId: string; readonly record: BackupRecord }
  | { readonly kind: "malformed"; readonly location: string; readonly error: ValidationError };

/**
 * The backups, read only: what a restore needs of them (it never writes or erases one). See {@link BackupStore}.
 */
export interface BackupReader {
  /** The user's current backup, or `undefined`. Throws `BACKUP.MALFORMED` when it cannot be read. */
  getUserBackup(userId: string): Promise<BackupRecord | undefined>;

  /**
   * Every per-user backup, current versions only. Malformed objects come back as `malformed` entries (the
   * listing goes on); reads happen with bounded concurrency.
   */
  listUserBackups(): AsyncIterable<BackupEntry>;

  /** Ids of complete snapshots, oldest first (ids sort by time). */
  listSnapshots(): Promise<string[]>;

  /** The snapshot's manifest. Throws `SNAPSHOT.MALFORMED` when unreadable or missing. */
  getSnapshotManifest(snapshotId: string): Promise<SnapshotManifest>;

  /**
   * The part's JSON Lines text, as stored; callers check it against the manifest. Throws
   * `SNAPSHOT.MALFORMED` when it is missing.
   */
  getSnapshotPart(snapshotId: string, partName: string): Promise<string>;

  /**
   * Any file of a snapshot (a part, a part's id index, a group's member file: see `core/backup/snapshot-files`)
   * as stored, or `undefined` when there is none. Callers check it against the manifest.
   *
   * @throws ValidationError `SNAPSHOT.MALFORMED` for a name that is not a snapshot file's.
   */
  getSnapshotFile(snapshotId: string, name: string): Promise<string | undefined>;
}

/**
 * Where backups live: one current backup per user (older ones kept as versions until erased or expired), and
 * whole-pool snapshots made of parts plus a manifest. (The state of restores in progress is a port of its
 * own, `RestoreStateStore`: only the restore uses it.)
 */
export interface BackupStore extends BackupReader {
  /**
   * Writes the user's backup under a location derived from the stable user id alone, so a repeated event
   * overwrites instead of piling up. The previous backup stays as an older version.
   *
   * Identity binding: a stable id, once backed up for a username, is never written over for another
   * username. When the current backup holds another username nothing is written and `identity-conflict`
   * comes back. The comparison and the write are one atomic step (a conditional write), so of two writers at
   * once for two usernames only one is ever stored.
   *
   * @throws ValidationError `USER.INVALID_ID` when the record's stable id is not a UUID (nothing is written).
   */
  putUserBackup(record: BackupRecord): Promise<PutBackupOutcome>;

  /** Deletes every version of the user's backup. Idempotent. Returns how many versions were deleted. */
  eraseUserBackups(userId: string): Promise<number>;

  /**
   * Stores one part of a snapshot. Writing a part again replaces it and deletes its older versions
   * (used by erase to rewrite a part without the erased user).
   */
  putSnapshotPart(snapshotId: string, part: CompletedPart): Promise<void>;

  /**
   * Every snapshot part of backup records stored (`part-00001.jsonl`, `p-a/part-00001.jsonl`: not indexes
   * or group files), whether its snapshot is complete (has a manifest) or not: one still being written, or
   * one that stopped half-way. In key order. For erase, which scrubs incomplete snapshots too.
   */
  listSnapshotParts(): Promise<SnapshotPartRef[]>;

  /**
   * Stores one file of a snapshot under its name, replacing it and deleting its older versions: the same
   * name always means the same object, so a step that runs again rewrites the file whole, never appends.
   *
   * @throws ValidationError `SNAPSHOT.MALFORMED` for a name that is not a snapshot file's
   *   (`checkSnapshotFileName`): nothing is written.
   */
  putSnapshotFile(snapshotId: string, name: string, text: string): Promise<void>;

  /** Names of every file stored for the snapshot (its manifest excepted), complete or not, in key order. */
  listSnapshotFiles(snapshotId: string): Promise<string[]>;

  /** Ids of every snapshot with anything stored, complete or not (for cleaning the incomplete ones). */
  listSnapshotIds(): Promise<string[]>;

  /** Deletes the file and every version of it. Idempotent. */
  deleteSnapshotFile(snapshotId: string, name: string): Promise<void>;

  /**
   * Stores the manifest, which completes the snapshot: written after every part, so a snapshot without a
   * manifest is incomplete and never listed. Replaces an existing manifest and deletes its older versions.
   */
  putSnapshotManifest(manifest: SnapshotManifest): Promise<void>;
}

/**
 * Whether the stored text of an id's current backup holds another username than `username`: the identity
 * binding check adapters make before they write. A current backup that does not read binds nobody (it is
 * damaged, and a fresh one replaces it).
 */
export function boundToAnother(current: string | undefined, location: string, username: string): boolean {
  if (current === undefined) return false;
  try {
    return parseBackupRecord(current, location).user.username !== username;
  } catch {
    return false;
  }
}
