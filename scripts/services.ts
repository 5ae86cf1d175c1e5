/**
 * `npm run services`: starts every local stand-in on 127.0.0.1 for a developer, prints how to reach each,
 * and stops them all (by PID) on Ctrl-C. MariaDB is left out, with the command that installs it, when
 * Debian's mariadb-server is missing.
 */
import { startCognitoLocal } from "../local/services/cognito-local.js";
import { startDynalite } from "../local/services/dynalite.js";
import { findMariaDb, MARIADB_INSTALL_HINT, startMariaDb } from "../local/services/mariadb.js";
import type { RunningService } from "../local/services/process.js";
import { S3RVER_CREDENTIALS, startS3rver } from "../local/services/s3rver.js";

async function main(): Promise<void> {
  const started: RunningService[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping…");
    await Promise.allSettled(started.map((service) => service.stop()));
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  try {
    const cognito = await startCognitoLocal();
    started.push(cognito);
    console.log(`Cognito (local)          ${cognito.endpoint}    in this process`);
    const dynamo = await startDynalite();
    started.push(dynamo);
    console.log(`DynamoDB (dynalite)      ${dynamo.endpoint}    pid ${dynamo.pid}`);
    const s3 = await startS3rver();
    started.push(s3);
    console.log(
      `S3 (s3rver)              ${s3.endpoint}    pid ${s3.pid}  ` +
        `(access key ${S3RVER_CREDENTIALS.accessKeyId}, path-style)`,
    );
    if (findMariaDb()) {
      const mariadb = await startMariaDb();
      started.push(mariadb);
      const { host, port, user, password, database } = mariadb.connection;
      console.log(
        `MySQL (MariaDB)          mysql://${user}:${password}@${host}:${port}/${database}    pid ${mariadb.pid}`,
      );
    } else {
      console.log(`MySQL: not started, MariaDB is not installed. Install it with: ${MARIADB_INSTALL_HINT}`);
    }
    console.log("\nAll listening on 127.0.0.1. Press Ctrl-C to stop them.");
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stopAll(1);
  }
}

void main();
