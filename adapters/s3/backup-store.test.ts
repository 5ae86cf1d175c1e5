import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  type ListObjectVersionsCommandInput,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { serializeBackupRecord } from "../../core/backup/backup-record.js";
import { type CompletedPart, SnapshotPartWriter, serializeManifest } from "../../core/backup/snapshot.js";
import type { BackupEntry } from "../../core/ports/backup-store.js";
import { arbBackupRecord, arbSnapshotManifest } from "../../core/testing/arbitraries.js";
import { aBackupRecord } from "../../core/testing/backup.js";
import { stableUserId } from "../../core/user/user.js";
import { newRestoreProgress, type RestoreProgress } from "../../core/backup/restore-state.js";
import {
  S3BackupReader,
  S3BackupStore,
  snapshotManifestKey,
  snapshotPartKey,
  userBackupKey,
} from "./backup-store.js";
import { S3DeleteError } from "./errors.js";
import { S3_BACKUP_STORE_ACTIONS, S3_RESTORE_STATE_STORE_ACTIONS } from "./permissions.js";
import { restorePlanKey, restoreProgressKey, S3RestoreStateStore } from "./restore-state-store.js";

const BUCKET = "backups";
const client = new S3Client({
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const s3 = mockClient(client);
beforeEach(() => {
  s3.reset();
});

/** A GetObject body as the SDK returns it, for the parts of it the adapter reads. */
function sdkBody(bytes: Uint8Array): GetObjectCommandOutput["Body"] {
  const copy = Uint8Array.from(bytes);
  return Object.assign(Readable.from([copy]), {
    transformToByteArray: async () => copy,
    transformToString: async (encoding = "utf-8") => new TextDecoder(encoding).decode(copy),
    transformToWebStream: () => {
      throw new Error("not used by the adapter");
    },
  }) as unknown as GetObjectCommandOutput["Body"];
}

function noSuchKey(): NoSuchKey {
  return new NoSuchKey({ message: "The specified key does not exist.", $metadata: { httpStatusCode: 404 } });
}

interface StoredObject {
  bytes: Uint8Array;
  /** The size listings report, when a test wants it to differ from the bytes. */
  listedSize?: number;
  /** Listed, but gone by the time it is read. */
  vanished?: boolean;
  etag?: string;
}

/**
 * An unversioned bucket behind the mock: puts store, gets read, listings page `pageSize` keys at a time with
 * an opaque continuation token. `beforeGet` can hold a read, to observe how many are in flight.
 */
function fakeBucket(options: { pageSize?: number; beforeGet?: () => Promise<void> } = {}) {
  const pageSize = options.pageSize ?? 1_000;
  const objects = new Map<string, StoredObject>();
  let writes = 0;
  s3.on(PutObjectCommand).callsFake(async (input: PutObjectCommandInput) => {
    // S3's conditional writes: If-Match an ETag, If-None-Match "*"; a failed condition answers 412.
    const current = objects.get(input.Key as string);
    if (
      (input.IfMatch !== undefined && current?.etag !== input.IfMatch) ||
      (input.IfNoneMatch === "*" && current !== undefined)
    ) {
      throw preconditionFailed();
    }
    writes += 1;
    const etag = `"etag-${writes}"`;
    objects.set(input.Key as string, { bytes: Uint8Array.from(input.Body as Uint8Array), etag });
    return { ETag: etag };
  });
  s3.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
    await options.beforeGet?.();
    const object = objects.get(input.Key as string);
    if (!object || object.vanished) throw noSuchKey();
    return { Body: sdkBody(object.bytes), ETag: object.etag ?? '"planted"' };
  });
  s3.on(ListObjectsV2Command).callsFake(async (input: ListObjectsV2CommandInput) => {
    const after = input.ContinuationToken ? Buffer.from(input.ContinuationToken, "base64").toString() : "";
    const keys = [...objects.keys()]
      .filter((key) => key.startsWith(input.Prefix ?? "") && key > after)
      .sort();
    const page = keys.slice(0, pageSize);
    const truncated = keys.length > pageSize;
    return {
      Contents: page.map((Key) => {
        const object = objects.get(Key) as StoredObject;
        return { Key, Size: object.listedSize ?? object.bytes.length };
      }),
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: Buffer.from(page.at(-1) as string).toString("base64") } : {}),
    };
  });
  return {
    objects,
    plant: (key: string, content: string | Uint8Array, extra: Omit<StoredObject, "bytes"> = {}) =>
      objects.set(key, { bytes: typeof content === "string" ? Buffer.from(content) : content, ...extra }),
  };
}

