import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
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
import { type ErrorCode, LifecycleError, ValidationError } from "../../core/errors.js";
import type { BackupEntry, BackupStore } from "../../core/ports/backup-store.js";
import { stableUserId } from "../../core/user/user.js";
import { asUnreachable } from "../shared/network-errors.js";
import { type DeleteFailure, isNoSuchKey, S3DeleteError } from "./errors.js";
import { BACKUP_KEY_PREFIXES } from "./permissions.js";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const { users: USERS_PREFIX, snapshots: SNAPSHOTS_PREFIX, restores: RESTORES_PREFIX } = BACKUP_KEY_PREFIXES;
const MANIFEST_NAME = "manifest.json";
/** Parts are stored as gzip files: the key says so, so a downloaded part is a `.jsonl.gz` anyone can `zcat`. */
const PART_SUFFIX = ".gz";
/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH_MAX = 1_000;
/**
 * A backup record is usually a few kilobytes. Cognito bounds the worst case (about 70 attributes of at most
 * 2,048 characters, at most 6 bytes each once JSON-escaped: under 1 MiB), so anything bigger under `users/`
 * is not a backup, and is reported from the listing instead of being read into memory.
 */
const USER_BACKUP_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_READ_CONCURRENCY = 16;

/** Where the backup of `userId` lives: derived from the stable id alone, so a repeat overwrites it. */
export function userBackupKey(userId: string): string {
  return `${USERS_PREFIX}${userId}.json`;
}

/** Where a snapshot part lives: its name plus `.gz`, e.g. `snapshots/<id>/part-00001.jsonl.gz`. */
export function snapshotPartKey(snapshotId: string, partName: string): string {
  return `${SNAPSHOTS_PREFIX}${snapshotId}/${partName}${PART_SUFFIX}`;
}

/** Where a snapshot's manifest lives; its presence is what makes the snapshot complete. */
export function snapshotManifestKey(snapshotId: string): string {
  return `${SNAPSHOTS_PREFIX}${snapshotId}/${MANIFEST_NAME}`;
}

/**
 * Where a restore's plan lives: `restores/<planId>/plan.json.gz`, a gzip file (100,000 users make tens of
 * megabytes of JSON), written once.
 */
export function restorePlanKey(planId: string): string {
  return `${RESTORES_PREFIX}${planId}/plan.json.gz`;
}

/** Where a restore's progress lives: `restores/<planId>/progress.json.gz`, replaced after every step. */
export function restoreProgressKey(planId: string): string {
  return `${RESTORES_PREFIX}${planId}/progress.json.gz`;
}

export interface S3BackupStoreOptions {
  /**
   * A KMS key (id, ARN or alias) to encrypt every object with (SSE-KMS). Unset: the bucket's default
   * encryption applies (SSE-S3 unless the bucket says otherwise).
   */
  readonly kmsKeyId?: string;
  /** How many objects `listUserBackups` reads at once. Default 16. */
  readonly readConcurrency?: number;
  /**
   * `false` only for a store that implements no object versioning at all (s3rver in the local stack): each
   * key then holds one object, and erase deletes it without ListObjectVersions. Default `true`; never turn
   * it off on S3, where it would leave older versions behind.
   */
  readonly versionListing?: boolean;
}

/** One entry of ListObjectVersions, a version or a delete marker, of one key. */
interface ObjectVersionRef {
  readonly versionId: string;
  readonly deleteMarker: boolean;
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * Backups in an S3 bucket, meant to be versioned:
 * - `users/<stableUserId>.json`: the user's current backup record as JSON; older ones are older versions.
 * - `snapshots/<snapshotId>/part-00001.jsonl.gz`…: the parts, gzip files (`Content-Type: application/gzip`,
 *   no `Content-Encoding`, so no HTTP client unzips them on the way and a download is the stored file).
 * - `snapshots/<snapshotId>/manifest.json`: written last; sizes and SHA-256 in it are of the unzipped text.
 * - `restores/<planId>/plan.json.gz` and `progress.json.gz`: a restore's state between its steps, gzip JSON;
 *   both are replaced in place (older versions deleted).
 *
 * Every put carries SSE-KMS parameters when a key is configured. A network failure surfaces as one
 * `SERVICE.UNREACHABLE` error, after the client's own retries (its `maxAttempts` and timeouts are the
 * composition root's choice).
 */
export class S3BackupStore implements BackupStore {
  private readonly readConcurrency: number;

