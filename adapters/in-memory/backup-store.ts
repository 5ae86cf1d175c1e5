import {
  type BackupRecord,
  parseBackupRecord,
  serializeBackupRecord,
} from "../../core/backup/backup-record.js";
import {
  parseRestorePlan,
  parseRestoreProgress,
  type RestoreProgress,
  type StoredRestorePlan,
  serializeRestorePlan,
  serializeRestoreProgress,
} from "../../core/backup/restore-state.js";
import {
  type CompletedPart,
  parseManifest,
  type SnapshotManifest,
  serializeManifest,
} from "../../core/backup/snapshot.js";
import { checkSnapshotFileName, isRecordPartName } from "../../core/backup/snapshot-files.js";
import { LifecycleError, ValidationError } from "../../core/errors.js";
import {
  type BackupEntry,
  type BackupStore,
  boundToAnother,
  type PutBackupOutcome,
  type SnapshotPartRef,
} from "../../core/ports/backup-store.js";
import {
  type ProgressCondition,
  type RestoreStateStore,
  restoreConflict,
  type VersionedRestoreProgress,
} from "../../core/ports/restore-state-store.js";
import { stableUserId } from "../../core/user/user.js";
import { Outage } from "./outage.js";

/**
 * Backups as text objects in a versioned "bucket" in memory: what is stored is the serialized form, so reads
 * go through the same parser as real objects and a corrupt object can be planted with {@link putRaw}.
 */
export class InMemoryBackupStore implements BackupStore, RestoreStateStore {
  /** Object key → versions, oldest first. */
  private readonly objects = new Map<string, string[]>();
  readonly outage = new Outage();
  /**
   * Runs before the next call of the named method (then is removed): a test's hook to run another job at
   * exactly that point, for deterministic interleavings.
   */
  private readonly hooks = new Map<string, () => Promise<void>>();

  beforeNext(method: keyof BackupStore | keyof RestoreStateStore, hook: () => Promise<void>): void {
    this.hooks.set(method, hook);
  }

  private async enter(method: string): Promise<void> {
    const hook = this.hooks.get(method);
    if (hook) {
      this.hooks.delete(method);
      await hook();
    }
    this.outage.check();
  }
  /** Progress object key → its current version (the ETag S3 would give it). */
  private readonly progressVersions = new Map<string, string>();
  private versionCounter = 0;

  static userKey(userId: string): string {
    return `users/${userId}.json`;
  }

  static restorePlanKey(planId: string): string {
    return `restores/${planId}/plan.jsonl`;
  }

  static restoreProgressKey(planId: string): string {
    return `restores/${planId}/progress.json`;
  }

  /** How many times each key was written (test inspection: a read-only call writes nothing). */
  readonly writes = new Map<string, number>();

  /** Stores arbitrary text at a key, as a new version (test setup for malformed objects). */
  putRaw(key: string, text: string): void {
    this.progressVersions.delete(key);
    this.writes.set(key, (this.writes.get(key) ?? 0) + 1);
    this.objects.set(key, [...(this.objects.get(key) ?? []), text]);
  }

  /** Every version of every object, keyed (test inspection). */
  versions(key: string): readonly string[] {
    return this.objects.get(key) ?? [];
  }

  keys(): string[] {
    return [...this.objects.keys()].sort();
  }

  async putUserBackup(record: BackupRecord): Promise<PutBackupOutcome> {
    await this.enter("putUserBackup");
    const key = InMemoryBackupStore.userKey(stableUserId(record.user));
    const text = serializeBackupRecord(record);
    // Compare and write in one synchronous step: nothing else runs in between.
    if (boundToAnother(this.objects.get(key)?.at(-1), key, record.user.username)) return "identity-conflict";
    this.putRaw(key, text);
    return "written";
  }

  async getUserBackup(userId: string): Promise<BackupRecord | undefined> {
    await this.enter("getUserBackup");
    const key = InMemoryBackupStore.userKey(userId);
    const current = this.objects.get(key)?.at(-1);
    return current === undefined ? undefined : parseBackupRecord(current, key);
  }

