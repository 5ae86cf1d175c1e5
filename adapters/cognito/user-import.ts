import {
  type CognitoIdentityProviderClient,
  CreateUserImportJobCommand,
  DescribeUserImportJobCommand,
  GetCSVHeaderCommand,
  StartUserImportJobCommand,
  type UserImportJobType,
} from "@aws-sdk/client-cognito-identity-provider";
import { LifecycleError } from "../../core/errors.js";
import { IMPORT_JOB_STATUSES, type ImportJob, type UserImportService } from "../../core/ports/user-import.js";
import { asUnreachable } from "../shared/network-errors.js";
import { CognitoCalls, isCognitoError, isMissingPoolResource } from "./cognito-calls.js";

/**
 * The headers of the CSV upload to a job's pre-signed URL, as AWS's import guide sends them: the object is
 * stored encrypted with KMS, and the URL is signed for that header, so S3 refuses a PUT without it.
 */
export const IMPORT_UPLOAD_HEADERS: Readonly<Record<string, string>> = {
  "x-amz-server-side-encryption": "aws:kms",
  "Content-Type": "text/csv",
};

/** The service name of the upload in errors: the pre-signed URL points at an S3 bucket of Cognito's. */
const UPLOAD_SERVICE = "Amazon S3 (import upload)";

export interface CognitoUserImportOptions {
  /** The role Cognito writes the job's CloudWatch Logs with (CreateUserImportJob's CloudWatchLogsRoleArn). */
  readonly cloudWatchLogsRoleArn: string;
  /** Pacing and retries; share one instance between the adapters of a process so quotas add up. */
  readonly calls?: CognitoCalls;
  /** The HTTP client of the upload. Default: Node's global fetch. */
  readonly fetch?: typeof fetch;
  /** How long the upload may take before it is abandoned. Default 120 s (a CSV may hold 100 MB). */
  readonly uploadTimeoutMs?: number;
}

/**
 * Cognito user import jobs as a {@link UserImportService}: GetCSVHeader, CreateUserImportJob, an HTTP PUT of the
 * CSV to the job's pre-signed URL, StartUserImportJob and DescribeUserImportJob. The pre-signed URL carries
 * credentials in its query string: it never appears in an error or a log line.
 */
