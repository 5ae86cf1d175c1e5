import { rejectionOf } from "../../core/testing/errors.js";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LifecycleError, ValidationError } from "../../core/errors.js";
import { freePort } from "../../local/services/process.js";
import { SecretDatabaseCredentials } from "./database-credentials.js";

const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:accounts-db-AbCdEf";
const PASSWORD = "s3cr3t-Pa55word";
const full = { username: "purger", password: PASSWORD, host: "db.internal", port: 3306, dbname: "app" };

function setup(secret: string | Uint8Array | Error, options = {}) {
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const mock = mockClient(client);
  if (secret instanceof Error) mock.on(GetSecretValueCommand).rejects(secret);
  else if (typeof secret === "string") mock.on(GetSecretValueCommand).resolves({ SecretString: secret });
  else mock.on(GetSecretValueCommand).resolves({ SecretBinary: secret });
  const credentials = new SecretDatabaseCredentials(
    new SecretsProvider({ awsSdkV3Client: client }),
    ARN,
    options,
  );
  return { credentials, mock };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("SecretDatabaseCredentials", () => {
  it("reads the secret by its ARN and returns the five fields, the port as a number", async () => {
    const { credentials, mock } = setup(JSON.stringify({ ...full, port: "3307", engine: "mysql" }));
    expect(await credentials.get()).toEqual({ ...full, port: 3307 });
    expect(mock.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toMatchObject({ SecretId: ARN });
  });

  it("reads a binary secret too", async () => {
    const { credentials } = setup(new TextEncoder().encode(JSON.stringify(full)));
    expect(await credentials.get()).toEqual(full);
  });

  it("caches the value per container until it is older than maxAge, and refreshes on demand", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-21T00:00:00Z"));
    const { credentials, mock } = setup(JSON.stringify(full), { maxAgeSeconds: 60 });
    await credentials.get();
    await credentials.get();
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    vi.setSystemTime(new Date("2026-11-21T00:00:59Z"));
    await credentials.get();
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    vi.setSystemTime(new Date("2026-11-21T00:01:01Z"));
    await credentials.get();
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    await credentials.get({ refresh: true });
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it.each(["username", "password", "host", "port", "dbname"] as const)(
    "names a missing %s field, and never the secret's values",
    async (field) => {
      const secret: Record<string, unknown> = { ...full };
      delete secret[field];
      const { credentials } = setup(JSON.stringify(secret));
      const error = await rejectionOf(credentials.get(), LifecycleError);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: "SECRET.INVALID", field: `secret.${field}` });
      expect(error.message).toBe(`secret.${field}: is missing`);
      expect(error.message).not.toContain(PASSWORD);
    },
  );

  it("treats an empty field as missing", async () => {
    const { credentials } = setup(JSON.stringify({ ...full, host: "" }));
    expect(await rejectionOf(credentials.get(), LifecycleError)).toMatchObject({ field: "secret.host" });
  });

  it("rejects a port that is not a TCP port, naming it", async () => {
    for (const port of [0, 70000, "33o6", 3306.5]) {
      const { credentials } = setup(JSON.stringify({ ...full, port }));
      const error = await rejectionOf(credentials.get(), LifecycleError);
      expect(error).toMatchObject({ code: "SECRET.INVALID", field: "secret.port" });
      expect(error.message).toMatch(/^secret\.port: is not valid/);
    }
  });

  it("says a secret that is not a JSON object is not one, without echoing it", async () => {
    for (const text of [PASSWORD, "[1,2]", "null", '"text"']) {
      const { credentials } = setup(text);
      const error = await rejectionOf(credentials.get(), LifecycleError);
      expect(error).toMatchObject({ code: "SECRET.INVALID", field: "secret" });
      expect(error.message).not.toContain(PASSWORD);
    }
  });

  it("takes host, port and dbname from the stack for an RDS-managed secret holding only the login", async () => {
    const { credentials } = setup(JSON.stringify({ username: "admin", password: PASSWORD }), {
      fallback: { host: "cluster.internal", port: 3306, dbname: "app" },
    });
    expect(await credentials.get()).toEqual({
      username: "admin",
      password: PASSWORD,
      host: "cluster.internal",
      port: 3306,
      dbname: "app",
    });
  });

  it("prefers the secret's own values over the fallback", async () => {
    const { credentials } = setup(JSON.stringify(full), { fallback: { host: "elsewhere", port: 1 } });
    expect(await credentials.get()).toEqual(full);
  });

  it.each([
    ["ResourceNotFoundException", /does not exist/],
    ["AccessDeniedException", /secretsmanager:GetSecretValue or kms:Decrypt denied/],
    ["DecryptionFailure", /cannot be decrypted/],
    ["InternalServiceError", /cannot be read \(InternalServiceError\)/],
  ])("turns %s into one SECRET.UNAVAILABLE error naming the secret", async (name, reason) => {
    const failure = Object.assign(new Error("service says no"), { name });
    const { credentials } = setup(failure);
    const error = await rejectionOf(credentials.get(), LifecycleError);
    expect(error.code).toBe("SECRET.UNAVAILABLE");
    expect(error.message).toContain(ARN);
    expect(error.message).toMatch(reason);
  });

  it("gives one SERVICE.UNREACHABLE error when Secrets Manager cannot be reached", async () => {
    const port = await freePort();
    const client = new SecretsManagerClient({
      region: "eu-west-1",
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
      maxAttempts: 1,
    });
    const credentials = new SecretDatabaseCredentials(new SecretsProvider({ awsSdkV3Client: client }), ARN);
    const error = await rejectionOf(credentials.get(), LifecycleError);
    expect(error).toMatchObject({ code: "SERVICE.UNREACHABLE" });
    expect(error.message).toMatch(/Secrets Manager could not be reached \(ECONNREFUSED\)/);
  });

  it("refuses an empty secret id at construction", () => {
    const provider = new SecretsProvider({
      awsSdkV3Client: new SecretsManagerClient({ region: "eu-west-1" }),
    });
    expect(() => new SecretDatabaseCredentials(provider, " ")).toThrow(/secretId: is empty/);
  });
});
