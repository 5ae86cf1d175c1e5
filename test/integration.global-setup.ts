import type { TestProject } from "vitest/node";
import { startCognitoLocal } from "../local/services/cognito-local.js";
import { startDynalite } from "../local/services/dynalite.js";
import { type MysqlConnection, startMariaDb } from "../local/services/mariadb.js";
import type { RunningService } from "../local/services/process.js";
import { startS3rver } from "../local/services/s3rver.js";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    cognitoEndpoint: string;
    s3Endpoint: string;
    /** A throwaway MariaDB: an empty database, and a user allowed to create more. */
    mysql: MysqlConnection;
  }
}

/**
 * Starts the local stand-ins the integration tests run against, once per run, on free ports of 127.0.0.1,
 * and stops every one it started after (also when another failed to start).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: RunningService[] = [];
  const track = async <S extends RunningService>(service: Promise<S>): Promise<S> => {
    const running = await service;
    started.push(running);
    return running;
  };
  const stopAll = async () => {
    await Promise.allSettled(started.map((service) => service.stop()));
  };
  try {
    const [dynamo, cognito, s3, mariadb] = await Promise.all([
      track(startDynalite()),
      track(startCognitoLocal()),
      track(startS3rver()),
      track(startMariaDb()),
    ]);
    project.provide("dynamodbEndpoint", dynamo.endpoint);
    project.provide("cognitoEndpoint", cognito.endpoint);
    project.provide("s3Endpoint", s3.endpoint);
    project.provide("mysql", mariadb.connection);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
