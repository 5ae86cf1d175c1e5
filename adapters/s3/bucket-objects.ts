/**
 * What the S3 stores of the backup bucket share: reads, encrypted writes, writes that leave no older version,
 * listings page by page, and network failures turned into one `SERVICE.UNREACHABLE` error.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { type ErrorCode, ValidationError } from "../../core/errors.js";
import { asUnreachable } from "../shared/network-errors.js";
import { type DeleteFailure, isNoSuchKey, S3DeleteError } from "./errors.js";

const gunzipAsync = promisify(gunzip);

/** DeleteObjects takes at most 1,000 keys per request. */
const DELETE_BATCH_MAX = 1_000;

export /** One entry of ListObjectVersions, a version or a delete marker, of one key. */
interface ObjectVersionRef {
  readonly versionId: string;
  readonly deleteMarker: boolean;
}

/** S3's conditional-write headers: see {@link S3BucketObjects.putObject}. */
export interface PutCondition {
  readonly ifNoneMatch?: "*";
  readonly ifMatch?: string;
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
}

/** The bucket's objects, for the stores built on it. Every put carries SSE-KMS parameters when a key is set. */
export abstract class S3BucketObjects {
  constructor(
    protected readonly client: S3Client,
    protected readonly bucket: string,
    protected readonly kmsKeyId: string | undefined,
  ) {}

  /** Every object under `prefix`, in key order, one ListObjectsV2 page at a time. */
  protected async *listObjects(prefix: string, pageSize?: number): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    do {
      const page = await this.call("ListObjectsV2", () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
            ...(pageSize === undefined ? {} : { MaxKeys: pageSize }),
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
      }
      token = nextPosition(page.IsTruncated, page.NextContinuationToken, token, "ListObjectsV2");
    } while (token !== undefined);
  }

  /** Every version and delete marker of exactly `key`, across all pages of ListObjectVersions. */
  protected async versionsOf(key: string): Promise<ObjectVersionRef[]> {
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

  protected async deleteVersions(key: string, versions: readonly ObjectVersionRef[]): Promise<void> {
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
  protected async putReplacing(
    key: string,
    body: Uint8Array,
    contentType: string,
    condition: PutCondition = {},
  ): Promise<string | undefined> {
    const { versionId, etag } = await this.putObjectAndTag(key, body, contentType, condition);
    // An unversioned bucket returns no version id: the overwrite already left nothing behind.
    if (versionId === undefined) return etag;
    const older = (await this.versionsOf(key)).filter((version) => version.versionId !== versionId);
    await this.deleteVersions(key, older);
    return etag;
  }

  /**
   * PutObject with the configured encryption; returns the new version's id on a versioned bucket.
   *
   * `condition` makes it a conditional write, which S3 has supported since 2024 ("How to prevent object
   * overwrites with conditional writes", S3 user guide): `ifNoneMatch: "*"` writes only when no object has
   * the key, `ifMatch` only when the current object's ETag is that one. A failed condition throws S3's 412
   * `PreconditionFailed` (or 409 `ConditionalRequestConflict` for a concurrent write): see
   * `isConditionFailed`. (s3rver ignores both headers: locally the write is unconditional.)
   */
  protected async putObject(
    key: string,
    body: Uint8Array,
    contentType: string,
    condition: PutCondition = {},
  ): Promise<string | undefined> {
    return (await this.putObjectAndTag(key, body, contentType, condition)).versionId;
  }

  /** {@link putObject}, answering the new object's ETag as well (what a later `ifMatch` names). */
  protected async putObjectAndTag(
    key: string,
    body: Uint8Array,
    contentType: string,
    condition: PutCondition = {},
  ): Promise<{ versionId?: string; etag?: string }> {
    const { kmsKeyId } = this;
    const { VersionId, ETag } = await this.call("PutObject", () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...(kmsKeyId === undefined ? {} : { ServerSideEncryption: "aws:kms", SSEKMSKeyId: kmsKeyId }),
          ...(condition.ifNoneMatch === undefined ? {} : { IfNoneMatch: condition.ifNoneMatch }),
          ...(condition.ifMatch === undefined ? {} : { IfMatch: condition.ifMatch }),
        }),
      ),
    );
    return { ...(VersionId === undefined ? {} : { versionId: VersionId }), ...(ETag ? { etag: ETag } : {}) };
  }

  /** The object's bytes and ETag, or `undefined` when no object has the key. */
  protected async getObjectAndTag(key: string): Promise<{ bytes: Uint8Array; etag?: string } | undefined> {
    return this.call("GetObject", async () => {
      try {
        const { Body, ETag } = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key }),
        );
        const bytes = Body === undefined ? new Uint8Array() : await Body.transformToByteArray();
        return { bytes, ...(ETag === undefined ? {} : { etag: ETag }) };
      } catch (error) {
        if (isNoSuchKey(error)) return undefined;
        throw error;
      }
    });
  }

  /** The object's bytes, or `undefined` when no object has the key. */
  protected async getObject(key: string): Promise<Uint8Array | undefined> {
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

  /**
   * The unzipped text of a gzip object, or `undefined` when no object has the key.
   *
   * @throws ValidationError `code` naming the key when the object is not gzip or not UTF-8.
   */
  protected async getGzipText(key: string, code: ErrorCode): Promise<string | undefined> {
    const bytes = await this.getObject(key);
    if (bytes === undefined) return undefined;
    return this.gunzipText(bytes, key, code);
  }

  /** {@link getGzipText} with the object's ETag. */
  protected async getGzipTextAndTag(
    key: string,
    code: ErrorCode,
  ): Promise<{ text: string; etag?: string } | undefined> {
    const object = await this.getObjectAndTag(key);
    if (object === undefined) return undefined;
    const text = await this.gunzipText(object.bytes, key, code);
    return { text, ...(object.etag === undefined ? {} : { etag: object.etag }) };
  }

  private async gunzipText(bytes: Uint8Array, key: string, code: ErrorCode): Promise<string> {
    let text: Buffer;
    try {
      text = await gunzipAsync(bytes);
    } catch (error) {
      throw new ValidationError(code, key, "is not a gzip file", { cause: error });
    }
    return decodeUtf8(text, key, code);
  }

  protected async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw asUnreachable("Amazon S3", operation, error) ?? error;
    }
  }
}

/**
 * Where the next page starts, or `undefined` after the last one. A truncated page without a position, or
 * with the position already asked for, would make the listing stop short or loop forever: it fails instead.
 */
export function nextPosition(
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
export function decodeUtf8(bytes: Uint8Array, key: string, code: ErrorCode): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new ValidationError(code, key, "is not valid UTF-8", { cause: error });
  }
}
