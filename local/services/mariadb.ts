import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { freePort, type RunningService, startProcess } from "./process.js";

const run = promisify(execFile);

/** How to reach the throwaway server's database. */
export interface MysqlConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface LocalMariaDb extends RunningService {
  readonly connection: MysqlConnection;
}

/** The command that installs the server on Debian, for messages. */
export const MARIADB_INSTALL_HINT = "apt-get install -y mariadb-server";

const SEARCH_PATH = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];

function which(binary: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...SEARCH_PATH];
  return dirs.map((dir) => path.join(dir, binary)).find((file) => existsSync(file));
}

/** The MariaDB binaries, or `undefined` when Debian's mariadb-server is not installed. */
export function findMariaDb(): { server: string; installDb: string; client: string } | undefined {
  const server = which("mariadbd");
  const installDb = which("mariadb-install-db");
  const client = which("mariadb");
  return server && installDb && client ? { server, installDb, client } : undefined;
}

/** Options of {@link startMariaDb}. */
export interface StartMariaDbOptions {
  readonly database?: string;
  readonly user?: string;
  /** Default: a random one, new for every server. */
  readonly password?: string;
  /**
   * What the user may do. `"application"`: only what the accounts migration and the purge need in its database
   * (CREATE, ALTER, INDEX, SELECT, INSERT, DELETE), as the local stack runs it. `"all"` (default): every right,
   * grant included, for tests that make a fresh database and a least-privileged user per fixture.
   */
  readonly access?: "application" | "all";
  /**
   * InnoDB redo log size in MB. Default 16: small and quick to create, enough for the tests. A benchmark that
   * deletes hundreds of thousands of rows should pass a production-like size, or it measures checkpoints forced
   * by a tiny log rather than the statements under test.
   */
  readonly innodbLogFileSizeMb?: number;
}

/** What {@link StartMariaDbOptions.access} `"application"` grants: the migration's and the purge's rights. */
export const APPLICATION_PRIVILEGES = ["CREATE", "ALTER", "INDEX", "SELECT", "INSERT", "DELETE"] as const;

/** The redo log size the stand-in starts with unless told otherwise (MB). */
export const DEFAULT_INNODB_LOG_FILE_SIZE_MB = 16;

/**
 * Starts a throwaway MariaDB on a free port of 127.0.0.1 with a temp data dir (deleted on stop), and creates
 * one database with a user that owns it. Runs as root with `--user=root`, as MariaDB requires when root
 * starts it; it listens on 127.0.0.1 only and keeps no binary log. `mariadb-install-db` makes password-less
 * root accounts for 127.0.0.1, ::1 and the host name: the server's init file drops them before it accepts any
 * connection, so root is reachable only through the server's own socket (in its temp dir), never over TCP.
 */
export async function startMariaDb(options: StartMariaDbOptions = {}): Promise<LocalMariaDb> {
  const binaries = findMariaDb();
  if (!binaries) {
    throw new Error(
      `MariaDB is not installed (mariadbd not found). Install it with: ${MARIADB_INSTALL_HINT}`,
    );
  }
  const database = options.database ?? "lifecycle";
  const user = options.user ?? "lifecycle";
  const password = options.password ?? randomBytes(18).toString("base64url");
  const access = options.access ?? "all";
  const logFileSizeMb = options.innodbLogFileSizeMb ?? DEFAULT_INNODB_LOG_FILE_SIZE_MB;
  // MariaDB refuses a redo log under 4 MB; a fraction would be silently rounded, so it is refused here.
  if (!Number.isSafeInteger(logFileSizeMb) || logFileSizeMb < 4) {
    throw new RangeError(
      `innodbLogFileSizeMb must be a whole number of MB, 4 or more (got ${logFileSizeMb})`,
    );
  }
  // The names and the password go into SQL statements one line each (see the init file below).
  if (!/^\w{1,64}$/.test(database)) {
    throw new RangeError(
      `database must be 1-64 letters, digits or underscores (got ${JSON.stringify(database)})`,
    );
  }
  if (/[\r\n]/.test(user) || /[\r\n]/.test(password)) {
    throw new RangeError("user and password must not contain line breaks");
  }
  const dir = await mkdtemp(path.join(tmpdir(), "mariadb-"));
  const dataDir = path.join(dir, "data");
  const socket = path.join(dir, "mysqld.sock");
  try {
    await run(binaries.installDb, [
      "--no-defaults",
      "--user=root",
      `--datadir=${dataDir}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      // Its own temp dir: two servers bootstrapping at once in /tmp trip over each other's temp tables.
      `--tmpdir=${dir}`,
    ]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const quote = (value: string) => value.replace(/\\/g, "\\\\").replace(/'/g, "''");
  const account = `'${quote(user)}'@'127.0.0.1'`;
  // The server runs this file before it accepts its first connection, so there is no moment at which
  // mariadb-install-db's password-less root accounts for 127.0.0.1, ::1 and the host name answer over TCP.
  // (global_priv holds MariaDB's accounts; FLUSH PRIVILEGES makes the server forget the dropped ones.)
  // The file holds the user's password: it is written 0600 in the server's own 0700 temp dir.
  const initFile = path.join(dir, "init.sql");
  const initStatements = [
    "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost'",
    "DELETE FROM mysql.proxies_priv WHERE User = 'root' AND Host <> 'localhost'",
    "FLUSH PRIVILEGES",
    `CREATE DATABASE \`${database}\``,
    `CREATE USER ${account} IDENTIFIED BY '${quote(password)}'`,
    access === "all"
      ? // Tests make a fresh database per fixture and a least-privileged user, hence every right (grant
        // included) on this throwaway server.
        `GRANT ALL PRIVILEGES ON *.* TO ${account} WITH GRANT OPTION`
      : `GRANT ${APPLICATION_PRIVILEGES.join(", ")} ON \`${database}\`.* TO ${account}`,
  ];
  // One statement per line: the server reads an init file line by line.
  await writeFile(initFile, initStatements.map((statement) => `${statement};`).join("\n") + "\n", {
    mode: 0o600,
  });
  const port = await freePort();
  let service: RunningService;
  try {
    // Without --log-error the server logs to stderr, which is where startProcess looks for readiness.
    // A statement of the init file that fails stops the server before it is ready.
    service = await startProcess(
      "mariadb",
      binaries.server,
      [
        "--no-defaults",
        "--user=root",
        `--datadir=${dataDir}`,
        "--bind-address=127.0.0.1",
        `--port=${port}`,
        `--socket=${socket}`,
        `--tmpdir=${dir}`,
        `--init-file=${initFile}`,
        "--skip-log-bin",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=32M",
        `--innodb-log-file-size=${logFileSizeMb}M`,
      ],
      /ready for connections/,
      { timeoutMs: 30_000 },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(initFile, { force: true });
  }
  return {
    ...service,
    connection: { host: "127.0.0.1", port, user, password, database },
    stop: async () => {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
