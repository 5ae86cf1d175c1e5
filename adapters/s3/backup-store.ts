import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  type BackupRecord,
  parseBackupRecord,
  serializeBackupRecord,
} from "../../core/backup/backup-record.js";
import {
  type CompletedPart,
  parseManifest,
  type SnapshotManifest,
  serializeManifest,
} from "../../core/backup/snapshot.js";
import { LifecycleError, ValidationError } from "../../core/errors.js";
import {
  type BackupEntry,
  type BackupReader,
  type BackupStore,
  boundToAnother,
  type PutBackupOutcome,
  type SnapshotPartRef,
} from "../../core/ports/backup-store.js";
import { checkSnapshotFileName, isRecordPartName } from "../../core/backup/snapshot-files.js";
import { stableUserId } from "../../core/user/user.js";
import { decodeUtf8, type ListedObject, S3BucketObjects } from "./bucket-objects.js";
import { isConditionFailed } from "./errors.js";
import { BACKUP_KEY_PREFIXES } from "./permissions.js";

const gzipAsync = promisify(gzip);

const { users: USERS_PREFIX, snapshots: SNAPSHOTS_PREFIX } = BACKUP_KEY_PREFIXES;
const MANIFEST_NAME = "manifest.json";
/** Parts are stored as gzip files: the key says so, so a downloaded part is a `.jsonl.gz` anyone can `zcat`. */
const PART_SUFFIX = ".gz";
/**
 * A backup record is usually a few kilobytes. Cognito bounds the worst case (about 70 attributes of at most
 * 2,048 characters, at most 6 bytes each once JSON-escaped: under 1 MiB), so anything bigger under `users/`
 * is not a backup, and is reported from the listing instead of being read into memory.
 */
const USER_BACKUP_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_READ_CONCURRENCY = 16;
/** Rounds of read-compare-write when another writer keeps changing the object in between. */
const CONDITIONAL_WRITE_ATTEMPTS = 5;

/** Where the backup of `userId` lives: derived from the stable id alone, so a repeat overwrites it. */
export function userBackupKey(userId: string): string {
  return `${USERS_PREFIX}${userId}.json`;
}

/**
 * Where a snapshot file lives: its name plus `.gz`, e.g. `snapshots/<id>/part-00001.jsonl.gz` or
 * `snapshots/<id>/p-a/part-00001.jsonl.gz`.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` for a name that is not a snapshot file's.
 */
export function snapshotPartKey(snapshotId: string, partName: string): string {
  return `${SNAPSHOTS_PREFIX}${snapshotId}/${checkSnapshotFileName(partName)}${PART_SUFFIX}`;
}