  /**
   * @throws ValidationError `CONFIG.INVALID` when `readConcurrency` is not a positive integer.
   */
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly options: S3BackupStoreOptions = {},
  ) {
    const concurrency = options.readConcurrency ?? DEFAULT_READ_CONCURRENCY;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new ValidationError("CONFIG.INVALID", "readConcurrency", "must be a positive integer");
    }
    this.readConcurrency = concurrency;
  }

  async putUserBackup(record: BackupRecord): Promise<void> {
    // Serialized before anything is sent: an invalid record throws and nothing is written.
    const text = serializeBackupRecord(record);
    await this.putObject(
      userBackupKey(stableUserId(record.user)),
      Buffer.from(text, "utf8"),
      "application/json",
    );
  }

  async getUserBackup(userId: string): Promise<BackupRecord | undefined> {
    const key = userBackupKey(userId);
    const bytes = await this.getObject(key);
    if (bytes === undefined) return undefined;
    return parseBackupRecord(decodeUtf8(bytes, key, "BACKUP.MALFORMED"), key);
  }

  /**
   * Reads up to `readConcurrency` objects at once and yields in key order. Memory holds one listing page and
   * at most `readConcurrency` bodies, whatever the number of backups. An object deleted between the listing
   * and its read is skipped: it is no longer a current backup.
   */
  async *listUserBackups(): AsyncIterable<BackupEntry> {
    // Reads settle instead of rejecting, so when the consumer stops early or a read fails, the reads still
    // in flight end without an unhandled rejection.
    const window: Promise<Settled<BackupEntry | undefined>>[] = [];
    const next = async (): Promise<BackupEntry | undefined> => {
      const settled = await (window.shift() as Promise<Settled<BackupEntry | undefined>>);
      if (!settled.ok) throw settled.error;
      return settled.value;
    };
    for await (const object of this.listObjects(USERS_PREFIX)) {
      // Zero-byte "folder" markers (made by the S3 console) are not objects anyone wrote as a backup.
      if (object.key.endsWith("/")) continue;
      window.push(settle(this.readListedBackup(object)));
      if (window.length >= this.readConcurrency) {
        const entry = await next();
        if (entry) yield entry;
      }
    }
    while (window.length > 0) {
      const entry = await next();
      if (entry) yield entry;
    }
  }

  /**
   * Deletes every version and every delete marker of the user's object, and returns how many versions (not
   * delete markers, which hold no data) were deleted. Only the exact key is touched, though the version
   * listing's prefix also matches longer keys (`users/ab.json` for `users/a`).
   *
   * @throws S3DeleteError when S3 refuses any of the deletions.
   */
  async eraseUserBackups(userId: string): Promise<number> {
    const key = userBackupKey(userId);
    if (this.options.versionListing === false) {
      if ((await this.getObject(key)) === undefined) return 0;
      await this.call("DeleteObject", () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      return 1;
    }
    const versions = await this.versionsOf(key);
    await this.deleteVersions(key, versions);
    return versions.filter((version) => !version.deleteMarker).length;
  }

  async putSnapshotPart(snapshotId: string, part: CompletedPart): Promise<void> {
    const body = await gzipAsync(Buffer.from(part.text, "utf8"));
    await this.putReplacing(snapshotPartKey(snapshotId, part.name), body, "application/gzip");
  }

  async putSnapshotManifest(manifest: SnapshotManifest): Promise<void> {
    const text = serializeManifest(manifest);
    await this.putReplacing(
      snapshotManifestKey(manifest.snapshotId),
      Buffer.from(text, "utf8"),
      "application/json",
    );
  }

  async listSnapshots(): Promise<string[]> {
    const ids: string[] = [];
    for await (const { key } of this.listObjects(SNAPSHOTS_PREFIX)) {
      const rest = key.slice(SNAPSHOTS_PREFIX.length);
      const slash = rest.indexOf("/");
      if (slash > 0 && rest.slice(slash + 1) === MANIFEST_NAME) ids.push(rest.slice(0, slash));
    }
    // S3 lists in UTF-8 byte order; ids are ASCII, so this is the same order, made explicit.
    return ids.sort();
  }

  async getSnapshotManifest(snapshotId: string): Promise<SnapshotManifest> {
    const key = snapshotManifestKey(snapshotId);
    const bytes = await this.getObject(key);
    if (bytes === undefined) {
      throw new LifecycleError(
        "SNAPSHOT.MALFORMED",
        `Snapshot ${snapshotId} has no manifest (missing or incomplete)`,
      );
    }
    const manifest = parseManifest(decodeUtf8(bytes, key, "SNAPSHOT.MALFORMED"), key);
    // A manifest copied under another snapshot's key would point a restore at the wrong parts.
    if (manifest.snapshotId !== snapshotId) {
      throw new ValidationError(
        "SNAPSHOT.MALFORMED",
        `${key}: snapshotId`,
        "does not match the snapshot's key",
      );
    }
    return manifest;
  }

  async getSnapshotPart(snapshotId: string, partName: string): Promise<string> {
    const key = snapshotPartKey(snapshotId, partName);
    const bytes = await this.getObject(key);
    if (bytes === undefined) {
      throw new LifecycleError(
        "SNAPSHOT.MALFORMED",
        `Snapshot ${snapshotId} is missing its part ${partName}`,
      );
    }
    let text: Buffer;
    try {
      text = await gunzipAsync(bytes);
    } catch (error) {
      throw new ValidationError("SNAPSHOT.MALFORMED", key, "is not a gzip file", { cause: error });
    }
    return decodeUtf8(text, key, "SNAPSHOT.MALFORMED");
  }

  async putRestorePlan(stored: StoredRestorePlan): Promise<void> {
    // Serialized (and so checked) before anything is sent.
    const body = await gzipAsync(Buffer.from(serializeRestorePlan(stored), "utf8"));
    await this.putReplacing(restorePlanKey(stored.plan.planId), body, "application/gzip");
  }

  async getRestorePlan(planId: string): Promise<StoredRestorePlan> {
    const key = restorePlanKey(planId);
    return parseRestorePlan(await this.getRestoreText(key, planId), key);
  }

  async putRestoreProgress(progress: RestoreProgress): Promise<void> {
    const body = await gzipAsync(Buffer.from(serializeRestoreProgress(progress), "utf8"));
    await this.putReplacing(restoreProgressKey(progress.planId), body, "application/gzip");
  }

  async getRestoreProgress(planId: string): Promise<RestoreProgress> {
    const key = restoreProgressKey(planId);
    return parseRestoreProgress(await this.getRestoreText(key, planId), key);
  }

  /** The unzipped text of a restore object; `RESTORE.NOT_FOUND` when absent. */
  private async getRestoreText(key: string, planId: string): Promise<string> {
    const bytes = await this.getObject(key);
    if (bytes === undefined) {
      throw new LifecycleError("RESTORE.NOT_FOUND", `No restore ${planId}`, { details: { planId } });
    }
    let text: Buffer;
    try {
      text = await gunzipAsync(bytes);
    } catch (error) {
      throw new ValidationError("RESTORE.STATE_MALFORMED", key, "is not a gzip file", { cause: error });
    }
    return decodeUtf8(text, key, "RESTORE.STATE_MALFORMED");
  }

  private async readListedBackup(object: ListedObject): Promise<BackupEntry | undefined> {
    const { key } = object;
    try {
      if (object.size > USER_BACKUP_MAX_BYTES) {
        throw new ValidationError(
          "BACKUP.MALFORMED",
          key,
          `holds ${object.size} bytes, more than a backup record can (${USER_BACKUP_MAX_BYTES})`,
        );
      }
      const bytes = await this.getObject(key);
      if (bytes === undefined) return undefined;
      const record = parseBackupRecord(decodeUtf8(bytes, key, "BACKUP.MALFORMED"), key);
      return { kind: "record", userId: stableUserId(record.user), record };
    } catch (error) {
      if (error instanceof ValidationError) return { kind: "malformed", location: key, error };
      throw error;
    }
  }

  /** Every object under `prefix`, in key order, one ListObjectsV2 page at a time. */
  private async *listObjects(prefix: string): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    do {
      const page = await this.call("ListObjectsV2", () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
      }
      token = nextPosition(page.IsTruncated, page.NextContinuationToken, token, "ListObjectsV2");
    } while (token !== undefined);
  }

  /** Every version and delete marker of exactly `key`, across all pages of ListObjectVersions. */
  private async versionsOf(key: string): Promise<ObjectVersionRef[]> {
    const found: ObjectVersionRef[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let position: string | undefined;
    do {
      const page = await this.call("ListObjectVersions", () =>
        this.client.send(
          new ListObjectVersionsCommand({
            Bucket: this.bucket,
            Prefix: key,
            KeyMarker: keyMarker,
            VersionIdMarker: versionIdMarker,
          }),
        ),
      );
      const entries = [
        ...(page.Versions ?? []).map((entry) => ({ entry, deleteMarker: false })),
        ...(page.DeleteMarkers ?? []).map((entry) => ({ entry, deleteMarker: true })),
      ];
      for (const { entry, deleteMarker } of entries) {
        // A version written while the bucket was unversioned has the id "null", which S3 accepts back.
        if (entry.Key === key) found.push({ versionId: entry.VersionId ?? "null", deleteMarker });
      }
      // The position is the pair of markers: pages of one key's versions share the key marker.
      const next = page.NextKeyMarker && `${page.NextKeyMarker}\n${page.NextVersionIdMarker ?? ""}`;
      position = nextPosition(page.IsTruncated, next, position, "ListObjectVersions");
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    } while (position !== undefined);
    return found;
  }

  private async deleteVersions(key: string, versions: readonly ObjectVersionRef[]): Promise<void> {
    for (let start = 0; start < versions.length; start += DELETE_BATCH_MAX) {
      const batch = versions.slice(start, start + DELETE_BATCH_MAX);
      const result = await this.call("DeleteObjects", () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            // Quiet: the answer lists only the failures, which are all that is checked.
            Delete: {
              Objects: batch.map(({ versionId }) => ({ Key: key, VersionId: versionId })),
              Quiet: true,
            },
          }),
        ),
      );
      const failures: DeleteFailure[] = (result.Errors ?? []).map((error) => ({
        code: error.Code ?? "Unknown",
        ...(error.VersionId === undefined ? {} : { versionId: error.VersionId }),
      }));
      if (failures.length > 0) throw new S3DeleteError(this.bucket, failures);
    }
  }

  /**
   * Writes `key` and deletes every other version of it, so replaced content (a snapshot part that held an
   * erased user) does not survive as an older version. Snapshot objects have a single writer at a time;
   * were there two, the later put would win and the earlier one's version would be deleted with the rest.
   */
  private async putReplacing(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const versionId = await this.putObject(key, body, contentType);
    // An unversioned bucket returns no version id: the overwrite already left nothing behind.
    if (versionId === undefined) return;
    const older = (await this.versionsOf(key)).filter((version) => version.versionId !== versionId);
    await this.deleteVersions(key, older);
  }

  /** PutObject with the configured encryption; returns the new version's id on a versioned bucket. */
  private async putObject(key: string, body: Uint8Array, contentType: string): Promise<string | undefined> {
    const { kmsKeyId } = this.options;
    const { VersionId } = await this.call("PutObject", () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...(kmsKeyId === undefined ? {} : { ServerSideEncryption: "aws:kms", SSEKMSKeyId: kmsKeyId }),
        }),
      ),
    );
    return VersionId;
  }

  /** The object's bytes, or `undefined` when no object has the key. */
  private async getObject(key: string): Promise<Uint8Array | undefined> {
    return this.call("GetObject", async () => {
      try {
        const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return Body === undefined ? new Uint8Array() : await Body.transformToByteArray();
      } catch (error) {
        if (isNoSuchKey(error)) return undefined;
        throw error;
      }
    });
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw asUnreachable("Amazon S3", operation, error) ?? error;
    }
  }
}

interface ListedObject {
  readonly key: string;
  readonly size: number;
}

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/**
 * Where the next page starts, or `undefined` after the last one. A truncated page without a position, or
 * with the position already asked for, would make the listing stop short or loop forever: it fails instead.
 */
function nextPosition(
  truncated: boolean | undefined,
  position: string | undefined,
  previous: string | undefined,
  operation: string,
): string | undefined {
  if (!truncated) return undefined;
  if (position === undefined || position === "") {
    throw new Error(`${operation} returned a truncated page without a token for the next one`);
  }
  if (position === previous) throw new Error(`${operation} returned the same page token twice`);
  return position;
}

// ignoreBOM keeps a leading U+FEFF in the text: a part comes back exactly as written, byte for byte.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text of an object; invalid UTF-8 is a damaged object, not text to carry on with replacement marks. */
function decodeUtf8(bytes: Uint8Array, key: string, code: ErrorCode): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new ValidationError(code, key, "is not valid UTF-8", { cause: error });
  }
}
