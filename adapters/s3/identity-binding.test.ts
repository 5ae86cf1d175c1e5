import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { noSuchKey, preconditionFailed, textBody } from "./testing.js";
import { beforeEach, describe, expect, it } from "vitest";
import { serializeBackupRecord } from "../../core/backup/backup-record.js";
import { aBackupRecord } from "../../core/testing/backup.js";
import { aUser } from "../../core/testing/builders.js";
import { S3BackupStore, userBackupKey } from "./backup-store.js";

const client = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
const s3 = mockClient(client);
beforeEach(() => s3.reset());

describe("S3BackupStore.putUserBackup: identity binding by conditional writes (S3 semantics s3rver lacks)", () => {
  it("creates with If-None-Match: *, and replaces with If-Match on the ETag it compared", async () => {
    const user = aUser();
    s3.on(GetObjectCommand)
      .rejectsOnce(noSuchKey())
      .resolves({ Body: textBody(serializeBackupRecord(aBackupRecord({ user }))), ETag: '"abc"' });
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
      .rejectsOnce(noSuchKey())
      .resolves({ Body: textBody(serializeBackupRecord(aBackupRecord({ user: victim }))), ETag: '"v"' });
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    const outcome = await new S3BackupStore(client, "b").putUserBackup(aBackupRecord({ user: claimer }));
    expect(outcome).toBe("identity-conflict");
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});
