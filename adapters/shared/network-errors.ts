import { LifecycleError } from "../../core/errors.js";

/** Node's and undici's codes for "the other end could not be reached or went away". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/**
 * Why `error` means the service could not be reached (`ECONNREFUSED`, `ENOTFOUND`, `TimeoutError`...), or
 * `undefined` when the service answered. Looks through `cause` and `AggregateError.errors`, where fetch and
 * Node's dual-stack connect put the socket error.
 */
export function unreachableReason(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== "object" || error === null) return undefined;
  // An AWS service exception (`$fault` set) is an answer, even a 5xx: the service was reached.
  if ("$fault" in error) return undefined;
  const { code, name, cause, errors } = error as {
    code?: unknown;
    name?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return code;
  if (name === "TimeoutError") return "TimeoutError";
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const reason = unreachableReason(inner, depth + 1);
      if (reason) return reason;
    }
  }
  return unreachableReason(cause, depth + 1);
}

/**
 * `SERVICE.UNREACHABLE` for `error` when it is a connection failure, else `undefined`. The message names the
 * service, the operation and the reason, never a URL (pre-signed URLs carry credentials in their query).
 * `keepCause: false` leaves the original error out, for errors whose text may hold such a URL.
 */
export function asUnreachable(
  service: string,
  operation: string,
  error: unknown,
  options: { keepCause?: boolean } = {},
): LifecycleError | undefined {
  const reason = unreachableReason(error);
  if (reason === undefined) return undefined;
  return new LifecycleError(
    "SERVICE.UNREACHABLE",
    `${service} could not be reached (${reason}) during ${operation}; check the endpoint, the network path and the region`,
    { ...(options.keepCause === false ? {} : { cause: error }), details: { service, operation, reason } },
  );
}
