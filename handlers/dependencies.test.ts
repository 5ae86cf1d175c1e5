import { errorOf } from "../core/testing/errors.js";
import { describe, expect, it } from "vitest";
import { Container } from "../runtime/composition-root.js";
import { dependencies } from "./dependencies.js";
import { RecordingObservability } from "../runtime/testing/recording-observability.js";

const base = {
  AWS_REGION: "eu-west-1",
  USER_POOL_ID: "eu-west-1_AbC123xyz",
  PROFILE_TABLE: "profiles",
  BACKUP_BUCKET: "backups",
};

const container = (env: Record<string, string | undefined>) =>
  new Container(env, () => new RecordingObservability());

describe("composition root", () => {
  it("builds every function's dependencies from a complete environment", () => {
    const c = container({ ...base, IMPORT_LOGS_ROLE_ARN: "arn:aws:iam::123456789012:role/import-logs" });
    expect(dependencies.postConfirmation(c)).toMatchObject({ failureMode: "continue", deadlineMs: 3_000 });
    expect(dependencies.purgeUnconfirmedIdentities(c).policy.minAgeMs).toBe(24 * 3_600_000);
    expect(dependencies.snapshotAndReconcile(c).userPoolId).toBe(base.USER_POOL_ID);
    expect(dependencies.restore(c).target(undefined, "import-job").importer).toBeDefined();
    expect(dependencies.erase(c).directory).toBe(c.directory());
  });

  it.each([
    ["AWS_REGION", { ...base, AWS_REGION: undefined }, "environment variable is missing or empty"],
    ["PROFILE_TABLE", { ...base, PROFILE_TABLE: " " }, "environment variable is missing or empty"],
    ["BACKUP_BUCKET", { ...base, BACKUP_BUCKET: undefined }, "environment variable is missing or empty"],
    ["SYNC_FAILURE_MODE", { ...base, SYNC_FAILURE_MODE: "ignore" }, "must be one of continue, fail"],
    ["SYNC_DEADLINE_MS", { ...base, SYNC_DEADLINE_MS: "6000" }, "must be a whole number from 500 to 4500"],
    [
      "DYNAMODB_ENDPOINT",
      { ...base, DYNAMODB_ENDPOINT: "localhost:8000" },
      "must be an http:// or https:// URL",
    ],
  ])("names %s when it is missing or bad", (variable, env, problem) => {
    const error = errorOf(() => dependencies.postConfirmation(container(env)));
    expect(error.field).toBe(variable);
    expect(error.message).toBe(`${variable}: ${problem}`);
  });

  it("gives the trigger the directory of the pool its event names, with no USER_POOL_ID in its environment", () => {
    const { USER_POOL_ID: _none, ...withoutPool } = base;
    const deps = dependencies.postConfirmation(container(withoutPool));
    const directory = deps.directoryOf("eu-west-1_Pool42");
    expect(directory.constructor.name).toBe("CognitoUserDirectory");
    expect(deps.directoryOf("eu-west-1_Pool42")).toBe(directory);
    expect(deps.directoryOf("eu-west-1_Other7")).not.toBe(directory);
  });

  it("reads the accounts purge's batch size and lanes, and names either when it is out of range", () => {
    expect(dependencies.purgeUnconfirmedAccounts(container(base))).toMatchObject({
      batchSize: 500,
      lanes: 2,
    });
    expect(
      dependencies.purgeUnconfirmedAccounts(
        container({ ...base, PURGE_BATCH_SIZE: "200", PURGE_LANES: "1" }),
      ),
    ).toMatchObject({ batchSize: 200, lanes: 1 });
    for (const [variable, value] of [
      ["PURGE_LANES", "3"],
      ["PURGE_LANES", "0"],
      ["PURGE_BATCH_SIZE", "20000"],
    ] as const) {
      const error = errorOf(() =>
        dependencies.purgeUnconfirmedAccounts(container({ ...base, [variable]: value })),
      );
      expect(error.field).toBe(variable);
    }
  });

  it("names the bad key of a purge policy given as JSON", () => {
    const error = errorOf(() =>
      dependencies.purgeUnconfirmedIdentities(container({ ...base, PURGE_POLICY: '{"minAge":"soon"}' })),
    );
    expect(error.field).toBe("PURGE_POLICY.minAge");
    expect(
      errorOf(() => dependencies.purgeUnconfirmedIdentities(container({ ...base, PURGE_POLICY: "{" }))).field,
    ).toBe("PURGE_POLICY");
  });

  it("refuses an identity purge cap whose plan could not travel between its steps, naming the setting", () => {
    const error = errorOf(() =>
      dependencies.purgeUnconfirmedIdentities(
        container({ ...base, PURGE_POLICY: '{"maxDeletionsPerRun":5000}' }),
      ),
    );
    expect(error).toMatchObject({ code: "CONFIG.INVALID_POLICY", field: "PURGE_POLICY.maxDeletionsPerRun" });
  });

  it("refuses a user pool id of the wrong shape and an import role that is not an IAM ARN", () => {
    expect(errorOf(() => dependencies.erase(container({ ...base, USER_POOL_ID: "my pool" }))).field).toBe(
      "USER_POOL_ID",
    );
    const restore = dependencies.restore(container({ ...base, IMPORT_LOGS_ROLE_ARN: "role/import" }));
    expect(errorOf(() => restore.target(undefined, "import-job")).field).toBe("IMPORT_LOGS_ROLE_ARN");
    // The admin-create path needs no import role.
    expect(restore.target(undefined, "admin-create").importer).toBeUndefined();
  });

  it("asks for the local login only when no secret is configured", async () => {
    const deps = dependencies.purgeUnconfirmedAccounts(container({ ...base, ACCOUNTS_DB_HOST: "127.0.0.1" }));
    await expect(deps.accounts({ refreshCredentials: false })).rejects.toMatchObject({
      field: "ACCOUNTS_DB_NAME",
    });
  });
});
