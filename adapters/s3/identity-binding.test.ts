import { Readable } from "node:stream";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { serializeBackupRecord } from "../../core/backup/backup-record.js";
import { aBackupRecord } from "../../core/testing/backup.js";
import { aUser } from "../../core/testing/builders.js";
import { S3BackupStore, userBackupKey } from "./backup-store.js";

const client = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
const s3 = mockClient(client);
beforeEach(() => s3.reset());

function body(text: string): GetObjectCommandOutput["Body"] {
  const bytes = new TextEncoder().encode(text);
  return Object.assign(Readable.from([bytes]), {
    transformToByteArray: async () => bytes,
  }) as unknown as GetObjectCommandOutput["Body"];
}

const preconditionFailed = () =>
  new S3ServiceException({
    name: "PreconditionFailed",
    $fault: "client",
    $metadata: { httpStatusCode: 412 },
    message: "At least one of the pre-conditions you specified did not hold",
  });

describe("S3BackupStore.putUserBackup: identity binding by conditional writes (S3 semantics s3rver lacks)", () => {
  it("creates with If-None-Match: *, and replaces with If-Match on the ETag it compared", async () => {
    const user = aUser();
    s3.on(GetObjectCommand)
      .rejectsOnce(new NoSuchKey({ message: "no", $metadata: { httpStatusCode: 404 } }))
      .resolves({ Body: body(serializeBackupRecord(aBackupRecord({ user }))), ETag: '"abc"' });
    s3.on(PutObjectCommand).resolves({});
    const store = new S3BackupStore(client, "b");
    await store.putUserBackup(aBackupRecord({ user }));
    await store.putUserBackup(aBackupRecord({ user }));
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input as PutObjectCommandInput);
    expect(puts[0]).toMatchObject({ Key: userBackupKey(user.sub), IfNoneMatch: "*" });
    expect(puts[1]).toMatchObject({ Key: userBackupKey(user.sub), IfMatch: '"abc"' });
  });

  it("when another writer lands in between (412), compares again and reports the conflict", async () => {
    const victim = aUser();
    const claimer = aUser({ attributes: { "custom:legacy_sub": victim.sub } });
    s3.on(GetObjectCommand)
      .rejectsOnce(new NoSuchKey({ message: "no", $metadata: { httpStatusCode: 404 } }))
      .resolves({ Body: body(serializeBackupRecord(aBackupRecord({ user: victim }))), ETag: '"v"' });
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    const outcome = await new S3BackupStore(client, "b").putUserBackup(aBackupRecord({ user: claimer }));
    expect(outcome).toBe("identity-conflict");
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});
