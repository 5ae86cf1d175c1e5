import { LifecycleError } from "../../core/errors.js";

/** True for S3's answer to reading a key that holds no object. */
export function isNoSuchKey(error: unknown): boolean {
  return error instanceof Error && error.name === "NoSuchKey";
}

/**
 * True when a conditional write was refused: 412 `PreconditionFailed` (the condition did not hold) or 409
 * `ConditionalRequestConflict` (another write to the key was in progress; S3 says to retry).
 */
export function isConditionFailed(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    error.name === "PreconditionFailed" ||
    error.name === "ConditionalRequestConflict" ||
    status === 412 ||
    (status === 409 && error.name !== "BucketAlreadyExists")
  );
}

/** One key DeleteObjects reported it could not delete, without the key (it holds a user id). */
export interface DeleteFailure {
  readonly code: string;
  readonly versionId?: string;
}

/**
 * DeleteObjects answered, but refused some of the keys (S3 reports those per key, with HTTP 200). Thrown so
 * an erasure never reports success while versions of a user's data remain.
 */
export class S3DeleteError extends LifecycleError {
  override name = "S3DeleteError";
  readonly failures: readonly DeleteFailure[];

  constructor(bucket: string, failures: readonly DeleteFailure[]) {
    const codes = [...new Set(failures.map((failure) => failure.code))].join(", ");
    super(
      "BACKUP.ERASE_FAILED",
      `S3 refused to delete ${failures.length} object version(s) in bucket ${bucket} (${codes})`,
      { details: { bucket, codes } },
    );
    this.failures = failures;
  }
}