function preconditionFailed(status = 412): S3ServiceException {
  return new S3ServiceException({
    name: status === 412 ? "PreconditionFailed" : "ConditionalRequestConflict",
    $fault: "client",
    $metadata: { httpStatusCode: status },
    message: "At least one of the pre-conditions you specified did not hold",
  });
}

async function collect(entries: AsyncIterable<BackupEntry>): Promise<BackupEntry[]> {
  const all: BackupEntry[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

function aPart(records = 2): CompletedPart {
  const writer = new SnapshotPartWriter();
  for (let i = 0; i < records; i++) writer.add(aBackupRecord());
  return writer.finish() as CompletedPart;
}

function aManifest(snapshotId: string, parts: readonly CompletedPart[] = []) {
  const at = new Date("2026-04-01T00:00:00.000Z");
  return {
    version: 1 as const,
    snapshotId,
    userPoolId: "eu-west-1_Test",
    startedAt: at,
    completedAt: at,
    userCount: parts.reduce((sum, part) => sum + part.records, 0),
    groups: [],
    parts: parts.map(({ name, records, bytes, sha256 }) => ({ name, records, bytes, sha256 })),
  };
}

function aRestoreProgress(planId: string): RestoreProgress {
  return newRestoreProgress(planId, [1], new Date("2026-06-10T12:00:00.000Z"));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("S3BackupStore: writes", () => {
  /**
   * The inputs of the PutObject calls of one write of each kind: a backup, a part, a manifest (backup store
   * made with `options`), a restore's progress (restore state store made with the same key).
   */
  async function putsOfEachKind(options: { kmsKeyId?: string } = {}): Promise<PutObjectCommandInput[]> {
    fakeBucket();
    const store = new S3BackupStore(client, BUCKET, options);
    const part = aPart();
    await store.putUserBackup(aBackupRecord());
    await store.putSnapshotPart("s-1", part);
    await store.putSnapshotManifest(aManifest("s-1", [part]));
    await new S3RestoreStateStore(client, BUCKET, options).putRestoreProgress(aRestoreProgress("restore-1"));
    const puts = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts).toHaveLength(4);
    return puts;
  }

  it("sends SSE-KMS with the configured key on every put", async () => {
    const puts = await putsOfEachKind({ kmsKeyId: "alias/backups" });
    for (const put of puts) {
      expect(put).toMatchObject({
        Bucket: BUCKET,
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: "alias/backups",
      });
    }
  });

  it("leaves encryption to the bucket's default when no key is configured", async () => {
    for (const put of await putsOfEachKind()) {
      expect(put).not.toHaveProperty("ServerSideEncryption");
      expect(put).not.toHaveProperty("SSEKMSKeyId");
    }
  });

  it("writes a user's backup as JSON at users/<stable id>.json, and nothing for an invalid record", async () => {
    const { objects } = fakeBucket();
    const store = new S3BackupStore(client, BUCKET);
    const record = aBackupRecord();
    await store.putUserBackup(record);
    const key = `users/${stableUserId(record.user)}.json`;
    expect(Buffer.from(objects.get(key)?.bytes ?? []).toString()).toBe(serializeBackupRecord(record));
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.ContentType).toBe("application/json");

    await expect(store.putUserBackup({ ...record, capturedAt: new Date(Number.NaN) })).rejects.toMatchObject({
      code: "BACKUP.MALFORMED",
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it("gzips a part under <name>.gz and gives back the text exactly", async () => {
    const { objects } = fakeBucket();
    const store = new S3BackupStore(client, BUCKET);
    const part = aPart(3);
    await store.putSnapshotPart("s-1", part);
    const key = "snapshots/s-1/part-00001.jsonl.gz";
    expect(gunzipSync(objects.get(key)?.bytes ?? new Uint8Array()).toString("utf8")).toBe(part.text);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Key: key,
      ContentType: "application/gzip",
    });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).not.toHaveProperty("ContentEncoding");
    expect(await store.getSnapshotPart("s-1", part.name)).toBe(part.text);
  });

  it("deletes every other version and delete marker of a replaced snapshot object, and only of that key", async () => {
    const key = snapshotPartKey("s-1", "part-00001.jsonl");
    s3.on(PutObjectCommand).resolves({ VersionId: "v3" });
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: key, VersionId: "v3", IsLatest: true },
        { Key: key, VersionId: "v2" },
        { Key: `${key}.tmp`, VersionId: "other" },
      ],
      DeleteMarkers: [{ Key: key, VersionId: "m1" }],
      IsTruncated: false,
    });
    s3.on(DeleteObjectsCommand).resolves({});
    await new S3BackupStore(client, BUCKET).putSnapshotPart("s-1", aPart());
    expect(s3.commandCalls(ListObjectVersionsCommand)[0]?.args[0].input).toMatchObject({ Prefix: key });
    const deletes = s3.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input.Delete);
    expect(deletes).toEqual([
      {
        Objects: [
          { Key: key, VersionId: "v2" },
          { Key: key, VersionId: "m1" },
        ],
        Quiet: true,
      },
    ]);
  });

  it("lists no versions after a put to an unversioned bucket (no VersionId: nothing older remains)", async () => {
    fakeBucket();
    const store = new S3BackupStore(client, BUCKET);
    await store.putSnapshotPart("s-1", aPart());
    await store.putSnapshotManifest(aManifest("s-1"));
    expect(s3.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});

describe("S3RestoreStateStore", () => {
  it("keeps a restore's progress gzipped at restores/<planId>/progress.json.gz and reads it back", async () => {
    const { objects, plant } = fakeBucket();
    const store = new S3RestoreStateStore(client, BUCKET);
    await store.putRestoreProgress(aRestoreProgress("restore-1"));
    const stored = objects.get(restoreProgressKey("restore-1"));
    expect(restoreProgressKey("restore-1")).toBe("restores/restore-1/progress.json.gz");
    expect(JSON.parse(gunzipSync(stored?.bytes ?? new Uint8Array()).toString())).toMatchObject({
      format: "cognito-user-lifecycle/restore-progress",
      version: 1,
      planId: "restore-1",
    });
    expect(await store.getRestoreProgress("restore-1")).toEqual(aRestoreProgress("restore-1"));
    await expect(store.getRestorePlan("restore-1")).rejects.toMatchObject({ code: "RESTORE.NOT_FOUND" });
    plant(restorePlanKey("restore-2"), "{}");
    await expect(store.getRestorePlan("restore-2")).rejects.toMatchObject({
      code: "RESTORE.STATE_MALFORMED",
    });
  });

  it("writes a progress conditionally with If-None-Match / If-Match on the ETag it read, and lists restores", async () => {
    fakeBucket();
    const store = new S3RestoreStateStore(client, BUCKET);
    const first = await store.putRestoreProgress(aRestoreProgress("restore-1"), { ifAbsent: true });
    expect(s3.commandCalls(PutObjectCommand).at(-1)?.args[0].input.IfNoneMatch).toBe("*");
    const read = await store.getVersionedRestoreProgress("restore-1");
    expect(read.version).toBe(first);
    await store.putRestoreProgress(aRestoreProgress("restore-1"), { ifVersion: read.version });
    expect(s3.commandCalls(PutObjectCommand).at(-1)?.args[0].input.IfMatch).toBe(first);
    await expect(
      store.putRestoreProgress(aRestoreProgress("restore-1"), { ifVersion: read.version }),
    ).rejects.toMatchObject({ code: "RESTORE.CONFLICT", message: expect.stringContaining("restore-1") });
    await expect(
      store.putRestoreProgress(aRestoreProgress("restore-1"), { ifAbsent: true }),
    ).rejects.toMatchObject({ code: "RESTORE.CONFLICT" });
    await store.putRestoreProgress(aRestoreProgress("restore-0"));
    expect(await store.listRestores()).toEqual(["restore-0", "restore-1"]);
  });

  it("takes S3's 409 ConditionalRequestConflict for a lost race too", async () => {
    s3.on(PutObjectCommand).rejects(preconditionFailed(409));
    const store = new S3RestoreStateStore(client, BUCKET);
    await expect(
      store.putRestoreProgress(aRestoreProgress("restore-1"), { ifVersion: '"etag-1"' }),
    ).rejects.toMatchObject({ code: "RESTORE.CONFLICT" });
  });
});

describe("S3BackupStore: reads", () => {
  it("returns undefined for a user without backup and BACKUP.MALFORMED for an unreadable one", async () => {
    const { plant } = fakeBucket();
    const store = new S3BackupStore(client, BUCKET);
    expect(await store.getUserBackup("nobody")).toBeUndefined();
    plant(userBackupKey("broken"), '{"format":');
    await expect(store.getUserBackup("broken")).rejects.toMatchObject({
      name: "ValidationError",
      code: "BACKUP.MALFORMED",
      field: expect.stringContaining("users/broken.json"),
    });
    plant(userBackupKey("latin1"), Uint8Array.from([0x7b, 0xe9, 0x7d]));
    await expect(store.getUserBackup("latin1")).rejects.toMatchObject({
      code: "BACKUP.MALFORMED",
      message: expect.stringContaining("UTF-8"),
    });
  });

  it("follows ListObjectsV2 continuation tokens across pages", async () => {
    const { plant } = fakeBucket({ pageSize: 2 });
    const records = Array.from({ length: 5 }, () => aBackupRecord());
    for (const record of records)
      plant(userBackupKey(stableUserId(record.user)), serializeBackupRecord(record));
    plant("snapshots/s-1/manifest.json", "not a user backup");
    const listed = await collect(new S3BackupStore(client, BUCKET).listUserBackups());
    expect(listed.map((entry) => entry.kind === "record" && entry.record)).toEqual(
      [...records].sort((a, b) => (stableUserId(a.user) < stableUserId(b.user) ? -1 : 1)),
    );
    const listings = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    expect(listings).toHaveLength(3);
    expect(listings.every((input) => input.Prefix === "users/")).toBe(true);
    expect(listings[0]?.ContinuationToken).toBeUndefined();
    expect(listings[1]?.ContinuationToken).toBeDefined();
    expect(listings[2]?.ContinuationToken).toBeDefined();
    expect(listings[2]?.ContinuationToken).not.toBe(listings[1]?.ContinuationToken);
  });

  it("reports unreadable objects as malformed and goes on", async () => {
    const { plant } = fakeBucket({ pageSize: 3 });
    const first = aBackupRecord();
    const last = aBackupRecord();
    plant("users/a.json", serializeBackupRecord(first));
    plant("users/b.json", '{"format":"cognito-user-lifecycle/backup","version":1');
    plant("users/c.json", Uint8Array.from([0xff, 0xfe, 0x00]));
    plant("users/d.json", "{}", { listedSize: 5 * 1024 * 1024 });
    plant("users/e.json", serializeBackupRecord(aBackupRecord()), { vanished: true });
    plant("users/", "");
    plant("users/f.json", serializeBackupRecord(last));
    const listed = await collect(new S3BackupStore(client, BUCKET).listUserBackups());
    expect(listed.map((entry) => (entry.kind === "record" ? entry.record : entry.location))).toEqual([
      first,
      "users/b.json",
      "users/c.json",
      "users/d.json",
      last,
    ]);
    for (const entry of listed) {
      if (entry.kind === "malformed") expect(entry.error).toMatchObject({ code: "BACKUP.MALFORMED" });
    }
    const read = s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key);
    // Too large to be a backup: reported from the listing without reading it; the folder marker is not read.
    expect(read).not.toContain("users/d.json");
    expect(read).not.toContain("users/");
  });

  it("never has more GetObject calls in flight than readConcurrency, and yields in key order", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { plant } = fakeBucket({
      pageSize: 7,
      beforeGet: async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(Math.floor(Math.random() * 4));
        inFlight -= 1;
      },
    });
    const records = Array.from({ length: 40 }, () => aBackupRecord());
    for (const record of records)
      plant(userBackupKey(stableUserId(record.user)), serializeBackupRecord(record));
    const store = new S3BackupStore(client, BUCKET, { readConcurrency: 4 });
    const ids = (await collect(store.listUserBackups())).map(
      (entry) => entry.kind === "record" && entry.userId,
    );
    expect(ids).toEqual(records.map((record) => stableUserId(record.user)).sort());
    expect(maxInFlight).toBe(4);
  });

  it("stops reading when the consumer stops", async () => {
    const { plant } = fakeBucket();
    for (let i = 0; i < 100; i++) plant(userBackupKey(`user-${String(i).padStart(3, "0")}`), "{}");
    const store = new S3BackupStore(client, BUCKET, { readConcurrency: 4 });
    for await (const entry of store.listUserBackups()) {
      expect(entry.kind).toBe("malformed");
      break;
    }
    expect(s3.commandCalls(GetObjectCommand).length).toBeLessThanOrEqual(4);
  });

  it("lists complete snapshots only, oldest first, across pages", async () => {
    const { plant } = fakeBucket({ pageSize: 2 });
    plant(snapshotManifestKey("20260502T000000Z"), "{}");
    plant(snapshotPartKey("20260502T000000Z", "part-00001.jsonl"), "");
    plant(snapshotPartKey("20260503T000000Z", "part-00001.jsonl"), "");
    plant(snapshotManifestKey("20260501T000000Z"), "{}");
    plant("snapshots/20260504T000000Z/nested/manifest.json", "{}");
    plant(userBackupKey("someone"), "{}");
    expect(await new S3BackupStore(client, BUCKET).listSnapshots()).toEqual([
      "20260501T000000Z",
      "20260502T000000Z",
    ]);
    expect(s3.commandCalls(ListObjectsV2Command).length).toBeGreaterThan(1);
  });

  it("reads a manifest back, and refuses a missing one, one under another id, and a part that is not gzip", async () => {
    const { plant } = fakeBucket();
    const store = new S3BackupStore(client, BUCKET);
    const manifest = aManifest("s-1", [aPart()]);
    await store.putSnapshotManifest(manifest);
    expect(await store.getSnapshotManifest("s-1")).toEqual(manifest);
    await expect(store.getSnapshotManifest("s-2")).rejects.toMatchObject({ code: "SNAPSHOT.MALFORMED" });
    plant(snapshotManifestKey("s-3"), serializeManifest(manifest));
    await expect(store.getSnapshotManifest("s-3")).rejects.toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: "snapshots/s-3/manifest.json: snapshotId",
    });
    plant(snapshotPartKey("s-1", "part-00001.jsonl"), "plain text, not gzip\n");
    await expect(store.getSnapshotPart("s-1", "part-00001.jsonl")).rejects.toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: "snapshots/s-1/part-00001.jsonl.gz",
    });
    await expect(store.getSnapshotPart("s-1", "part-00002.jsonl")).rejects.toMatchObject({
      code: "SNAPSHOT.MALFORMED",
    });
  });

  it("fails instead of looping when a truncated page carries no token, or the same token again", async () => {
    const store = new S3BackupStore(client, BUCKET);
    s3.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: true });
    await expect(store.listSnapshots()).rejects.toThrow(/without a token/);
    s3.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: true, NextContinuationToken: "t1" });
    await expect(store.listSnapshots()).rejects.toThrow(/same page token twice/);
    s3.on(ListObjectVersionsCommand).resolves({
      IsTruncated: true,
      NextKeyMarker: "k",
      NextVersionIdMarker: "v",
    });
    await expect(store.eraseUserBackups("abc")).rejects.toThrow(/same page token twice/);
  });
});