  async *listUserBackups(): AsyncIterable<BackupEntry> {
    await this.enter("listUserBackups");
    for (const key of this.keys()) {
      if (!key.startsWith("users/")) continue;
      const current = this.objects.get(key)?.at(-1);
      if (current === undefined) continue;
      try {
        const record = parseBackupRecord(current, key);
        yield { kind: "record", userId: stableUserId(record.user), record };
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        yield { kind: "malformed", location: key, error };
      }
    }
  }

  async eraseUserBackups(userId: string): Promise<number> {
    await this.enter("eraseUserBackups");
    const key = InMemoryBackupStore.userKey(userId);
    const count = this.objects.get(key)?.length ?? 0;
    this.objects.delete(key);
    return count;
  }

  async putSnapshotPart(snapshotId: string, part: CompletedPart): Promise<void> {
    await this.enter("putSnapshotPart");
    // Replacing a part removes its older versions: an erased user must not survive in one.
    this.replace(InMemoryBackupStore.snapshotFileKey(snapshotId, part.name), part.text);
  }

  /** Where a snapshot file lives (as in S3, without the `.gz`). */
  static snapshotFileKey(snapshotId: string, name: string): string {
    return `snapshots/${snapshotId}/${checkSnapshotFileName(name)}`;
  }

  async putSnapshotFile(snapshotId: string, name: string, text: string): Promise<void> {
    const key = InMemoryBackupStore.snapshotFileKey(snapshotId, name);
    await this.enter("putSnapshotFile");
    this.replace(key, text);
  }

  async getSnapshotFile(snapshotId: string, name: string): Promise<string | undefined> {
    const key = InMemoryBackupStore.snapshotFileKey(snapshotId, name);
    await this.enter("getSnapshotFile");
    return this.objects.get(key)?.at(-1);
  }

  async listSnapshotFiles(snapshotId: string): Promise<string[]> {
    await this.enter("listSnapshotFiles");
    const prefix = `snapshots/${snapshotId}/`;
    return this.keys()
      .filter((key) => key.startsWith(prefix) && key !== `${prefix}manifest.json`)
      .map((key) => key.slice(prefix.length));
  }

  async listSnapshotIds(): Promise<string[]> {
    await this.enter("listSnapshotIds");
    const ids = new Set<string>();
    for (const key of this.keys()) {
      const match = /^snapshots\/([^/]+)\//.exec(key);
      if (match?.[1] !== undefined) ids.add(match[1]);
    }
    return [...ids].sort();
  }

  async deleteSnapshotFile(snapshotId: string, name: string): Promise<void> {
    const key = InMemoryBackupStore.snapshotFileKey(snapshotId, name);
    await this.enter("deleteSnapshotFile");
    this.objects.delete(key);
  }

  async putSnapshotManifest(manifest: SnapshotManifest): Promise<void> {
    await this.enter("putSnapshotManifest");
    this.replace(`snapshots/${manifest.snapshotId}/manifest.json`, serializeManifest(manifest));
  }

  async listSnapshots(): Promise<string[]> {
    await this.enter("listSnapshots");
    return this.keys()
      .filter((key) => key.startsWith("snapshots/") && key.endsWith("/manifest.json"))
      .map((key) => key.slice("snapshots/".length, -"/manifest.json".length));
  }

  async listSnapshotParts(): Promise<SnapshotPartRef[]> {
    await this.enter("listSnapshotParts");
    const parts: SnapshotPartRef[] = [];
    for (const key of this.keys()) {
      const match = /^snapshots\/([^/]+)\/(.+)$/.exec(key);
      if (match && isRecordPartName(match[2] as string))
        parts.push({ snapshotId: match[1] as string, partName: match[2] as string });
    }
    return parts;
  }

