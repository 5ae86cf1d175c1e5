/**
 * Cognito user import jobs, locally: GetCSVHeader, CreateUserImportJob (with a pre-signed URL served by the
 * local Cognito itself), StartUserImportJob, DescribeUserImportJob, StopUserImportJob and ListUserImportJobs.
 *
 * As Cognito's guide ("Importing users into a user pool from a CSV file") and API reference describe them:
 * - A job is `Created` with a pre-signed URL valid for 15 minutes; the CSV is PUT there with the header
 *   `x-amz-server-side-encryption: aws:kms` (the URL is signed for it: without it S3 answers 403
 *   SignatureDoesNotMatch). A job never started expires (`Expired`).
 * - Start moves it to `Pending`, then `InProgress`, then `Succeeded` (or `Failed` when the file as a whole cannot
 *   be read); Stop moves a `Pending` or `InProgress` job to `Stopping`, then `Stopped`. Only one job of the
 *   account may be `Pending`, `InProgress` or `Stopping`: starting another is refused with
 *   PreconditionNotMetException.
 * - The file: UTF-8 without a byte order mark, at most 100 MB and 500,000 users; its header holds exactly the
 *   columns GetCSVHeader gives, in any order; values are never quoted, a comma inside a value is written `\,`.
 *   A row is failed (counted in FailedUsers, its reason kept in the job's log) when: it has another number of
 *   fields than the header, it is over 16,000 characters, `cognito:username` is empty, over 128 characters, holds whitespace or repeats
 *   one already in the file or the pool, `cognito:mfa_enabled` is empty or not true/false, a value is over 2,048
 *   characters, a phone number is not E.164, or none of the pool's auto-verified contacts (email, phone number)
 *   is present and verified. A pool with no auto-verified attribute imports nothing (the job fails).
 * - Imported users arrive as RESET_REQUIRED, enabled, with a new sub and the file's attributes.
 */
