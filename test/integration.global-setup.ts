import type { TestProject } from "vitest/node";
import { startDynalite } from "../local/services/dynalite.js";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

/** Starts the local stand-ins the integration tests run against, once per run, and stops them after. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamo = await startDynalite();
  project.provide("dynamodbEndpoint", dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
