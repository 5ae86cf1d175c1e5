/**
 * Removing a person's records from stored snapshots: complete ones (parts, then the manifest that describes
 * them) and incomplete ones (parts without a manifest: a snapshot still running, or one that stopped). A part
 * that cannot be trusted (its checksum differs from the manifest, or a line does not read) is not rewritten:
 * it is reported, and the rest goes on.
 */
import { parseBackupRecord } from "../backup/backup-record.js";
import {
  describePart,
  type SnapshotManifest,
  type SnapshotPartEntry,
  verifyPart,
} from "../backup/snapshot.js";
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
  readonly unscrubbed: readonly UnscrubbedPart[];
}

/**
 * The part's JSON Lines text without the records `drop` matches; lines kept are kept byte for byte.
 *
 * @throws ValidationError `BACKUP.MALFORMED` / `SNAPSHOT.MALFORMED` naming the part and line when a line does
 *   not read (nothing can be said about whom it holds).
 */
export function withoutRecords(
  text: string,
  partName: string,
  drop: (user: User) => boolean,
): { text: string; removed: number } {
  if (text !== "" && !text.endsWith("\n")) {
    throw new ValidationError("SNAPSHOT.MALFORMED", partName, "the last line does not end with a newline");
  }
  const kept: string[] = [];
  let removed = 0;
  let line = 0;
  for (let start = 0; start < text.length;) {
    const end = text.indexOf("\n", start);
    line += 1;
    const lineText = text.slice(start, end + 1);
    const record = parseBackupRecord(lineText.slice(0, -1), `${partName} line ${line}`);
    if (drop(record.user)) removed += 1;
    else kept.push(lineText);
    start = end + 1;
  }
  return { text: removed === 0 ? text : kept.join(""), removed };
}

/**
 * Rewrites every stored snapshot part holding a record `drop` matches (see the module comment).
 *
 * `options.only`: this snapshot only (a snapshot scrubbing what it just wrote). `options.dryRun`: find and
 * count, write nothing (an erase's preview).
 */
export async function scrubSnapshots(
  backups: BackupStore,
  drop: (user: User) => boolean,
  options: { readonly only?: string; readonly dryRun?: boolean } = {},
): Promise<SnapshotScrubReport> {
  const { only, dryRun = false } = options;
  const complete = new Set(await backups.listSnapshots());
  const loose = new Map<string, string[]>();
  for (const { snapshotId, partName } of await backups.listSnapshotParts()) {
    loose.set(snapshotId, [...(loose.get(snapshotId) ?? []), partName]);
  }
  const ids = [...new Set([...complete, ...loose.keys()])]
    .filter((id) => only === undefined || id === only)
    .sort();
  const unscrubbed: UnscrubbedPart[] = [];
  let snapshotsRewritten = 0;
  let partsRewritten = 0;
  let recordsRemoved = 0;

  const scrubPart = async (
    snapshotId: string,
    partName: string,
    entry?: SnapshotPartEntry,
  ): Promise<SnapshotPartEntry | undefined> => {
    try {
      const text = await backups.getSnapshotPart(snapshotId, partName);
      if (entry) verifyPart(entry, text);
      const scrubbed = withoutRecords(text, partName, drop);
      if (scrubbed.removed === 0) return undefined;
      const described = describePart(partName, scrubbed.text);
      if (!dryRun) await backups.putSnapshotPart(snapshotId, { ...described, text: scrubbed.text });
      partsRewritten += 1;
      recordsRemoved += scrubbed.removed;
      return described;
    } catch (error) {
      if (!(error instanceof ValidationError) && !isSnapshotError(error)) throw error;
      unscrubbed.push({ snapshotId, part: partName, code: errorCode(error) });
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
    let removedHere = 0;
    for (const entry of manifest?.parts ?? []) {
      const before = recordsRemoved;
      const rewritten = await scrubPart(snapshotId, entry.name, entry);
      removedHere += recordsRemoved - before;
      entries.push(rewritten ?? entry);
      if (rewritten) changed = true;
    }
    for (const partName of loose.get(snapshotId) ?? []) {
      if (listed.has(partName)) continue;
      if (await scrubPart(snapshotId, partName)) changed = true;
    }
    if (manifest && removedHere > 0 && !dryRun) {
      await backups.putSnapshotManifest({
        ...manifest,
        userCount: Math.max(0, manifest.userCount - removedHere),
        parts: entries,
      });
    }
    if (changed) snapshotsRewritten += 1;
  }
  return { snapshotsRewritten, partsRewritten, recordsRemoved, unscrubbed };
}

function isSnapshotError(error: unknown): boolean {
  const code = errorCode(error);
  return code.startsWith("SNAPSHOT.") || code.startsWith("BACKUP.");
}
