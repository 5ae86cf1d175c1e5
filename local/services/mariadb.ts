import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
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
  readonly password?: string;
  /**
   * InnoDB redo log size in MB. Default 16: small and quick to create, enough for the tests. A benchmark that
   * deletes hundreds of thousands of rows should pass a production-like size, or it measures checkpoints forced
   * by a tiny log rather than the statements under test.
   */
  readonly innodbLogFileSizeMb?: number;
}

/** The redo log size the stand-in starts with unless told otherwise (MB). */
export const DEFAULT_INNODB_LOG_FILE_SIZE_MB = 16;

/**
 * Starts a throwaway MariaDB on a free port of 127.0.0.1 with a temp data dir (deleted on stop), and creates
 * one database with a user that owns it. Runs as root with `--user=root`, as MariaDB requires when root
 * starts it; it listens on 127.0.0.1 only and keeps no binary log.
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
  const password = options.password ?? "lifecycle-local";
  const logFileSizeMb = options.innodbLogFileSizeMb ?? DEFAULT_INNODB_LOG_FILE_SIZE_MB;
  // MariaDB refuses a redo log under 4 MB; a fraction would be silently rounded, so it is refused here.
  if (!Number.isSafeInteger(logFileSizeMb) || logFileSizeMb < 4) {
    throw new RangeError(
      `innodbLogFileSizeMb must be a whole number of MB, 4 or more (got ${logFileSizeMb})`,
    );
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
  const port = await freePort();
  let service: RunningService;
  try {
    // Without --log-error the server logs to stderr, which is where startProcess looks for readiness.
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
  }
  const quote = (value: string) => value.replace(/'/g, "''");
  await run(binaries.client, [
    "--no-defaults",
    "--user=root",
    `--socket=${socket}`,
    "-e",
    [
      `CREATE DATABASE \`${database}\``,
      `CREATE USER '${quote(user)}'@'127.0.0.1' IDENTIFIED BY '${quote(password)}'`,
      // The tests make a fresh database per fixture and a least-privileged user, hence every right (grant included)
      // on this throwaway server.
      `GRANT ALL PRIVILEGES ON *.* TO '${quote(user)}'@'127.0.0.1' WITH GRANT OPTION`,
    ].join(";\n"),
  ]);
  return {
    ...service,
    connection: { host: "127.0.0.1", port, user, password, database },
    stop: async () => {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
