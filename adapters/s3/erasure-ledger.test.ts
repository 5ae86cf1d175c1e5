import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { noSuchKey, preconditionFailed, textBody } from "./testing.js";
import { beforeEach, describe, expect, it } from "vitest";
import { serializeTombstone } from "../../core/erasure/tombstone.js";
import { S3ErasureLedger, tombstoneKey } from "./erasure-ledger.js";

const client = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
const s3 = mockClient(client);
beforeEach(() => s3.reset());

const ID = "6f1c2a9e-0000-4000-8000-00000000a11c";
const FIRST = { userId: ID, erasedAt: new Date("2026-06-01T00:00:00.000Z") };

describe("S3ErasureLedger (S3 semantics the local stand-in lacks)", () => {
  it("writes a tombstone only if none exists (If-None-Match: *), encrypted with the key", async () => {
    s3.on(GetObjectCommand).rejects(noSuchKey());
    s3.on(PutObjectCommand).resolves({});
    const ledger = new S3ErasureLedger(client, "b", { kmsKeyId: "alias/k" });
    await ledger.record(FIRST);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input as PutObjectCommandInput;
    expect(put).toMatchObject({
      Key: `erasures/${ID}.json`,
      IfNoneMatch: "*",
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: "alias/k",
    });
    expect(String(put.Body)).not.toMatch(/@/);
  });

  it("keeps the tombstone another erasure wrote in between (412 PreconditionFailed)", async () => {
    s3.on(GetObjectCommand)
      .rejectsOnce(noSuchKey())
      .resolves({ Body: textBody(serializeTombstone(FIRST)) });
    s3.on(PutObjectCommand).rejects(preconditionFailed());
    const ledger = new S3ErasureLedger(client, "b");
    const kept = await ledger.record({ userId: ID, erasedAt: new Date("2026-07-01T00:00:00.000Z") });
    expect(kept).toEqual(FIRST);
  });

  it("never turns a hostile id into a key", async () => {
    expect(() => tombstoneKey("../../x")).toThrow(expect.objectContaining({ code: "USER.INVALID_ID" }));
    expect(await new S3ErasureLedger(client, "b").isErased("../../x")).toBe(false);
    expect(s3.calls()).toHaveLength(0);
  });
});
