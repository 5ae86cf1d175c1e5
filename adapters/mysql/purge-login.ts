import type { Pool } from "mysql2/promise";
import { ValidationError } from "../../core/errors.js";
import { toAccountsDatabaseError } from "./errors.js";
import { resolveAccountsTableNames } from "./options.js";

/** The accounts purge's own login, by default. */
export const DEFAULT_PURGE_LOGIN = "lifecycle_purge";

/** What the purge does to the accounts table, and so all its login may do: read the rows and delete them. */
export const PURGE_LOGIN_PRIVILEGES = ["SELECT", "DELETE"] as const;

/** Letters, digits and `_`, at most 32 characters (MySQL's limit on user names). */
const LOGIN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/** A host pattern: `%`, or letters, digits, `.`, `-`, `_`, `%` (no quote can reach SQL). */
const HOST_PATTERN = /^[A-Za-z0-9.%_-]{1,255}$/;

export interface PurgeLoginOptions {
  /** The login's name; default {@link DEFAULT_PURGE_LOGIN}. */
  readonly user?: string;
  /** Its password (from its own secret). Never logged, never part of an error. */
  readonly password: string;
  /** The application's database. */
  readonly database: string;
  /** The accounts table; default `users`. */
  readonly table?: string;
  /** Where the login may connect from; default `%` (the database accepts only the functions' group). */
  readonly host?: string;
  /** TLS required of the login (RDS: yes; a local server without TLS: no). Default true. */
  readonly requireTls?: boolean;
}

/**
 * Creates the accounts purge's login, or brings an existing one back to exactly what the purge needs: its
 * password set to `password`, every privilege it held revoked, then `SELECT` and `DELETE` on the accounts
 * table granted, and nothing else (no other table, no UPDATE, INSERT or DDL). Idempotent: run at every
 * deployment, it also undoes any grant added by hand since.
 *
 * Needs a login with CREATE USER and GRANT OPTION (the RDS master user).
 * @throws ValidationError `CONFIG.INVALID` naming the bad option, before any statement runs.
 * @throws LifecycleError `DATABASE.AUTH_FAILED` or `SERVICE.UNREACHABLE` as the store does.
 */
export async function ensurePurgeLogin(admin: Pool, options: PurgeLoginOptions): Promise<void> {
  const user = options.user ?? DEFAULT_PURGE_LOGIN;
  if (!LOGIN_NAME.test(user)) {
    throw new ValidationError(
      "CONFIG.INVALID",
      "purgeLogin.user",
      "must be letters, digits and _, not starting with a digit, at most 32 characters",
    );
  }
  const host = options.host ?? "%";
  if (!HOST_PATTERN.test(host)) {
    throw new ValidationError("CONFIG.INVALID", "purgeLogin.host", "must be a host name, an address or %");
  }
  if (typeof options.password !== "string" || options.password.length < 16) {
    throw new ValidationError("CONFIG.INVALID", "purgeLogin.password", "must be at least 16 characters");
  }
  const { table } = resolveAccountsTableNames(options.table === undefined ? {} : { table: options.table });
  // The database name comes from the stack's validated config; checked again, as it reaches SQL here.
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(options.database)) {
    throw new ValidationError("CONFIG.INVALID", "purgeLogin.database", "must be a plain identifier");
  }
  const account = `'${user}'@'${host}'`;
  const tls = (options.requireTls ?? true) ? " REQUIRE SSL" : " REQUIRE NONE";
  try {
    // `?` placeholders are escaped by the driver (client side): the password never appears in a statement
    // text we build, nor in an error we raise.
    await admin.query(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ?${tls}`, [options.password]);
    await admin.query(`ALTER USER ${account} IDENTIFIED BY ?${tls}`, [options.password]);
    await admin.query(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${account}`);
    await admin.query(
      `GRANT ${PURGE_LOGIN_PRIVILEGES.join(", ")} ON \`${options.database}\`.\`${table}\` TO ${account}`,
    );
  } catch (error) {
    throw toAccountsDatabaseError(error);
  }
}
