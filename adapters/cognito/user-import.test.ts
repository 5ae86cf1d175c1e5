import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CognitoIdentityProviderClient,
  CreateUserImportJobCommand,
  DescribeUserImportJobCommand,
  GetCSVHeaderCommand,
  PreconditionNotMetException,
  ResourceNotFoundException,
  StartUserImportJobCommand,
  type UserImportJobType,
} from "@aws-sdk/client-cognito-identity-provider";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TERMINAL_IMPORT_JOB_STATUSES } from "../../core/ports/user-import.js";
import { A_POOL_CSV_HEADER } from "../../core/testing/csv.js";
import { ManualClock } from "../in-memory/clock.js";
import { CognitoCalls } from "./cognito-calls.js";
import { CognitoUserImport, IMPORT_UPLOAD_HEADERS } from "./user-import.js";

const POOL = "us-east-1_TestPool1";
const ROLE = "arn:aws:iam::123456789012:role/cognito-import-logs";
const SIGNATURE = "X-Amz-Signature=0123456789abcdef-secret";
const meta = { $metadata: {} };
const cognito = mockClient(CognitoIdentityProviderClient);

interface Received {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Stands in for the pre-signed S3 URL: records each request and answers with the status it is told. */
let server: Server;
let baseUrl: string;
let received: Received[] = [];
let reply: { status: number; body: string } = { status: 200, body: "" };

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      response.writeHead(reply.status, { "content-type": "application/xml" }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))));
beforeEach(() => {
  cognito.reset();
  received = [];
  reply = { status: 200, body: "" };
});
afterEach(() => {
  cognito.reset();
});

function anImporter(options: { fetch?: typeof fetch } = {}) {
  const clock = new ManualClock();
  return new CognitoUserImport(new CognitoIdentityProviderClient({ region: "us-east-1" }), POOL, {
    cloudWatchLogsRoleArn: ROLE,
    calls: new CognitoCalls({ clock, sleeper: clock, random: () => 0 }),
    ...options,
  });
}

function aJob(fields: Partial<UserImportJobType> = {}): UserImportJobType {
  return {
    JobId: "import-abc123",
    JobName: "restore-1",
    UserPoolId: POOL,
    Status: "Created",
    PreSignedUrl: `${baseUrl}/aws-cognito-idp-user-import/${POOL}/import-abc123?X-Amz-Algorithm=AWS4-HMAC-SHA256&${SIGNATURE}`,
    CloudWatchLogsRoleArn: ROLE,
    ...fields,
  };
}

const CSV = `${A_POOL_CSV_HEADER.join(",")}\nZoë\\, the first,,,,,,,,,zoe@example.com,true,,,,,,,,,11111111-2222-4333-8444-555555555555,false,zoe\n`;