describe("S3BackupReader", () => {
  it("reads what the store wrote, at the same keys", async () => {
    fakeBucket();
    const store = new S3BackupStore(client, BUCKET);
    const record = aBackupRecord();
    const part = aPart();
    const manifest = aManifest("s-1", [part]);
    await store.putUserBackup(record);
    await store.putSnapshotPart("s-1", part);
    await store.putSnapshotManifest(manifest);
    const reader = new S3BackupReader(client, BUCKET, { readConcurrency: 2 });
    expect(await reader.getUserBackup(stableUserId(record.user))).toEqual(record);
    expect(await collect(reader.listUserBackups())).toEqual([
      { kind: "record", userId: stableUserId(record.user), record },
    ]);
    expect(await reader.listSnapshots()).toEqual(["s-1"]);
    expect(await reader.getSnapshotManifest("s-1")).toEqual(manifest);
    expect(await reader.getSnapshotPart("s-1", part.name)).toBe(part.text);
  });

  it("has none of the store's writes, and refuses a bad readConcurrency as the store does", () => {
    const reader = new S3BackupReader(client, BUCKET);
    for (const write of ["putUserBackup", "eraseUserBackups", "putSnapshotPart", "putSnapshotManifest"]) {
      expect(write in reader).toBe(false);
    }
    expect(() => new S3BackupReader(client, BUCKET, { readConcurrency: 0 })).toThrow(
      expect.objectContaining({ code: "CONFIG.INVALID", field: "readConcurrency" }),
    );
  });
});

