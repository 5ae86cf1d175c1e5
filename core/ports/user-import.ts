/**
 * Cognito user import jobs: the bulk restore path. Users arrive as RESET_REQUIRED, no message is sent, and
 * imports do not count as monthly active users. Only one job may run at a time per account.
 */
/** Every status Cognito reports for an import job, in lifecycle order. */
export const IMPORT_JOB_STATUSES = [
  "Created",
  "Pending",
  "InProgress",
  "Stopping",
  "Expired",
  "Stopped",
  "Failed",
  "Succeeded",
] as const;

export type ImportJobStatus = (typeof IMPORT_JOB_STATUSES)[number];

export const TERMINAL_IMPORT_JOB_STATUSES: readonly ImportJobStatus[] = [
  "Expired",
  "Stopped",
  "Failed",
  "Succeeded",
];

export interface ImportJob {
  readonly jobId: string;
  readonly jobName: string;
  readonly status: ImportJobStatus;
  /** Users imported, skipped and failed so far (Cognito's ImportedUsers/SkippedUsers/FailedUsers). */
  readonly imported: number;
  readonly skipped: number;
  readonly failed: number;
  /** Cognito's completion message, when the job has ended. */
  readonly completionMessage?: string;
}

export interface UserImportService {
  /** The pool's import CSV header, column names in the order the CSV must use (GetCSVHeader). */
  getCsvHeader(): Promise<string[]>;

  /** Creates a job ready for its CSV. The upload must happen within 15 minutes (the pre-signed URL's life). */
  createImportJob(jobName: string): Promise<ImportJob>;

  /** Uploads the job's CSV (UTF-8, no BOM). Throws `IMPORT.JOB_NOT_FOUND` for an unknown job. */
  uploadCsv(jobId: string, csv: string): Promise<void>;

  /** Starts the job. Throws `IMPORT.JOB_ALREADY_ACTIVE` while another job of the account is running. */
  startImportJob(jobId: string): Promise<ImportJob>;

  /** The job's state now. Throws `IMPORT.JOB_NOT_FOUND` for an unknown job. */
  describeImportJob(jobId: string): Promise<ImportJob>;
}