import { randomBytes, randomUUID, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { cognitoError, type Context, type StoredUser, type UserPool } from "./cognito-local.js";
import { E164, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_USERNAME_LENGTH, STANDARD_ATTRIBUTES } from "./attributes.js";

export const IMPORT_UPLOAD_PATH = "/_local-import-upload/";
const URL_LIFETIME_MS = 15 * 60_000;
const MAX_FILE_BYTES = 100 * 1024 * 1024;
const MAX_USERS = 500_000;
const MAX_ROW_LENGTH = 16_000;
const ACTIVE = new Set(["Pending", "InProgress", "Stopping"]);

export interface ImportJobTiming {
  /** How long a started job stays `Pending` (default 300 ms: long enough to see, short for a demo). */
  readonly pendingMs?: number;
  /** How many rows a job imports per step (default 50); steps are `stepMs` apart (default 20 ms). */
  readonly rowsPerStep?: number;
  readonly stepMs?: number;
  /** How long a job may wait for its start before it is `Expired` (default 24 h, as Cognito's 24–48 h). */
  readonly expiresAfterMs?: number;
}

/** One row that was not imported, as Cognito writes it to the job's CloudWatch log. */
export interface ImportLogEntry {
  readonly line: number;
  readonly username?: string;
  readonly reason: string;
}

interface Job {
  readonly JobId: string;
  readonly JobName: string;
  readonly UserPoolId: string;
  readonly CloudWatchLogsRoleArn: string;
  readonly CreationDate: Date;
  readonly signature: string;
  readonly amzDate: string;
  Status: string;
  StartDate?: Date;
  CompletionDate?: Date;
  CompletionMessage?: string;
  ImportedUsers: number;
  SkippedUsers: number;
  FailedUsers: number;
  file?: Buffer;
  stopRequested: boolean;
  readonly log: ImportLogEntry[];
}

export class ImportJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly key = randomBytes(32);
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly endpoint: () => string,
    private readonly poolOf: (ctx: Context, userPoolId: string) => Promise<UserPool>,
    private readonly ctx: Context,
    private readonly timing: ImportJobTiming = {},
  ) {}

  /** GetCSVHeader: the standard attributes in Cognito's order, the pool's custom attributes, then the two `cognito:` columns. */
  async csvHeader(pool: UserPool): Promise<string[]> {
    const custom = (pool.options.SchemaAttributes ?? [])
      .map((attribute) => attribute.Name ?? "")
      .filter((name) => name.startsWith("custom:"));
    return [...STANDARD_ATTRIBUTES, ...custom, "cognito:mfa_enabled", "cognito:username"];
  }

  create(userPoolId: string, request: Record<string, unknown>): Record<string, unknown> {
    const name = request.JobName;
    const role = request.CloudWatchLogsRoleArn;
    if (typeof name !== "string" || name.length < 1 || name.length > 128 || !/^[\w\s+=,.@-]+$/.test(name)) {
      throw cognitoError(
        "InvalidParameterException",
        "1 validation error detected: Value at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
      );
    }
    if (typeof role !== "string" || !/^arn:[\w+=/,.@-]+:iam::\d{12}:role\/[\w+=/,.@-]+$/.test(role)) {
      throw cognitoError(
        "InvalidParameterException",
        "1 validation error detected: Value at 'cloudWatchLogsRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?",
      );
    }
    const jobId = `import-${randomBytes(8).toString("hex")}`;
    const creation = new Date();
    const amzDate = creation
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d{3}/, "");
    const job: Job = {
      JobId: jobId,
      JobName: name,
      UserPoolId: userPoolId,
      CloudWatchLogsRoleArn: role,
      CreationDate: creation,
      amzDate,
      signature: this.sign(jobId, amzDate),
      Status: "Created",
      ImportedUsers: 0,
      SkippedUsers: 0,
      FailedUsers: 0,
      stopRequested: false,
      log: [],
    };
    this.jobs.set(jobId, job);
    return this.describeJob(job);
  }

  describe(userPoolId: string, jobId: unknown): Record<string, unknown> {
    return this.describeJob(this.find(userPoolId, jobId));
  }

  list(userPoolId: string): Record<string, unknown>[] {
    return [...this.jobs.values()]
      .filter((job) => job.UserPoolId === userPoolId)
      .map((job) => this.describeJob(job));
  }

  start(userPoolId: string, jobId: unknown): Record<string, unknown> {
    const job = this.find(userPoolId, jobId);
    this.expire(job);
    if (job.Status !== "Created") {
      throw cognitoError(
        "PreconditionNotMetException",
        `Job ${job.JobId} cannot be started: its status is ${job.Status}`,
      );
    }
    const active = [...this.jobs.values()].find((other) => ACTIVE.has(other.Status));
    if (active) {
      throw cognitoError(
        "PreconditionNotMetException",
        "Another user import job of this account is already running; only one may run at a time",
      );
    }
    job.Status = "Pending";
    job.StartDate = new Date();
    this.later(this.timing.pendingMs ?? 300, () => this.guarded(job, () => this.run(job)));
    return this.describeJob(job);
  }

  stop(userPoolId: string, jobId: unknown): Record<string, unknown> {
    const job = this.find(userPoolId, jobId);
    if (job.Status !== "Pending" && job.Status !== "InProgress") {
      throw cognitoError(
        "PreconditionNotMetException",
        `Job ${job.JobId} cannot be stopped: its status is ${job.Status}`,
      );
    }
    if (job.Status === "Pending") {
      job.Status = "Stopped";
      job.CompletionDate = new Date();
      job.CompletionMessage = "The user import job was stopped.";
    } else {
      job.Status = "Stopping";
      job.stopRequested = true;
    }
    return this.describeJob(job);
  }

  /** The rows a job did not import and why (Cognito writes them to the job's CloudWatch log). */
  logOf(jobId: string): readonly ImportLogEntry[] {
    return this.jobs.get(jobId)?.log ?? [];
  }

  /** Forgets the jobs of a deleted pool. */
  forgetPool(userPoolId: string): void {
    for (const [id, job] of this.jobs) if (job.UserPoolId === userPoolId) this.jobs.delete(id);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** The PUT to a job's pre-signed URL, answered as S3 would. */
  handleUpload(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://local");
    const jobId = url.pathname.slice(IMPORT_UPLOAD_PATH.length);
    const job = this.jobs.get(jobId);
    const s3Error = (status: number, code: string, message: string) => {
      request.resume();
      response.writeHead(status, { "content-type": "application/xml" });
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
      );
    };
    if (request.method !== "PUT")
      return s3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    const signature = url.searchParams.get("X-Amz-Signature") ?? "";
    const expected = job ? Buffer.from(job.signature) : Buffer.alloc(0);
    if (!job || expected.length !== signature.length || !timingSafeEqual(expected, Buffer.from(signature))) {
      return s3Error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
      );
    }
    if (request.headers["x-amz-server-side-encryption"] !== "aws:kms") {
      // The URL is signed for this header: a request without it does not match the signature.
      return s3Error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
      );
    }
    if (Date.now() - job.CreationDate.getTime() > URL_LIFETIME_MS) {
      return s3Error(403, "AccessDenied", "Request has expired");
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FILE_BYTES + 1) chunks.push(chunk);
    });
    request.on("end", () => {
      job.file = Buffer.concat(chunks);
      response.writeHead(200, { etag: `"${randomUUID()}"`, "x-amz-server-side-encryption": "aws:kms" });
      response.end();
    });
  }

  private find(userPoolId: string, jobId: unknown): Job {
    const job = typeof jobId === "string" ? this.jobs.get(jobId) : undefined;
    if (!job || job.UserPoolId !== userPoolId) {
      throw cognitoError("ResourceNotFoundException", `Job ${String(jobId)} does not exist.`);
    }
    return job;
  }

  private expire(job: Job): void {
    if (
      job.Status === "Created" &&
      Date.now() - job.CreationDate.getTime() > (this.timing.expiresAfterMs ?? 24 * 3_600_000)
    ) {
      job.Status = "Expired";
    }
  }

  private describeJob(job: Job): Record<string, unknown> {
    this.expire(job);
    return {
      JobName: job.JobName,
      JobId: job.JobId,
      UserPoolId: job.UserPoolId,
      PreSignedUrl: this.preSignedUrl(job),
      CreationDate: job.CreationDate,
      ...(job.StartDate ? { StartDate: job.StartDate } : {}),
      ...(job.CompletionDate ? { CompletionDate: job.CompletionDate } : {}),
      Status: job.Status,
      CloudWatchLogsRoleArn: job.CloudWatchLogsRoleArn,
      ImportedUsers: job.ImportedUsers,
      SkippedUsers: job.SkippedUsers,
      FailedUsers: job.FailedUsers,
      ...(job.CompletionMessage ? { CompletionMessage: job.CompletionMessage } : {}),
    };
  }

  private preSignedUrl(job: Job): string {
    const query = new URLSearchParams({
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Date": job.amzDate,
      "X-Amz-Expires": String(URL_LIFETIME_MS / 1000),
      "X-Amz-SignedHeaders": "host;x-amz-server-side-encryption",
      "X-Amz-Signature": job.signature,
    });
    return `${this.endpoint()}${IMPORT_UPLOAD_PATH}${job.JobId}?${query.toString()}`;
  }

  private sign(jobId: string, amzDate: string): string {
    return createHmac("sha256", this.key).update(`${jobId}\n${amzDate}`).digest("hex");
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  /** Runs a step of a job; a failure (e.g. the pool's file removed as the stack stops) fails the job, never the process. */
  private guarded(job: Job, work: () => Promise<void>): void {
    work().catch((error: unknown) => {
      this.finish(
        job,
        "Failed",
        `The import stopped: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }

  private finish(job: Job, status: string, message: string): void {
    job.Status = status;
    job.CompletionDate = new Date();
    job.CompletionMessage = message;
  }

  private async run(job: Job): Promise<void> {
    if (job.Status !== "Pending") return;
    job.Status = "InProgress";
    let rows: ReturnType<typeof readImportFile>;
    let pool: UserPool;
    try {
      pool = await this.poolOf(this.ctx, job.UserPoolId);
      // "If the user pool has no auto-verified attributes, the import job will not start." (the import guide)
      if (autoVerifiedOf(pool).length === 0) {
        throw new Error(
          "The user pool has no auto-verified attribute (email or phone_number): nothing can be imported.",
        );
      }
      rows = readImportFile(job.file, await this.csvHeader(pool));
    } catch (error) {
      this.finish(job, "Failed", error instanceof Error ? error.message : String(error));
      return;
    }
    const seen = new Set<string>();
    const rowsPerStep = this.timing.rowsPerStep ?? 50;
    let index = 0;
    const step = async () => {
      if (job.stopRequested) {
        this.finish(job, "Stopped", "The user import job was stopped.");
        return;
      }
      for (const end = Math.min(index + rowsPerStep, rows.length); index < end; index++) {
        const row = rows[index]!;
        const failure = row.problem ?? (await this.importRow(pool, row.values, seen));
        if (failure) {
          job.FailedUsers += 1;
          job.log.push({
            line: row.line,
            ...(row.values["cognito:username"] ? { username: row.values["cognito:username"] } : {}),
            reason: failure,
          });
        } else {
          job.ImportedUsers += 1;
        }
      }
      if (index < rows.length) this.later(this.timing.stepMs ?? 20, () => this.guarded(job, step));
      else this.finish(job, "Succeeded", "Import Job Completed Successfully.");
    };
    await step();
  }

  /** Imports one row; answers why not, or undefined when the user was created. */
  private async importRow(
    pool: UserPool,
    values: Record<string, string>,
    seen: Set<string>,
  ): Promise<string | undefined> {
    const username = values["cognito:username"] ?? "";
    if (username === "") return "cognito:username is empty";
    if (/\s/u.test(username)) return "cognito:username contains whitespace";
    if (username.length > MAX_USERNAME_LENGTH)
      return `cognito:username is longer than ${MAX_USERNAME_LENGTH} characters`;
    if (seen.has(username)) return "cognito:username appears more than once in the file";
    seen.add(username);
    const mfa = (values["cognito:mfa_enabled"] ?? "").toLowerCase();
    if (mfa !== "true" && mfa !== "false") return "cognito:mfa_enabled must be true or false";
    for (const [name, value] of Object.entries(values)) {
      if (value.length > MAX_ATTRIBUTE_VALUE_LENGTH)
        return `${name} is longer than ${MAX_ATTRIBUTE_VALUE_LENGTH} characters`;
    }
    for (const flag of ["email_verified", "phone_number_verified"]) {
      const value = (values[flag] ?? "").toLowerCase();
      if (value !== "" && value !== "true" && value !== "false") return `${flag} must be true or false`;
    }
    const phone = values.phone_number ?? "";
    if (phone !== "" && !E164.test(phone)) return "phone_number is not in E.164 format";
    // At least one of the pool's auto-verified attributes must be present and verified; with only one, that one.
    const verified = autoVerifiedOf(pool).filter(
      (name) => (values[name] ?? "") !== "" && values[`${name}_verified`]?.toLowerCase() === "true",
    );
    if (verified.length === 0) {
      return `no verified contact: ${autoVerifiedOf(pool)
        .map((name) => `${name} with ${name}_verified true`)
        .join(", or ")}`;
    }
    if (mfa === "true" && phone === "") return "cognito:mfa_enabled is true without a phone_number";
    if (await pool.getUserByUsername(this.ctx, username))
      return "a user with this cognito:username already exists";
    const now = new Date();
    const attributes = Object.entries(values)
      .filter(
        ([name, value]) => value !== "" && name !== "cognito:username" && name !== "cognito:mfa_enabled",
      )
      .map(([Name, Value]) => ({ Name, Value: Name.endsWith("_verified") ? Value.toLowerCase() : Value }));
    const user: StoredUser = {
      Username: username,
      Attributes: [{ Name: "sub", Value: randomUUID() }, ...attributes],
      Enabled: true,
      UserStatus: "RESET_REQUIRED",
      Password: "",
      RefreshTokens: [],
      UserCreateDate: now,
      UserLastModifiedDate: now,
      ...(mfa === "true" ? { MFAOptions: [{ DeliveryMedium: "SMS", AttributeName: "phone_number" }] } : {}),
    };
    try {
      await pool.saveUser(this.ctx, user);
    } catch (error) {
      // A name the local store cannot hold (`__proto__`) fails its row; any other failure fails the job.
      if ((error as { code?: string }).code === "UnsupportedOperationException")
        return (error as Error).message;
      throw error;
    }
    return undefined;
  }
}

/** The pool's auto-verified contacts (`email`, `phone_number`). */
function autoVerifiedOf(pool: UserPool): string[] {
  return (pool.options.AutoVerifiedAttributes ?? []).filter(
    (name) => name === "email" || name === "phone_number",
  );
}

interface FileRow {
  readonly line: number;
  readonly values: Record<string, string>;
  readonly problem?: string;
}

/** One CSV line's fields: split on commas, `\,` is a comma inside a value; nothing is quoted. */
function fieldsOf(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  for (let i = 0; i < line.length; i++) {
    const character = line[i];
    if (character === "\\" && line[i + 1] === ",") {
      field += ",";
      i++;
    } else if (character === ",") {
      fields.push(field);
      field = "";
    } else field += character;
  }
  fields.push(field);
  return fields;
}

/**
 * The rows of an import file, checked as a whole first.
 * @throws Error (the job's CompletionMessage) when the file is missing, too large, not UTF-8 without BOM, its
 *   header is not the pool's, or it holds more than 500,000 users.
 */
export function readImportFile(file: Buffer | undefined, header: readonly string[]): FileRow[] {
  if (file === undefined) throw new Error("No file was uploaded to the job's pre-signed URL.");
  if (file.length > MAX_FILE_BYTES) throw new Error("The file is larger than 100 MB.");
  if (file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf) {
    throw new Error("The file starts with a byte order mark; it must be UTF-8 without one.");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(file);
  } catch {
    throw new Error("The file is not UTF-8.");
  }
  const lines = text.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  if (lines.at(-1) === "") lines.pop();
  const columns = fieldsOf(lines[0] ?? "");
  const missing = header.filter((column) => !columns.includes(column));
  const unknown = columns.filter((column) => !header.includes(column));
  if (missing.length > 0 || unknown.length > 0 || new Set(columns).size !== columns.length) {
    throw new Error(
      `The header does not match the user pool's CSV header (GetCSVHeader)${missing.length ? `; missing: ${missing.join(" ")}` : ""}${unknown.length ? `; unknown: ${unknown.join(" ")}` : ""}`,
    );
  }
  if (lines.length - 1 > MAX_USERS) throw new Error(`The file holds more than ${MAX_USERS} users.`);
  return lines.slice(1).map((line, index) => {
    const number = index + 2;
    const fields = fieldsOf(line);
    const values = Object.fromEntries(columns.map((column, at) => [column, fields[at] ?? ""]));
    if (line.length > MAX_ROW_LENGTH)
      return { line: number, values, problem: `the row is longer than ${MAX_ROW_LENGTH} characters` };
    if (fields.length !== columns.length) {
      return {
        line: number,
        values,
        problem: `the row has ${fields.length} fields where the header has ${columns.length}`,
      };
    }
    return { line: number, values };
  });
}