describe("S3BackupStore: erase", () => {
  it("follows ListObjectVersions markers and deletes every version of the exact key only", async () => {
    const key = userBackupKey("abc");
    s3.on(ListObjectVersionsCommand).callsFake(async (input: ListObjectVersionsCommandInput) =>
      input.KeyMarker === undefined
        ? {
            Versions: [
              { Key: key, VersionId: "v3" },
              { Key: key, VersionId: "v2" },
            ],
            IsTruncated: true,
            NextKeyMarker: key,
            NextVersionIdMarker: "v2",
          }
        : {
            Versions: [
              { Key: key, VersionId: "v1" },
              { Key: `${key}.bak`, VersionId: "x1" },
            ],
            DeleteMarkers: [{ Key: key, VersionId: "m1" }],
            IsTruncated: false,
          },
    );
    s3.on(DeleteObjectsCommand).resolves({});
    expect(await new S3BackupStore(client, BUCKET).eraseUserBackups("abc")).toBe(3);
    const listings = s3.commandCalls(ListObjectVersionsCommand).map((call) => call.args[0].input);
    expect(listings).toEqual([
      { Bucket: BUCKET, Prefix: key },
      { Bucket: BUCKET, Prefix: key, KeyMarker: key, VersionIdMarker: "v2" },
    ]);
    const deleted = s3
      .commandCalls(DeleteObjectsCommand)
      .flatMap((call) => call.args[0].input.Delete?.Objects ?? []);
    expect(deleted).toEqual(["v3", "v2", "v1", "m1"].map((VersionId) => ({ Key: key, VersionId })));
  });

  it("deletes in batches of at most 1,000 versions and counts versions, not delete markers", async () => {
    const key = userBackupKey("many");
    const all = Array.from({ length: 2_500 }, (_, i) => ({
      Key: key,
      VersionId: `v${i}`,
      marker: i % 10 === 0,
    }));
    s3.on(ListObjectVersionsCommand).callsFake(async (input: ListObjectVersionsCommandInput) => {
      const start = input.VersionIdMarker === undefined ? 0 : Number(input.VersionIdMarker.slice(1)) + 1;
      const page = all.slice(start, start + 1_000);
      const truncated = start + 1_000 < all.length;
      return {
        Versions: page.filter((v) => !v.marker).map(({ Key, VersionId }) => ({ Key, VersionId })),
        DeleteMarkers: page.filter((v) => v.marker).map(({ Key, VersionId }) => ({ Key, VersionId })),
        IsTruncated: truncated,
        ...(truncated ? { NextKeyMarker: key, NextVersionIdMarker: page.at(-1)?.VersionId } : {}),
      };
    });
    s3.on(DeleteObjectsCommand).resolves({});
    expect(await new S3BackupStore(client, BUCKET).eraseUserBackups("many")).toBe(2_250);
    const batches = s3
      .commandCalls(DeleteObjectsCommand)
      .map((call) => call.args[0].input.Delete?.Objects ?? []);
    expect(batches.map((batch) => batch.length)).toEqual([1_000, 1_000, 500]);
    const ids = batches.flat().map((object) => object.VersionId);
    expect(new Set(ids).size).toBe(2_500);
    expect(batches.flat().every((object) => object.Key === key)).toBe(true);
  });

  it("returns 0 and deletes nothing when the user has no backup", async () => {
    s3.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
    expect(await new S3BackupStore(client, BUCKET).eraseUserBackups("gone")).toBe(0);
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });

  it("fails when DeleteObjects reports a key it could not delete, without naming the user", async () => {
    const key = userBackupKey("user-42");
    s3.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: key, VersionId: "v1" },
        { Key: key, VersionId: "v2" },
      ],
      IsTruncated: false,
    });
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: key, VersionId: "v2", Code: "AccessDenied", Message: "Access Denied" }],
    });
    const error = await new S3BackupStore(client, BUCKET)
      .eraseUserBackups("user-42")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3DeleteError);
    expect(error).toMatchObject({
      code: "BACKUP.ERASE_FAILED",
      failures: [{ code: "AccessDenied", versionId: "v2" }],
    });
    expect((error as Error).message).toMatch(/AccessDenied/);
    expect((error as Error).message).not.toContain("user-42");
  });
});

