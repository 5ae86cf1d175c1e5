import { ValidationError } from "../../core/errors.js";
import { type AccountsTableNames, DEFAULT_ACCOUNTS_TABLE_NAMES } from "./schema.js";

/**
 * Letters, digits and `_`, not starting with a digit, at most 64 characters (MySQL's limit). Stricter than
 * what MySQL accepts between backticks, on purpose: such a name needs no quoting anywhere (drizzle, the mysql
 * client, a DBA's console), so a typo or an injection attempt in configuration cannot reach SQL.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Where an existing schema names the accounts table or its columns otherwise than the defaults. */
export interface AccountsTableOptions {
  /** Default `users`. */
  readonly table?: string;
  readonly columns?: {
    /** Default `id`. */
    readonly id?: string;
    /** Default `confirmed_at`. */
    readonly confirmedAt?: string;
    /** Default `confirmation_sent_at`. */
    readonly confirmationSentAt?: string;
    /** Default `email`. */
    readonly email?: string;
  };
}

/**
 * The table and column names with defaults filled in, each checked to be a plain identifier.
 * @throws ValidationError `CONFIG.INVALID` naming the option (`accounts.table`, `accounts.columns.id`, …).
 */
export function resolveAccountsTableNames(options: AccountsTableOptions = {}): AccountsTableNames {
  const columns = options.columns ?? {};
  const names: AccountsTableNames = {
    table: identifier("accounts.table", options.table ?? DEFAULT_ACCOUNTS_TABLE_NAMES.table),
    id: identifier("accounts.columns.id", columns.id ?? DEFAULT_ACCOUNTS_TABLE_NAMES.id),
    confirmedAt: identifier(
      "accounts.columns.confirmedAt",
      columns.confirmedAt ?? DEFAULT_ACCOUNTS_TABLE_NAMES.confirmedAt,
    ),
    confirmationSentAt: identifier(
      "accounts.columns.confirmationSentAt",
      columns.confirmationSentAt ?? DEFAULT_ACCOUNTS_TABLE_NAMES.confirmationSentAt,
    ),
    email: identifier("accounts.columns.email", columns.email ?? DEFAULT_ACCOUNTS_TABLE_NAMES.email),
  };
  const columnNames = [names.id, names.confirmedAt, names.confirmationSentAt, names.email].map((name) =>
    name.toLowerCase(),
  );
  if (new Set(columnNames).size !== columnNames.length) {
    throw new ValidationError("CONFIG.INVALID", "accounts.columns", "the four columns must be distinct");
  }
  return names;
}

function identifier(option: string, value: unknown): string {
  if (typeof value !== "string" || !IDENTIFIER.test(value)) {
    throw new ValidationError(
      "CONFIG.INVALID",
      option,
      "must be a plain identifier: letters, digits and _, not starting with a digit, at most 64 characters",
    );
  }
  return value;
}

/** How to reach the accounts database; the shape the secret and the local stack provide. */
export interface AccountsDatabaseOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** TLS verified against the Amazon RDS certificate authorities. True for RDS; false only for local servers. */
  readonly tls: boolean;
  /** How long to wait for the server's handshake before failing with `SERVICE.UNREACHABLE`. Default 5,000. */
  readonly connectTimeoutMs?: number;
}

/** A default well inside a purge's time budget, long enough for a cold RDS connection with TLS. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Checks the connection options before any socket is opened, so a bad secret fails at start naming the
 * option. The password is checked for type only and never appears in a message.
 * @throws ValidationError `CONFIG.INVALID` naming the option (`accountsDatabase.port`, …).
 */
export function checkAccountsDatabaseOptions(
  options: AccountsDatabaseOptions,
): Required<AccountsDatabaseOptions> {
  const invalid = (option: string, problem: string) =>
    new ValidationError("CONFIG.INVALID", `accountsDatabase.${option}`, problem);
  // The database name travels in the handshake, never in SQL, so MySQL's own rules are enough for it.
  for (const option of ["host", "user", "database"] as const) {
    if (typeof options[option] !== "string" || options[option].trim() === "") {
      throw invalid(option, "must be a non-empty string");
    }
  }
  if (typeof options.password !== "string") throw invalid("password", "must be a string");
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) {
    throw invalid("port", "must be an integer from 1 to 65535");
  }
  if (typeof options.tls !== "boolean") throw invalid("tls", "must be true or false");
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 1 || connectTimeoutMs > 60_000) {
    throw invalid("connectTimeoutMs", "must be an integer number of milliseconds from 1 to 60000");
  }
  return { ...options, connectTimeoutMs };
}