describe("CognitoUserImport", () => {
  it("runs a job: header, create with the logs role, PUT of the CSV, start, and describe to the end", async () => {
    cognito.on(GetCSVHeaderCommand, { UserPoolId: POOL }).resolves({ CSVHeader: [...A_POOL_CSV_HEADER] });
    cognito.on(CreateUserImportJobCommand).resolves({ UserImportJob: aJob() });
    cognito
      .on(DescribeUserImportJobCommand)
      .resolvesOnce({ UserImportJob: aJob() })
      .resolvesOnce({ UserImportJob: aJob({ Status: "InProgress", ImportedUsers: 1 }) })
      .resolvesOnce({
        UserImportJob: aJob({
          Status: "Succeeded",
          ImportedUsers: 2,
          SkippedUsers: 1,
          FailedUsers: 0,
          CompletionMessage: "Import Job Completed Successfully.",
        }),
      });
    cognito.on(StartUserImportJobCommand).resolves({ UserImportJob: aJob({ Status: "Pending" }) });
    const importer = anImporter();

    expect(await importer.getCsvHeader()).toEqual(A_POOL_CSV_HEADER);
    const created = await importer.createImportJob("restore-1");
    expect(created).toEqual({
      jobId: "import-abc123",
      jobName: "restore-1",
      status: "Created",
      imported: 0,
      skipped: 0,
      failed: 0,
    });
    expect(cognito.commandCalls(CreateUserImportJobCommand)[0]?.args[0].input).toEqual({
      UserPoolId: POOL,
      JobName: "restore-1",
      CloudWatchLogsRoleArn: ROLE,
    });

    await importer.uploadCsv(created.jobId, CSV);
    expect(received).toHaveLength(1);
    const put = received[0] as Received;
    expect(put.method).toBe("PUT");
    expect(put.url).toContain(SIGNATURE);
    expect(put.headers["x-amz-server-side-encryption"]).toBe("aws:kms");
    expect(put.headers["content-type"]).toBe("text/csv");
    expect(put.headers["content-length"]).toBe(String(Buffer.byteLength(CSV, "utf8")));
    expect(put.body.equals(Buffer.from(CSV, "utf8"))).toBe(true);
    expect(put.body.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);

    let job = await importer.startImportJob(created.jobId);
    expect(job.status).toBe("Pending");
    expect(cognito.commandCalls(StartUserImportJobCommand)[0]?.args[0].input).toEqual({
      UserPoolId: POOL,
      JobId: "import-abc123",
    });
    while (!TERMINAL_IMPORT_JOB_STATUSES.includes(job.status))
      job = await importer.describeImportJob(job.jobId);
    expect(job).toEqual({
      jobId: "import-abc123",
      jobName: "restore-1",
      status: "Succeeded",
      imported: 2,
      skipped: 1,
      failed: 0,
      completionMessage: "Import Job Completed Successfully.",
    });
  });

  it("sends exactly the documented upload headers", () => {
    expect(IMPORT_UPLOAD_HEADERS).toEqual({
      "x-amz-server-side-encryption": "aws:kms",
      "Content-Type": "text/csv",
    });
  });

  it("reports a refused upload with its HTTP status and S3 code, never the URL's signature", async () => {
    cognito.on(DescribeUserImportJobCommand).resolves({ UserImportJob: aJob() });
    reply = {
      status: 403,
      body: `<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>no</Message><CanonicalQueryString>${SIGNATURE}</CanonicalQueryString></Error>`,
    };
    const error = (await anImporter()
      .uploadCsv("import-abc123", CSV)
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({
      code: "IMPORT.UPLOAD_FAILED",
      details: { jobId: "import-abc123", httpStatus: 403, s3ErrorCode: "SignatureDoesNotMatch" },
    });
    expect(error.message).toMatch(/HTTP 403 \(SignatureDoesNotMatch\)/);
    expect(`${error.message} ${JSON.stringify(error)} ${String(error.cause)}`).not.toMatch(
      /Signature=|secret|zoe/,
    );
  });

  it("reports an upload that cannot connect as SERVICE.UNREACHABLE, without the URL", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    cognito.on(DescribeUserImportJobCommand).resolves({
      UserImportJob: aJob({ PreSignedUrl: `http://127.0.0.1:${port}/upload?${SIGNATURE}` }),
    });
    const error = (await anImporter()
      .uploadCsv("import-abc123", CSV)
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: "SERVICE.UNREACHABLE", details: { reason: "ECONNREFUSED" } });
    expect(error.cause).toBeUndefined();
    expect(error.message).not.toMatch(/Signature|127\.0\.0\.1/);
  });

  it("uses the fetch it is given, and keeps a failing fetch's text (which may quote the URL) out", async () => {
    cognito.on(DescribeUserImportJobCommand).resolves({ UserImportJob: aJob() });
    const seen: string[] = [];
    const failing: typeof fetch = async (input) => {
      seen.push(String(input));
      throw new TypeError(`Failed to parse URL from ${String(input)}`);
    };
    const error = (await anImporter({ fetch: failing })
      .uploadCsv("import-abc123", CSV)
      .catch((e: unknown) => e)) as Error;
    expect(seen).toHaveLength(1);
    expect(error).toMatchObject({ code: "IMPORT.UPLOAD_FAILED" });
    expect(`${error.message} ${JSON.stringify(error)}`).not.toMatch(/Signature|secret/);
    expect(error.cause).toBeUndefined();
  });

  it("names an unknown job when uploading, starting or describing it", async () => {
    cognito
      .on(DescribeUserImportJobCommand)
      .rejects(new ResourceNotFoundException({ message: "Job not found", ...meta }));
    cognito
      .on(StartUserImportJobCommand)
      .rejects(new ResourceNotFoundException({ message: "Job not found", ...meta }));
    const importer = anImporter();
    for (const call of [
      () => importer.uploadCsv("import-nope", CSV),
      () => importer.startImportJob("import-nope"),
      () => importer.describeImportJob("import-nope"),
    ]) {
      await expect(call()).rejects.toMatchObject({
        code: "IMPORT.JOB_NOT_FOUND",
        details: { jobId: "import-nope" },
      });
    }
    expect(received).toHaveLength(0);
  });

  it("says another job is active when Cognito refuses the start for a precondition", async () => {
    cognito
      .on(StartUserImportJobCommand)
      .rejects(new PreconditionNotMetException({ message: "precondition", ...meta }));
    await expect(anImporter().startImportJob("import-abc123")).rejects.toMatchObject({
      code: "IMPORT.JOB_ALREADY_ACTIVE",
    });
  });

  it("leaves a missing pool as Cognito said it, not as a missing job", async () => {
    const poolGone = new ResourceNotFoundException({ message: `User pool ${POOL} does not exist.`, ...meta });
    cognito.on(DescribeUserImportJobCommand).rejects(poolGone);
    await expect(anImporter().describeImportJob("import-abc123")).rejects.toBe(poolGone);
  });
});