describe("S3BackupStore: failures", () => {
  const networkFailures: [string, Error, string][] = [
    [
      "a refused connection",
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" }),
      "ECONNREFUSED",
    ],
    [
      "an unknown host",
      Object.assign(new Error("getaddrinfo ENOTFOUND s3.example"), { code: "ENOTFOUND" }),
      "ENOTFOUND",
    ],
    ["a connection timeout", Object.assign(new Error("timed out"), { name: "TimeoutError" }), "TimeoutError"],
    [
      "every address refusing",
      Object.assign(new AggregateError([Object.assign(new Error("refused"), { code: "ECONNREFUSED" })]), {}),
      "ECONNREFUSED",
    ],
  ];

  it.each(networkFailures)(
    "maps %s to one SERVICE.UNREACHABLE naming no user",
    async (_, failure, reason) => {
      s3.on(GetObjectCommand).rejects(failure);
      const error = await new S3BackupStore(client, BUCKET).getUserBackup("user-42").catch((e: unknown) => e);
      expect(error).toMatchObject({
        name: "LifecycleError",
        code: "SERVICE.UNREACHABLE",
        details: { service: "Amazon S3", operation: "GetObject", reason },
        cause: failure,
      });
      expect((error as Error).message).not.toContain("user-42");
    },
  );

  it("fails a listing with SERVICE.UNREACHABLE rather than reporting objects as malformed", async () => {
    const { plant } = fakeBucket();
    plant(userBackupKey("a"), serializeBackupRecord(aBackupRecord()));
    s3.on(GetObjectCommand).rejects(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    await expect(collect(new S3BackupStore(client, BUCKET).listUserBackups())).rejects.toMatchObject({
      code: "SERVICE.UNREACHABLE",
    });
  });

  it("passes S3's own errors through: S3 was reached", async () => {
    const denied = new S3ServiceException({
      name: "AccessDenied",
      $fault: "client",
      $metadata: { httpStatusCode: 403 },
      message: "Access Denied",
    });
    s3.on(ListObjectsV2Command).rejects(denied);
    await expect(new S3BackupStore(client, BUCKET).listSnapshots()).rejects.toBe(denied);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses readConcurrency %s", (readConcurrency) => {
    expect(() => new S3BackupStore(client, BUCKET, { readConcurrency })).toThrow(
      expect.objectContaining({ code: "CONFIG.INVALID", field: "readConcurrency" }),
    );
  });
});

describe("S3BackupStore: round trips (properties)", () => {
  it("gives back any part text byte for byte, stored gzipped", async () => {
    const { objects } = fakeBucket();
    const store = new S3BackupStore(client, BUCKET);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" })),
        async (text) => {
          const part = { ...aPartEntry(), text };
          await store.putSnapshotPart("s-1", part);
          const stored = objects.get(snapshotPartKey("s-1", part.name))?.bytes ?? new Uint8Array();
          expect(Buffer.compare(gunzipSync(stored), Buffer.from(text, "utf8"))).toBe(0);
          const read = await store.getSnapshotPart("s-1", part.name);
          expect(Buffer.compare(Buffer.from(read, "utf8"), Buffer.from(text, "utf8"))).toBe(0);
          expect(read).toBe(text);
        },
      ),
      // A leading byte order mark must survive too: decoders drop it unless told not to.
      { numRuns: 200, examples: [["\uFEFF{}\n"], [""]] },
    );
  });

  it("gives back any backup record and any manifest as written", async () => {
    fakeBucket();
    const store = new S3BackupStore(client, BUCKET);
    await fc.assert(
      fc.asyncProperty(arbBackupRecord(), arbSnapshotManifest(), async (record, manifest) => {
        await store.putUserBackup(record);
        expect(await store.getUserBackup(stableUserId(record.user))).toEqual(record);
        await store.putSnapshotManifest(manifest);
        expect(await store.getSnapshotManifest(manifest.snapshotId)).toEqual(manifest);
      }),
      { numRuns: 100 },
    );
  });
});

describe("S3_BACKUP_STORE_ACTIONS", () => {
  it("names actions for every port method, reads with ListBucket (a missing key gives 404, not 403)", () => {
    for (const use of [
      S3_BACKUP_STORE_ACTIONS.getUserBackup,
      S3_BACKUP_STORE_ACTIONS.getSnapshotManifest,
      S3_BACKUP_STORE_ACTIONS.getSnapshotPart,
      S3_RESTORE_STATE_STORE_ACTIONS.getRestorePlan,
      S3_RESTORE_STATE_STORE_ACTIONS.getRestoreProgress,
    ]) {
      expect(use.s3).toEqual(expect.arrayContaining(["s3:GetObject", "s3:ListBucket"]));
      expect(use.kms).toEqual(["kms:Decrypt"]);
    }
    expect(S3_BACKUP_STORE_ACTIONS.eraseUserBackups.s3).toEqual(
      expect.arrayContaining(["s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"]),
    );
    expect(Object.values(S3_BACKUP_STORE_ACTIONS).flatMap((use) => [...use.s3, ...use.kms])).not.toContain(
      "s3:*",
    );
  });
});

function aPartEntry() {
  return { name: "part-00001.jsonl", records: 0, bytes: 0, sha256: "0".repeat(64) };
}
