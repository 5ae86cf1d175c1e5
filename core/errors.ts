/**
 * Errors that escape the core. Expected outcomes (a skipped user, a refused purge) are values;
 * these are for failures. Every error has a stable `code` that callers and alarms can match on,
 * and a `name` so logs and `instanceof`-free checks can tell them apart.
 */

/** Codes are `AREA.WHAT`, stable across releases. */
export type ErrorCode =
  | "BACKUP.MALFORMED"
  | "BACKUP.UNSUPPORTED_VERSION"
  | "BACKUP.ERASE_FAILED"
  | "SNAPSHOT.MALFORMED"
  | "SNAPSHOT.CHECKSUM_MISMATCH"
  | "SNAPSHOT.INVALID_LIMIT"
  | "SNAPSHOT.INCOMPLETE"
  | "CSV.INVALID_HEADER"
  | "CSV.MALFORMED"
  | "CSV.LIMIT_EXCEEDED"
  | "CONFIG.INVALID_SCHEDULE"
  | "CONFIG.INVALID_DURATION"
  | "CONFIG.INVALID_POLICY"
  | "PURGE.INVALID_INPUT"
  | "EVENT.INVALID"
  | "USER.INVALID"
  | "USER.NOT_FOUND"
  | "USER.NOT_AUTHORIZED"
  | "USER.INVALID_ID"
  | "USER.IDENTITY_CONFLICT"
  | "USER.ERASED"
  | "ERASE.USER_MISMATCH"
  | "ERASE.STILL_IN_POOL"
  | "ERASURE.MALFORMED"
  | "DIRECTORY.THROTTLED"
  | "DIRECTORY.PAGE_TOKEN_INVALID"
  | "DIRECTORY.USER_EXISTS"
  | "DIRECTORY.GROUP_NOT_FOUND"
  | "DIRECTORY.INVALID_QUERY"
  | "IMPORT.JOB_FAILED"
  | "IMPORT.JOB_NOT_FOUND"
  | "IMPORT.JOB_ALREADY_ACTIVE"
  | "RESTORE.INVALID_PLAN"
  | "RESTORE.CONFLICT"
  | "RESTORE.UNFINISHED"
  | "RESTORE.NOT_FOUND"
  | "RESTORE.STATE_MALFORMED"
  | "SYNC.WRITE_FAILED"
  | "STEP.STATE_INVALID"
  | "STEP.NO_PROGRESS"
  | "RUN_STATE.UNREADABLE"
  | "RUN_STATE.OTHER_JOB"
  | "RUN_STATE.OTHER_POOL"
  | "SYNC.FENCE_UNCHECKED"
  | "PROFILE.MALFORMED"
  | "IMPORT.UPLOAD_FAILED"
  | "CONFIG.INVALID"
  | "SECRET.INVALID"
  | "SECRET.UNAVAILABLE"
  | "SERVICE.UNREACHABLE"
  | "QUOTA.DEADLINE_REACHED"
  | "DATABASE.AUTH_FAILED";

export class LifecycleError extends Error {
  override name = "LifecycleError";
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * Bad input: a value that does not satisfy a rule. `field` names where the bad value is,
 * as a path (`user.Attributes[2].Value`, `purge.maxShareOfPool`, `cron field 3 (day-of-month)`).
 * Nothing is written when one of these is thrown.
 */
export class ValidationError extends LifecycleError {
  override name = "ValidationError";
  readonly field: string;

  constructor(
    code: ErrorCode,
    field: string,
    problem: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, `${field}: ${problem}`, { ...options, details: { field, ...options.details } });
    this.field = field;
  }
}

/**
 * The directory refused a call because a quota was exceeded. Shaped like Cognito's
 * TooManyRequestsException (same `name`, HTTP 400 in `$metadata`) so retry logic written for the
 * AWS SDK recognises it from the in-memory adapter too.
 */
export class ThrottlingError extends LifecycleError {
  override name = "TooManyRequestsException";
  readonly $metadata = { httpStatusCode: 400 } as const;
  readonly $retryable = { throttling: true } as const;
  readonly operation: string;

  constructor(operation: string, limitPerSecond: number) {
    super("DIRECTORY.THROTTLED", `Too many requests for ${operation} (limit ${limitPerSecond} per second)`, {
      details: { operation, limitPerSecond },
    });
    this.operation = operation;
  }
}

/**
 * A call kept being throttled until its caller's deadline: the quota is busy (every caller in the account
 * shares it), not broken. It is no failure of the job: a step that meets it stops, and the job carries on
 * from the step's last state. Thrown only when the deadline comes; until then throttling only slows calls.
 * `cause` is the last throttling error.
 */
export class QuotaDeadlineError extends LifecycleError {
  override name = "QuotaDeadlineError";

  constructor(operation: string, throttledForMs: number, options: { cause?: unknown } = {}) {
    super(
      "QUOTA.DEADLINE_REACHED",
      `${operation} was throttled until the caller's deadline (for ${throttledForMs} ms): carry on later`,
      { ...options, details: { operation, throttledForMs } },
    );
  }
}

/** True for {@link QuotaDeadlineError}, from any copy of this module. */
export function isQuotaDeadlineError(error: unknown): error is QuotaDeadlineError {
  return error instanceof LifecycleError && error.code === "QUOTA.DEADLINE_REACHED";
}

/** True for throttling errors from any adapter (ours or the AWS SDK's). */
export function isThrottlingError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === "TooManyRequestsException" ||
    error.name === "LimitExceededException" ||
    error.name === "ThrottlingException"
  );
}

/** Reads an error's code for reports and logs, without leaking its message (which may hold PII). */
export function errorCode(error: unknown): string {
  if (error instanceof LifecycleError) return error.code;
  if (error instanceof Error) return error.name;
  return "UNKNOWN";
}

/**
 * A validation issue's path as errors name fields: `users[2].attributes`. Used by every strict parser
 * (events, stored documents) so a field is named the same way everywhere.
 */
export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`,
    )
    .join("");
}
