/**
 * Hidden-data check on the real S3 adapters (against s3rver): after an erase, no object in the bucket —
 * gunzipped where it is gzip — holds the person's email, whatever held it before (per-user backup, complete
 * snapshots, a snapshot that stopped half-way).
 */
import { gunzipSync } from "node:zlib";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, expect, inject, it } from "vitest";
import { ManualClock } from "../in-memory/clock.js";
import { InMemoryProfileStore } from "../in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../in-memory/user-directory.js";
import { SnapshotPartWriter } from "../../core/backup/snapshot.js";
import { aBackupRecord } from "../../core/testing/backup.js";
import { aUser } from "../../core/testing/builders.js";
import { eraseUser } from "../../core/use-cases/erase-user.js";
import { reconcile } from "../../core/use-cases/reconcile.js";
import { snapshotUsers } from "../../core/use-cases/snapshot-users.js";
import { S3RVER_CREDENTIALS } from "../../local/services/s3rver.js";
import { S3BackupStore } from "./backup-store.js";
import { S3ErasureLedger } from "./erasure-ledger.js";
import { S3RestoreStateStore } from "./restore-state-store.js";

const client = new S3Client({
  region: "us-east-1",
  credentials: S3RVER_CREDENTIALS,
  forcePathStyle: true,
  endpoint: inject("s3Endpoint"),
});
afterAll(() => client.destroy());

/** Every object's content, unzipped when it is gzip. */
async function everyObjectText(bucket: string): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const { Key } of Contents) {
    if (!Key) continue;
    const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
    const bytes = Buffer.from((await Body?.transformToByteArray()) ?? []);
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    texts.set(Key, (gzip ? gunzipSync(bytes) : bytes).toString("utf8"));
  }
  return texts;
}

// Two snapshots, a reconcile and an erase against s3rver: a couple of seconds alone, more on a loaded machine.
it(
  "after an erase, no object in the bucket (unzipped) holds the person's email",
  { timeout: 30_000 },
  async () => {
    const bucket = `erasure-${process.pid}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    try {
      const clock = new ManualClock("2026-06-01T00:00:00.000Z");
      const directory = new InMemoryUserDirectory({ clock });
      const profiles = new InMemoryProfileStore();
      const backups = new S3BackupStore(client, bucket, { versionListing: false });
      const erasures = new S3ErasureLedger(client, bucket);
      const deps = {
        clock,
        directory,
        profiles,
        backups,
        erasures,
        restores: new S3RestoreStateStore(client, bucket),
      };
      const person = aUser({ groups: ["staff"] });
      const others = [aUser(), aUser()];
      directory.seed(person, ...others);
      await reconcile(deps, { userPoolId: "p" });
      await snapshotUsers(deps, { userPoolId: "p", maxRecordsPerPart: 2 });
      clock.advance(60_000);
      await snapshotUsers(deps, { userPoolId: "p" });
      // A snapshot that stopped before its manifest.
      const writer = new SnapshotPartWriter();
      writer.add(aBackupRecord({ user: person }));
      await backups.putSnapshotPart("2026-05-01T00-00-00-000Z", writer.finish() ?? assertNever());

      const email = person.attributes.email as string;
      const before = [...(await everyObjectText(bucket)).values()].filter((text) => text.includes(email));
      expect(before.length).toBeGreaterThanOrEqual(4);

      const report = await eraseUser(deps, { username: person.username });
      expect(report).toMatchObject({ complete: true, deletedFromPool: true, profileDeleted: true });

      const after = await everyObjectText(bucket);
      for (const [key, text] of after)
        expect({ key, holds: text.includes(email) }).toEqual({ key, holds: false });
      // The others are all still there, and the tombstone holds the id and the time only.
      for (const other of others) {
        expect([...after.values()].some((text) => text.includes(other.attributes.email as string))).toBe(
          true,
        );
      }
      expect(JSON.parse(after.get(`erasures/${person.sub}.json`) ?? "{}")).toEqual({
        format: "cognito-user-lifecycle/erasure",
        version: 1,
        userId: person.sub,
        erasedAt: "2026-06-01T00:01:00.000Z",
      });
    } finally {
      const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      if (Contents.length > 0) {
        await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: Contents.map(({ Key }) => ({ Key })) },
          }),
        );
      }
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
  },
);

function assertNever(): never {
  throw new Error("the writer closed no part");
}
