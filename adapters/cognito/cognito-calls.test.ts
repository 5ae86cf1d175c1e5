import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createCognitoClient, CognitoCalls } from "./cognito-calls.js";
import { CognitoUserDirectory } from "./user-directory.js";

/** A port of 127.0.0.1 that was just free: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("CognitoCalls against an endpoint nobody listens on", () => {
  it("fails once, at once, with SERVICE.UNREACHABLE naming the operation", async () => {
    const client = createCognitoClient({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const sleeps: number[] = [];
    let sends = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        sends += 1;
        return next(args);
      },
      { step: "finalizeRequest", name: "countSends" },
    );
    const directory = new CognitoUserDirectory(client, "us-east-1_TestPool1", {
      calls: new CognitoCalls({ sleeper: { sleep: async (ms) => void sleeps.push(ms) } }),
    });
    try {
      const error = await directory.listUsers().catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "SERVICE.UNREACHABLE",
        details: { service: "Amazon Cognito", operation: "ListUsers", reason: "ECONNREFUSED" },
      });
      expect(sends).toBe(1);
      expect(sleeps).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it("gives up on an endpoint that accepts but never answers, as SERVICE.UNREACHABLE", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const client = createCognitoClient({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      requestTimeoutMs: 200,
    });
    try {
      const directory = new CognitoUserDirectory(client, "us-east-1_TestPool1");
      await expect(directory.estimatedUserCount()).rejects.toMatchObject({
        code: "SERVICE.UNREACHABLE",
        details: { operation: "DescribeUserPool", reason: "ETIMEDOUT" },
      });
    } finally {
      client.destroy();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("builds clients whose own retries are off", async () => {
    const client = createCognitoClient({ region: "us-east-1" });
    expect(await client.config.maxAttempts()).toBe(1);
    client.destroy();
  });
});

describe("CognitoCalls' ceilings", () => {
  it("start each category at half its ceiling: Cognito's quota, less room for the app's sign-ups in UserCreation", () => {
    const calls = new CognitoCalls();
    expect(calls.rateOf("UserList")).toBe(15);
    expect(calls.rateOf("UserUpdate")).toBe(12.5);
    expect(calls.rateOf("UserCreation")).toBe(21);
    expect(new CognitoCalls({ rateLimits: { UserList: undefined } }).rateOf("UserList")).toBeUndefined();
    expect(() => new CognitoCalls({ rateLimits: { UserList: 0 } })).toThrow(
      expect.objectContaining({ code: "CONFIG.INVALID", field: "rateLimits.UserList" }),
    );
  });
});