export class CognitoUserImport implements UserImportService {
  private readonly calls: CognitoCalls;
  private readonly fetch: typeof fetch;

  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
    private readonly options: CognitoUserImportOptions,
  ) {
    this.calls = options.calls ?? new CognitoCalls();
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async getCsvHeader(): Promise<string[]> {
    const output = await this.calls.run("GetCSVHeader", () =>
      this.client.send(new GetCSVHeaderCommand({ UserPoolId: this.userPoolId })),
    );
    return [...(output.CSVHeader ?? [])];
  }

  async createImportJob(jobName: string): Promise<ImportJob> {
    const output = await this.calls.run("CreateUserImportJob", () =>
      this.client.send(
        new CreateUserImportJobCommand({
          UserPoolId: this.userPoolId,
          JobName: jobName,
          CloudWatchLogsRoleArn: this.options.cloudWatchLogsRoleArn,
        }),
      ),
    );
    return toImportJob(requireJob(output.UserImportJob, "CreateUserImportJob"));
  }

  /**
   * PUTs the CSV, as UTF-8 bytes, to the job's pre-signed URL.
   *
   * @throws LifecycleError `IMPORT.JOB_NOT_FOUND` for an unknown job; `IMPORT.UPLOAD_FAILED` naming the HTTP
   *   status (and S3's error code) when the upload is refused, e.g. 403 once the URL's 15 minutes are over;
   *   `SERVICE.UNREACHABLE` when the upload cannot connect or times out.
   */
  async uploadCsv(jobId: string, csv: string): Promise<void> {
    const job = await this.describeRaw(jobId);
    if (!job.PreSignedUrl) {
      throw new LifecycleError("IMPORT.UPLOAD_FAILED", `Import job ${jobId} has no upload URL`, {
        details: { jobId, status: job.Status },
      });
    }
    let response: Response;
    try {
      response = await this.fetch(job.PreSignedUrl, {
        method: "PUT",
        headers: IMPORT_UPLOAD_HEADERS,
        body: Buffer.from(csv, "utf8"),
        signal: AbortSignal.timeout(this.options.uploadTimeoutMs ?? 120_000),
      });
    } catch (error) {
      // The error's own text may quote the URL, signature and all: it is not kept as the cause.
      throw (
        asUnreachable(UPLOAD_SERVICE, "uploadCsv", error, { keepCause: false }) ??
        new LifecycleError(
          "IMPORT.UPLOAD_FAILED",
          `Uploading the CSV of import job ${jobId} failed before an answer (${errorName(error)})`,
          { details: { jobId } },
        )
      );
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const s3Code = await s3ErrorCode(response);
    throw new LifecycleError(
      "IMPORT.UPLOAD_FAILED",
      `Uploading the CSV of import job ${jobId} failed with HTTP ${response.status}${s3Code ? ` (${s3Code})` : ""}`,
      { details: { jobId, httpStatus: response.status, ...(s3Code ? { s3ErrorCode: s3Code } : {}) } },
    );
  }

  /**
   * @throws LifecycleError `IMPORT.JOB_ALREADY_ACTIVE` when Cognito refuses the start because a precondition
   *   is not met (PreconditionNotMetException: another job of the account is running); `IMPORT.JOB_NOT_FOUND`.
   */
  async startImportJob(jobId: string): Promise<ImportJob> {
    try {
      const output = await this.calls.run("StartUserImportJob", () =>
        this.client.send(new StartUserImportJobCommand({ UserPoolId: this.userPoolId, JobId: jobId })),
      );
      return toImportJob(requireJob(output.UserImportJob, "StartUserImportJob"));
    } catch (error) {
      if (isCognitoError(error, "PreconditionNotMetException")) {
        throw new LifecycleError(
          "IMPORT.JOB_ALREADY_ACTIVE",
          `Import job ${jobId} cannot start: Cognito reports a precondition not met (another user import job of the account is running)`,
          { cause: error, details: { jobId, operation: "StartUserImportJob" } },
        );
      }
      throw jobNotFound(error, jobId) ?? error;
    }
  }

  async describeImportJob(jobId: string): Promise<ImportJob> {
    return toImportJob(await this.describeRaw(jobId));
  }

  private async describeRaw(jobId: string): Promise<UserImportJobType> {
    try {
      const output = await this.calls.run("DescribeUserImportJob", () =>
        this.client.send(new DescribeUserImportJobCommand({ UserPoolId: this.userPoolId, JobId: jobId })),
      );
      return requireJob(output.UserImportJob, "DescribeUserImportJob");
    } catch (error) {
      throw jobNotFound(error, jobId) ?? error;
    }
  }
}

function requireJob(job: UserImportJobType | undefined, operation: string): UserImportJobType {
  if (!job) throw new LifecycleError("IMPORT.JOB_NOT_FOUND", `${operation} answered without a job`);
  return job;
}

/** The job as the port describes it; never its pre-signed URL. */
function toImportJob(job: UserImportJobType): ImportJob {
  const status = IMPORT_JOB_STATUSES.find((known) => known === job.Status);
  if (!job.JobId || !status) {
    throw new LifecycleError(
      "IMPORT.JOB_FAILED",
      "Cognito described an import job without id or known status",
      {
        details: { jobId: job.JobId, status: job.Status },
      },
    );
  }
  return {
    jobId: job.JobId,
    jobName: job.JobName ?? "",
    status,
    imported: job.ImportedUsers ?? 0,
    skipped: job.SkippedUsers ?? 0,
    failed: job.FailedUsers ?? 0,
    ...(job.CompletionMessage ? { completionMessage: job.CompletionMessage } : {}),
  };
}

function jobNotFound(error: unknown, jobId: string): LifecycleError | undefined {
  if (!isMissingPoolResource(error)) return undefined;
  return new LifecycleError("IMPORT.JOB_NOT_FOUND", `No user import job ${jobId}`, {
    cause: error,
    details: { jobId },
  });
}

/**
 * S3's error code from an error answer (`<Code>SignatureDoesNotMatch</Code>`), only when it is a plain word:
 * the rest of such a body can echo the canonical request, query string and signature included.
 */
async function s3ErrorCode(response: Response): Promise<string | undefined> {
  const body = await response.text().catch(() => "");
  const code = /<Code>([A-Za-z]{1,64})<\/Code>/.exec(body.slice(0, 4096))?.[1];
  return code;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "unknown error";
}
