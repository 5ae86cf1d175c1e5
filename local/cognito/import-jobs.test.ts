import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { A_POOL_CSV_HEADER } from "../../core/testing/csv.js";
import type { Context, UserPool } from "./cognito-local.js";
import { IMPORT_UPLOAD_PATH, ImportJobs, readImportFile } from "./import-jobs.js";

const ROLE = "arn:aws:iam::000000000000:role/import-logs";
const quiet = () => undefined;
const ctx = { logger: { debug: quiet, info: quiet, warn: quiet, error: quiet } } as unknown as Context;

/** PUTs `csv` to a job's pre-signed URL through the jobs' own upload handler. */
function upload(jobs: ImportJobs, preSignedUrl: string, csv: string): Promise<number> {
  const url = new URL(preSignedUrl);
  const request = Object.assign(Readable.from([Buffer.from(csv)]), {
    url: `${url.pathname}${url.search}`,
    method: "PUT",
    headers: { "x-amz-server-side-encryption": "aws:kms" },
  }) as unknown as IncomingMessage;
  return new Promise((resolve) => {
    let status = 0;
    const response = {
      writeHead: (code: number) => {
        status = code;
      },
      end: () => resolve(status),
    } as unknown as ServerResponse;
    jobs.handleUpload(request, response);
  });
}

describe("local import jobs", () => {
  it("fail the job, never the process, when writing a user fails midway", async () => {
    const pool = {
      options: { AutoVerifiedAttributes: ["email"], SchemaAttributes: [] },
      getUserByUsername: async () => null,
      saveUser: async () => {
        throw new Error("the pool's file is gone");
      },
    } as unknown as UserPool;
    const jobs = new ImportJobs(
      () => "http://127.0.0.1:9",
      async () => pool,
      ctx,
      { pendingMs: 0, stepMs: 0 },
    );
    const job = jobs.create("local_pool", { JobName: "j", CloudWatchLogsRoleArn: ROLE });
    expect(String(job.PreSignedUrl)).toContain(IMPORT_UPLOAD_PATH);
    const header = A_POOL_CSV_HEADER.filter((column) => !column.startsWith("custom:"));
    const row = header
      .map(
        (column) =>
          ({
            "cognito:username": "ann",
            "cognito:mfa_enabled": "false",
            email: "ann@example.com",
            email_verified: "true",
          })[column] ?? "",
      )
      .join(",");
    expect(await upload(jobs, String(job.PreSignedUrl), `${header.join(",")}\n${row}\n`)).toBe(200);
    jobs.start("local_pool", job.JobId);
    let status = "";
    for (let look = 0; look < 200 && !["Failed", "Succeeded"].includes(status); look++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      status = String(jobs.describe("local_pool", job.JobId).Status);
    }
    expect(jobs.describe("local_pool", job.JobId)).toMatchObject({
      Status: "Failed",
      CompletionMessage: "The import stopped: the pool's file is gone",
    });
    jobs.close();
  });

  it("refuse a file with a byte order mark, one that is not UTF-8, or none at all", () => {
    const header = ["cognito:username"];
    expect(() => readImportFile(Buffer.from("\uFEFFcognito:username\n"), header)).toThrow(/byte order mark/);
    expect(() => readImportFile(Buffer.from([0x63, 0xff, 0x0a]), header)).toThrow(/not UTF-8/);
    expect(() => readImportFile(undefined, header)).toThrow(/No file/);
    expect(readImportFile(Buffer.from("cognito:username\r\nann\r\n"), header)).toEqual([
      { line: 2, values: { "cognito:username": "ann" } },
    ]);
  });
});