  async getSnapshotManifest(snapshotId: string): Promise<SnapshotManifest> {
    await this.enter("getSnapshotManifest");
    const key = `snapshots/${snapshotId}/manifest.json`;
    const text = this.objects.get(key)?.at(-1);
    if (text === undefined) {
      throw new LifecycleError(
        "SNAPSHOT.MALFORMED",
        `Snapshot ${snapshotId} has no manifest (missing or incomplete)`,
      );
    }
    return parseManifest(text, key);
  }

  async getSnapshotPart(snapshotId: string, partName: string): Promise<string> {
    await this.enter("getSnapshotPart");
    const text = this.objects.get(InMemoryBackupStore.snapshotFileKey(snapshotId, partName))?.at(-1);
    if (text === undefined) {
      throw new LifecycleError(
        "SNAPSHOT.MALFORMED",
        `Snapshot ${snapshotId} is missing its part ${partName}`,
      );
    }
    return text;
  }

  async putRestorePlan(stored: StoredRestorePlan): Promise<void> {
    await this.enter("putRestorePlan");
    this.replace(InMemoryBackupStore.restorePlanKey(stored.plan.planId), serializeRestorePlan(stored));
  }

  async getRestorePlan(planId: string): Promise<StoredRestorePlan> {
    await this.enter("getRestorePlan");
    const key = InMemoryBackupStore.restorePlanKey(planId);
    return parseRestorePlan(this.requireRestoreObject(key, planId), key);
  }

  /**
   * Like S3 with `If-Match` / `If-None-Match: *`: the condition is checked and the object replaced in one
   * step, and every write gets a new version (S3's ETag changes with the content; here a counter, so even
   * an identical rewrite is a new version).
   */
  async putRestoreProgress(progress: RestoreProgress, condition?: ProgressCondition): Promise<string> {
    await this.enter("putRestoreProgress");
    const key = InMemoryBackupStore.restoreProgressKey(progress.planId);
    const text = serializeRestoreProgress(progress);
    const current = this.progressVersions.get(key);
    if (condition && ("ifAbsent" in condition ? current !== undefined : current !== condition.ifVersion)) {
      throw restoreConflict(progress.planId);
    }
    this.replace(key, text);
    this.versionCounter += 1;
    const version = `"v${this.versionCounter}"`;
    this.progressVersions.set(key, version);
    return version;
  }

  async getRestoreProgress(planId: string): Promise<RestoreProgress> {
    return (await this.getVersionedRestoreProgress(planId)).progress;
  }

  async getVersionedRestoreProgress(planId: string): Promise<VersionedRestoreProgress> {
    await this.enter("getRestoreProgress");
    const key = InMemoryBackupStore.restoreProgressKey(planId);
    const progress = parseRestoreProgress(this.requireRestoreObject(key, planId), key);
    // A planted object (putRaw) has no version yet: it gets one, as any S3 object has an ETag.
    let version = this.progressVersions.get(key);
    if (version === undefined) {
      this.versionCounter += 1;
      version = `"v${this.versionCounter}"`;
      this.progressVersions.set(key, version);
    }
    return { progress, version };
  }

  async listRestores(): Promise<string[]> {
    await this.enter("listRestores");
    const ids = new Set<string>();
    for (const key of this.objects.keys()) {
      const match = /^restores\/([^/]+)\//.exec(key);
      if (match?.[1] !== undefined) ids.add(match[1]);
    }
    return [...ids].sort();
  }

  /** Writes `key` leaving no older version, as the S3 store does for objects it replaces. */
  private replace(key: string, text: string): void {
    this.writes.set(key, (this.writes.get(key) ?? 0) + 1);
    this.objects.set(key, [text]);
  }

  private requireRestoreObject(key: string, planId: string): string {
    const text = this.objects.get(key)?.at(-1);
    if (text === undefined) {
      throw new LifecycleError("RESTORE.NOT_FOUND", `No restore ${planId}`, { details: { planId } });
    }
    return text;
  }
}
