import { gunzipSync } from "node:zlib";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, describe, expect, inject, it } from "vitest";
import { SnapshotPartWriter } from "../../core/backup/snapshot.js";
import { describeBackupStoreContract } from "../../core/ports/backup-store.contract.js";
import { describeErasureLedgerContract } from "../../core/ports/erasure-ledger.contract.js";
import { describeRestoreStateStoreContract } from "../../core/ports/restore-state-store.contract.js";
import { aBackupRecord } from "../../core/testing/backup.js";
import { stableUserId } from "../../core/user/user.js";
import { freePort } from "../../local/services/process.js";
import { S3RVER_CREDENTIALS } from "../../local/services/s3rver.js";
import { S3BackupStore, snapshotPartKey, userBackupKey } from "./backup-store.js";
import { S3ErasureLedger } from "./erasure-ledger.js";
import { restoreProgressKey, S3RestoreStateStore } from "./restore-state-store.js";

const clientOptions = {
  region: "us-east-1",
  credentials: S3RVER_CREDENTIALS,
  forcePathStyle: true,
} as const;
const client = new S3Client({ ...clientOptions, endpoint: inject("s3Endpoint") });
afterAll(() => client.destroy());

let buckets = 0;
/** A fresh, empty bucket (s3rver has no versioning, so none is switched on). */
async function aBucket(): Promise<string> {
  buckets += 1;
  const name = `backups-${process.pid}-${buckets}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Empties the bucket page by page (a bucket must be empty to be deleted), then deletes it. */
async function dropBucket(bucket: string): Promise<void> {
  for (;;) {
    const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (Contents.length === 0) break;
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: Contents.map(({ Key }) => ({ Key })) },
      }),
    );
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

async function aStore(): Promise<{ store: S3BackupStore; bucket: string; close(): Promise<void> }> {
  const bucket = await aBucket();
  return { store: new S3BackupStore(client, bucket), bucket, close: () => dropBucket(bucket) };
}

describeBackupStoreContract(
  "S3 (s3rver)",
  async () => {
    const { bucket, close } = await aStore();
    // As the local stack builds it: s3rver lists no object versions, so deletions go object by object.
    const store = new S3BackupStore(client, bucket, { versionListing: false });
    return {
      store,
      close,
      plantMalformed: async (userId, text) => {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: userBackupKey(userId), Body: text }));
      },
    };
  },
  { versionListing: false, versionListingGap: "s3rver implements no ListObjectVersions" },
);

describeRestoreStateStoreContract(
  "S3 (s3rver)",
  async () => {
    const bucket = await aBucket();
    return {
      store: new S3RestoreStateStore(client, bucket),
      close: () => dropBucket(bucket),
      plantMalformedRestoreProgress: async (planId) => {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: restoreProgressKey(planId), Body: "not gzip" }),
        );
      },
    };
  },
  {
    conditionalWrites: false,
    conditionalWritesGap:
      "s3rver ignores If-Match and If-None-Match on PutObject; see restore-state-store.test.ts",
  },
);

describeErasureLedgerContract(
  "S3 (s3rver)",
  async () => {
    const bucket = await aBucket();
    // Pages of 7 keys: the listing case spans several pages.
    return {
      ledger: new S3ErasureLedger(client, bucket, { listPageSize: 7 }),
      close: () => dropBucket(bucket),
    };
  },
  { many: 20 },
);

describe("S3BackupStore on s3rver", () => {
  it("stores a part as a gzip file under its name plus .gz", async () => {
    const { store, bucket, close } = await aStore();
    try {
      const writer = new SnapshotPartWriter();
      writer.add(aBackupRecord());
      const part = writer.finish();
      if (!part) throw new Error("the writer closed no part");
      await store.putSnapshotPart("s-1", part);
      const stored = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: snapshotPartKey("s-1", part.name) }),
      );
      expect(stored.ContentType).toBe("application/gzip");
      expect(stored.ContentEncoding).toBeUndefined();
      const bytes = await stored.Body?.transformToByteArray();
      expect(gunzipSync(bytes ?? new Uint8Array()).toString("utf8")).toBe(part.text);
    } finally {
      await close();
    }
  });

  it("lists backups across several ListObjectsV2 pages", async () => {
    const { store, close } = await aStore();
    try {
      // S3 pages hold at most 1,000 keys: 1,001 backups need a second page and its continuation token.
      const records = Array.from({ length: 1_001 }, () => aBackupRecord());
      for (let start = 0; start < records.length; start += 50) {
        await Promise.all(records.slice(start, start + 50).map((record) => store.putUserBackup(record)));
      }
      const ids: string[] = [];
      for await (const entry of store.listUserBackups()) {
        if (entry.kind === "record") ids.push(entry.userId);
      }
      expect(ids).toHaveLength(records.length);
      expect(new Set(ids)).toEqual(new Set(records.map((record) => stableUserId(record.user))));
    } finally {
      await close();
    }
  }, 60_000);

  it("fails an erase loudly where versions cannot be listed, instead of leaving them behind", async () => {
    const { store, close } = await aStore();
    try {
      const record = aBackupRecord();
      await store.putUserBackup(record);
      await expect(store.eraseUserBackups(stableUserId(record.user))).rejects.toMatchObject({
        name: "MethodNotAllowed",
      });
    } finally {
      await close();
    }
  });

  it("erases the one object a store without versioning keeps, when told it lists no versions", async () => {
    const { store: versioned, bucket, close } = await aStore();
    const store = new S3BackupStore(client, bucket, { versionListing: false });
    try {
      const record = aBackupRecord();
      const id = stableUserId(record.user);
      await versioned.putUserBackup(record);
      await versioned.putUserBackup({ ...record, capturedAt: new Date("2026-02-02T00:00:00.000Z") });
      expect(await store.eraseUserBackups(id)).toBe(1);
      expect(await store.getUserBackup(id)).toBeUndefined();
      expect(await store.eraseUserBackups(id)).toBe(0);
    } finally {
      await close();
    }
  });

  it("reports an endpoint nothing listens on as SERVICE.UNREACHABLE, naming no user", async () => {
    const closed = new S3Client({
      ...clientOptions,
      endpoint: `http://127.0.0.1:${await freePort()}`,
      maxAttempts: 1,
    });
    try {
      const store = new S3BackupStore(closed, "backups");
      const error = await store.getUserBackup("user-123").catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({
        code: "SERVICE.UNREACHABLE",
        details: { service: "Amazon S3", operation: "GetObject", reason: "ECONNREFUSED" },
      });
      expect(String((error as Error).message)).not.toContain("user-123");
    } finally {
      closed.destroy();
    }
  });
});