/** Where a snapshot's manifest lives; its presence is what makes the snapshot complete. */
export function snapshotManifestKey(snapshotId: string): string {
  return `${SNAPSHOTS_PREFIX}${snapshotId}/${MANIFEST_NAME}`;
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

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * The reading half of {@link S3BackupStore}, for a function that only reads backups (the restore): its
 * bundle then carries none of the store's writing and erasing code.
 */
export class S3BackupReader extends S3BucketObjects implements BackupReader {
  private readonly readConcurrency: number;

  /**
   * @param options the store's: a reader uses `readConcurrency` only.
   * @throws ValidationError `CONFIG.INVALID` when `readConcurrency` is not a positive integer.
   */
  constructor(
    client: S3Client,
    bucket: string,
    protected readonly options: S3BackupStoreOptions = {},
  ) {
    super(client, bucket, options.kmsKeyId);
    const concurrency = options.readConcurrency ?? DEFAULT_READ_CONCURRENCY;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new ValidationError("CONFIG.INVALID", "readConcurrency", "must be a positive integer");
    }
    this.readConcurrency = concurrency;
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

  async getSnapshotFile(snapshotId: string, name: string): Promise<string | undefined> {
    return this.getGzipText(snapshotPartKey(snapshotId, name), "SNAPSHOT.MALFORMED");
  }

  async getSnapshotPart(snapshotId: string, partName: string): Promise<string> {
    const text = await this.getSnapshotFile(snapshotId, partName);
    if (text === undefined) {
      throw new LifecycleError(
        "SNAPSHOT.MALFORMED",
        `Snapshot ${snapshotId} is missing its part ${partName}`,
      );
    }
    return text;
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
}

/**
 * Backups in an S3 bucket, meant to be versioned:
 * - `users/<stableUserId>.json`: the user's current backup record as JSON; older ones are older versions.
 * - `snapshots/<snapshotId>/part-00001.jsonl.gz`…: the parts, gzip files (`Content-Type: application/gzip`,
 *   no `Content-Encoding`, so no HTTP client unzips them on the way and a download is the stored file).
 * - `snapshots/<snapshotId>/manifest.json`: written last; sizes and SHA-256 in it are of the unzipped text.
 * (`restores/` holds the restore state: see `S3RestoreStateStore`.)
 *
 * Every put carries SSE-KMS parameters when a key is configured. A network failure surfaces as one
 * `SERVICE.UNREACHABLE` error, after the client's own retries (its `maxAttempts` and timeouts are the
 * composition root's choice).
 */
export class S3BackupStore extends S3BackupReader implements BackupStore {
  /**
   * Reads the current backup with its ETag, compares its username (identity binding), then writes with
   * `If-Match: <that ETag>` (or `If-None-Match: *` when there was none): S3 refuses the write with 412 if the
   * object changed in between, and the comparison starts again. So two writers for two usernames cannot both
   * land. (Conditional writes: S3 user guide, "How to prevent object overwrites with conditional writes".)
   */
  async putUserBackup(record: BackupRecord): Promise<PutBackupOutcome> {
    // The id, then the record, checked before anything is sent: an invalid one throws and nothing is written.
    const key = userBackupKey(stableUserId(record.user));
    const text = serializeBackupRecord(record);
    const body = Buffer.from(text, "utf8");
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.getObjectAndTag(key);
      const currentText = current === undefined ? undefined : decodeOrUndefined(current.bytes);
      if (boundToAnother(currentText, key, record.user.username)) return "identity-conflict";
      try {
        await this.putObject(
          key,
          body,
          "application/json",
          current === undefined
            ? { ifNoneMatch: "*" }
            : current.etag === undefined
              ? {}
              : { ifMatch: current.etag },
        );
        return "written";
      } catch (error) {
        if (!isConditionFailed(error) || attempt >= CONDITIONAL_WRITE_ATTEMPTS) throw error;
      }
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
    return this.deleteEveryVersion(userBackupKey(userId));
  }

  async putSnapshotPart(snapshotId: string, part: CompletedPart): Promise<void> {
    await this.putSnapshotFile(snapshotId, part.name, part.text);
  }

  async putSnapshotFile(snapshotId: string, name: string, text: string): Promise<void> {
    const key = snapshotPartKey(snapshotId, name);
    const body = await gzipAsync(Buffer.from(text, "utf8"));
    await this.putReplacing(key, body, "application/gzip");
  }

  async listSnapshotParts(): Promise<SnapshotPartRef[]> {
    const parts: SnapshotPartRef[] = [];
    for await (const { snapshotId, name } of this.snapshotObjects(SNAPSHOTS_PREFIX)) {
      if (isRecordPartName(name)) parts.push({ snapshotId, partName: name });
    }
    return parts;
  }

  async listSnapshotFiles(snapshotId: string): Promise<string[]> {
    const names: string[] = [];
    for await (const object of this.snapshotObjects(`${SNAPSHOTS_PREFIX}${snapshotId}/`)) {
      if (object.snapshotId === snapshotId) names.push(object.name);
    }
    return names;
  }

  async listSnapshotIds(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const { key } of this.listObjects(SNAPSHOTS_PREFIX)) {
      const id = key.slice(SNAPSHOTS_PREFIX.length).split("/")[0];
      if (id) ids.add(id);
    }
    return [...ids].sort();
  }

  async deleteSnapshotFile(snapshotId: string, name: string): Promise<void> {
    await this.deleteEveryVersion(snapshotPartKey(snapshotId, name));
  }

  /** The snapshot files (`.gz` objects, manifests excepted) under `prefix`, named as the store names them. */
  private async *snapshotObjects(prefix: string): AsyncGenerator<{ snapshotId: string; name: string }> {
    for await (const { key } of this.listObjects(prefix)) {
      const rest = key.slice(SNAPSHOTS_PREFIX.length);
      const slash = rest.indexOf("/");
      if (slash <= 0 || !rest.endsWith(PART_SUFFIX)) continue;
      yield { snapshotId: rest.slice(0, slash), name: rest.slice(slash + 1, -PART_SUFFIX.length) };
    }
  }

  /** Deletes every version and delete marker of `key` (or the object, where versions are not listed). */
  private async deleteEveryVersion(key: string): Promise<number> {
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

  async putSnapshotManifest(manifest: SnapshotManifest): Promise<void> {
    const text = serializeManifest(manifest);
    await this.putReplacing(
      snapshotManifestKey(manifest.snapshotId),
      Buffer.from(text, "utf8"),
      "application/json",
    );
  }
}

function decodeOrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return decodeUtf8(bytes, "", "BACKUP.MALFORMED");
  } catch {
    return undefined;
  }
}

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}
