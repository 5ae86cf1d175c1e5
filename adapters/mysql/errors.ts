import { LifecycleError } from "../../core/errors.js";
import { unreachableReason } from "../shared/network-errors.js";

/**
 * The server knows the user but not what it asks for: the database (1044), the table or a column (1142, 1143).
 */
const PRIVILEGE_MISSING_CODES = new Set([
  "ER_DBACCESS_DENIED_ERROR",
  "ER_TABLEACCESS_DENIED_ERROR",
  "ER_COLUMNACCESS_DENIED_ERROR",
]);

interface DriverError {
  readonly code?: unknown;
  readonly address?: unknown;
  readonly hostname?: unknown;
  readonly port?: unknown;
}

/**
 * Turns what drizzle and mysql2 throw into one typed error an operator can act on: `DATABASE.AUTH_FAILED` for
 * refused credentials or missing privileges, `SERVICE.UNREACHABLE` when nothing answers. Anything else is
 * returned as thrown. Messages are written here, never copied from the driver: they hold no password and no
 * row values, and drizzle's "Failed query" wrapper (query text and parameters) stays out of them.
 */
export function toAccountsDatabaseError(error: unknown): unknown {
  const driverError = driverCause(error);
  const code = typeof driverError.code === "string" ? driverError.code : undefined;
  if (code === undefined) return error;
  // 1045: wrong user name or password (MySQL does not say which, nor do we).
  if (code === "ER_ACCESS_DENIED_ERROR") {
    return new LifecycleError(
      "DATABASE.AUTH_FAILED",
      `The accounts database refused the login (${code}): check the user name and password in its secret`,
      { cause: driverError, details: { driverCode: code } },
    );
  }
  if (PRIVILEGE_MISSING_CODES.has(code)) {
    return new LifecycleError(
      "DATABASE.AUTH_FAILED",
      `The accounts database user lacks a privilege on the accounts table (${code}): it needs SELECT and DELETE`,
      { cause: driverError, details: { driverCode: code } },
    );
  }
  const unreachable = unreachableReason(driverError);
  if (unreachable !== undefined) {
    const where = endpoint(driverError);
    return new LifecycleError(
      "SERVICE.UNREACHABLE",
      `The accounts database${where ? ` at ${where}` : ""} is unreachable (${unreachable}): check its host, ` +
        "port, security groups and the function's network",
      { cause: driverError, details: { driverCode: code, ...(where ? { endpoint: where } : {}) } },
    );
  }
  return error;
}

/** Runs one statement, turning a driver failure into {@link toAccountsDatabaseError}'s typed error. */
export async function runAccountsStatement<T>(statement: () => PromiseLike<T>): Promise<T> {
  try {
    return await statement();
  } catch (error) {
    throw toAccountsDatabaseError(error);
  }
}

/** drizzle wraps every driver error in a DrizzleQueryError whose `cause` is mysql2's error. */
function driverCause(error: unknown): DriverError & object {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if ((current as DriverError).code !== undefined) return current;
    current = current.cause;
  }
  return {};
}

function endpoint(error: DriverError): string | undefined {
  const host =
    typeof error.address === "string"
      ? error.address
      : typeof error.hostname === "string"
        ? error.hostname
        : undefined;
  if (host === undefined) return undefined;
  return typeof error.port === "number" ? `${host}:${error.port}` : host;
}
