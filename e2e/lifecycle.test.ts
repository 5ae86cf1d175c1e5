/**
 * The lifecycle end to end on the local stack: a plain Cognito client signs users up and confirms them through
 * the app client; the local Cognito fires Post Confirmation at the local Lambda endpoint, which runs the real
 * handler on dynalite and s3rver; the jobs are invoked by name through the same endpoint.
 */
import {
  AdminAddUserToGroupCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  type CognitoIdentityProviderClient,
  CreateGroupCommand,
  ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { type Connection, createConnection } from "mysql2/promise";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../cli/main.js";
import { Container } from "../runtime/composition-root.js";
import { cognitoClientFor } from "../local/demo.js";
import { confirm as confirmLocally, signUp as signUpLocally } from "./local-users.js";
import { findMariaDb, MARIADB_INSTALL_HINT } from "../local/services/mariadb.js";
import { FUNCTION_NAMES, type LocalStack, startLocalStack } from "../local/stack.js";
import { capturedIo } from "../cli/testing/captured-io.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stack: LocalStack;
let cognito: CognitoIdentityProviderClient;
let container: Container;
let db: Connection | undefined;
const hasMariaDb = findMariaDb() !== undefined;
const noMariaDbNote = hasMariaDb ? "" : ` (skipped: MariaDB is not installed; ${MARIADB_INSTALL_HINT})`;
// Where the CLI looks for it: `<cwd>/.local/stack.json`.
const stateDir = mkdtempSync(path.join(tmpdir(), "lifecycle-e2e-"));
const stateFile = path.join(stateDir, ".local", "stack.json");

beforeAll(async () => {
  stack = await startLocalStack({ stateFile });
  cognito = cognitoClientFor(stack);
  container = new Container(stack.env);
  if (stack.mysql) db = await createConnection({ ...stack.mysql, timezone: "Z" });
}, 60_000);

afterAll(async () => {
  cognito?.destroy();
  await container?.close();
  await db?.end();
  await stack?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

const signUp = (username: string) => signUpLocally(cognito, stack, username);

const confirm = (username: string) => confirmLocally(cognito, stack, username);

async function usernames(): Promise<string[]> {
  const { Users = [] } = await cognito.send(new ListUsersCommand({ UserPoolId: stack.userPoolId }));
  return Users.map((user) => user.Username ?? "");
}

async function invokeOk(name: string, event: unknown = {}): Promise<Record<string, unknown>> {
  const outcome = await stack.invoke(name, event);
  if (!outcome.ok) throw new Error(`${name} failed: ${outcome.errorType}: ${outcome.errorMessage}`);
  return outcome.result as Record<string, unknown>;
}

async function accountEmails(): Promise<string[]> {
  const [rows] = await db!.query("SELECT email FROM users ORDER BY id");
  return (rows as { email: string }[]).map((row) => row.email);
}

function attribute(attributes: { Name?: string; Value?: string }[] | undefined, name: string) {
  return attributes?.find((entry) => entry.Name === name)?.Value;
}

describe("the local stack, end to end", () => {
  let aliceSub = "";

  it("records a user who signs up and confirms: profile in DynamoDB, backup in S3", async () => {
    aliceSub = await signUp("alice");
    await confirm("alice");
    const profile = await container.profiles.get(aliceSub);
    expect(profile).toMatchObject({ id: aliceSub, username: "alice", email: "alice@example.com" });
    const backup = await container.backups.getUserBackup(aliceSub);
    expect(backup?.user).toMatchObject({ username: "alice", sub: aliceSub, status: "CONFIRMED" });
  }, 20_000);

  it("changes nothing when the same confirmation event arrives again (createdAt kept)", async () => {
    const before = await container.profiles.get(aliceSub);
    const event = [...stack.lambda.received]
      .reverse()
      .find((entry) => entry.functionName === FUNCTION_NAMES.postConfirmation)?.event;
    expect(event).toMatchObject({ triggerSource: "PostConfirmation_ConfirmSignUp", userName: "alice" });
    await sleep(20);
    expect(await invokeOk(FUNCTION_NAMES.postConfirmation, event)).toEqual(event);
    const after = await container.profiles.get(aliceSub);
    expect(after?.createdAt.toISOString()).toBe(before?.createdAt.toISOString());
    expect(after).toEqual(before);
  }, 20_000);

  it("purges only expired unconfirmed users, from the pool and the database, never a confirmed one", async () => {
    await signUp("bob");
    if (db) {
      await db.query(
        "INSERT INTO users (email, confirmed_at, confirmation_sent_at) VALUES " +
          "('alice@example.com', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) - INTERVAL 1 HOUR), " +
          "('bob@example.com', NULL, UTC_TIMESTAMP(3))",
      );
    }
    await sleep(2_500); // the local policy's minAge is 2s
    await signUp("carol");
    if (db) {
      await db.query(
        "INSERT INTO users (email, confirmed_at, confirmation_sent_at) VALUES ('carol@example.com', NULL, UTC_TIMESTAMP(3))",
      );
    }

    const identities = await invokeOk(FUNCTION_NAMES.purgeUnconfirmedIdentities);
    expect(identities).toMatchObject({ deleted: 1, failed: 0 });
    expect((await usernames()).sort()).toEqual(["alice", "carol"]);

    if (db) {
      const accounts = await invokeOk(FUNCTION_NAMES.purgeUnconfirmedAccounts);
      expect(accounts).toMatchObject({ deleted: 1, failed: 0 });
      expect(await accountEmails()).toEqual(["alice@example.com", "carol@example.com"]);
    }
  }, 30_000);

  it("restores a deleted user (admin-create) with custom:legacy_sub = the old sub and its groups", async () => {
    const UserPoolId = stack.userPoolId;
    await cognito.send(new CreateGroupCommand({ UserPoolId, GroupName: "admins" }));
    await cognito.send(
      new AdminAddUserToGroupCommand({ UserPoolId, Username: "alice", GroupName: "admins" }),
    );
    const nightly = await invokeOk(FUNCTION_NAMES.snapshotAndReconcile);
    expect(nightly.snapshot).toMatchObject({ ok: true });

    await cognito.send(new AdminDeleteUserCommand({ UserPoolId, Username: "alice" }));
    const summary = await invokeOk(FUNCTION_NAMES.restore, {
      action: "restore",
      strategy: "admin-create",
      usernames: ["alice"],
    });
    expect(summary).toMatchObject({ complete: true, restored: 1 });

    const back = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: "alice" }));
    expect(attribute(back.UserAttributes, "custom:legacy_sub")).toBe(aliceSub);
    expect(attribute(back.UserAttributes, "sub")).not.toBe(aliceSub);
    const groups = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId, Username: "alice" }));
    expect((groups.Groups ?? []).map((group) => group.GroupName)).toEqual(["admins"]);
    // Keyed on the stable id, the profile is still hers.
    expect(await container.profiles.get(aliceSub)).toMatchObject({ username: "alice" });
  }, 30_000);

  it("restores a deleted user through an import job (the default strategy): RESET_REQUIRED, legacy sub, groups, disabled flag", async () => {
    const UserPoolId = stack.userPoolId;
    const erinSub = await signUp("erin");
    await confirm("erin");
    await cognito
      .send(new CreateGroupCommand({ UserPoolId, GroupName: "admins" }))
      .catch((error: unknown) => {
        if ((error as Error).name !== "GroupExistsException") throw error;
      });
    await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId, Username: "erin", GroupName: "admins" }));
    await cognito.send(new AdminDisableUserCommand({ UserPoolId, Username: "erin" }));
    expect((await invokeOk(FUNCTION_NAMES.snapshotAndReconcile)).snapshot).toMatchObject({ ok: true });
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId, Username: "erin" }));

    let answer = await invokeOk(FUNCTION_NAMES.restore, { action: "start", usernames: ["erin"] });
    for (let step = 0; answer.state !== "finished" && step < 50; step++) {
      await sleep(100);
      answer = await invokeOk(FUNCTION_NAMES.restore, { action: "resume", planId: answer.planId });
    }
    expect(answer).toMatchObject({ state: "finished", complete: true, restored: 1 });

    const back = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: "erin" }));
    expect(back).toMatchObject({ UserStatus: "RESET_REQUIRED", Enabled: false });
    expect(attribute(back.UserAttributes, "custom:legacy_sub")).toBe(erinSub);
    expect(attribute(back.UserAttributes, "email")).toBe("erin@example.com");
    const groups = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId, Username: "erin" }));
    expect((groups.Groups ?? []).map((group) => group.GroupName)).toEqual(["admins"]);
    expect(await container.profiles.get(erinSub)).toMatchObject({ username: "erin" });
  }, 60_000);

  it("erase leaves no trace in the pool, the table, the backups or any snapshot", async () => {
    const report = await invokeOk(FUNCTION_NAMES.erase, { username: "alice" });
    expect(report).toMatchObject({ userId: aliceSub, deletedFromPool: true, profileDeleted: true });
    // The function runs outside the VPC in AWS: it never reaches the accounts database, locally neither.
    expect(report).toMatchObject({ accountRow: { status: "not-checked", reason: "NO_DATABASE_ACCESS" } });
    expect(await usernames()).not.toContain("alice");
    expect(await container.profiles.get(aliceSub)).toBeUndefined();
    expect(await container.backups.getUserBackup(aliceSub)).toBeUndefined();
    for (const snapshotId of await container.backups.listSnapshots()) {
      const manifest = await container.backups.getSnapshotManifest(snapshotId);
      for (const part of manifest.parts) {
        expect(await container.backups.getSnapshotPart(snapshotId, part.name)).not.toContain(aliceSub);
      }
    }
    // Idempotent: a second erase finds nothing.
    expect(await invokeOk(FUNCTION_NAMES.erase, { userId: aliceSub })).toMatchObject({
      deletedFromPool: false,
      profileDeleted: false,
      backupVersionsDeleted: 0,
    });
  }, 20_000);

  it("confirms with S3 down, and the next reconcile writes the missing backup", async () => {
    await stack.stopS3();
    let daveSub: string | undefined;
    try {
      daveSub = await signUp("dave");
      await confirm("dave");
      expect(await container.profiles.get(daveSub)).toMatchObject({ username: "dave" });
    } finally {
      await stack.startS3();
    }
    if (daveSub === undefined) throw new Error("dave was not signed up");
    expect(await container.backups.getUserBackup(daveSub)).toBeUndefined();
    const nightly = await invokeOk(FUNCTION_NAMES.snapshotAndReconcile);
    expect(nightly.reconcile).toMatchObject({ failed: 0 });
    expect((nightly.reconcile as { backupsWritten: number }).backupsWritten).toBeGreaterThanOrEqual(1);
    expect((await container.backups.getUserBackup(daveSub))?.user).toMatchObject({ username: "dave" });
  }, 30_000);
});

/** The operator CLI on the local stack (`--local`), in this process, its output kept. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const terminal = capturedIo({ cwd: stateDir });
  const code = await run(argv, terminal.io);
  return { code, stdout: terminal.stdout(), stderr: terminal.stderr() };
}

describe("the operator CLI on the local stack", () => {
  it("status --local reports the pool's size", async () => {
    const { Users = [] } = await cognito.send(new ListUsersCommand({ UserPoolId: stack.userPoolId }));
    expect(Users.length).toBeGreaterThan(0);
    const status = await cli(["status", "--local", "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.stringify(JSON.parse(status.stdout))).toContain(`"estimatedUsers":${Users.length}`);
  }, 30_000);

  it("restore --local restores a deleted user through an import job, the default strategy", async () => {
    const UserPoolId = stack.userPoolId;
    const gilSub = await signUp("gil");
    await confirm("gil");
    expect((await invokeOk(FUNCTION_NAMES.snapshotAndReconcile)).snapshot).toMatchObject({ ok: true });
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId, Username: "gil" }));

    const restore = await cli(["restore", "--local", "--user", "gil", "--yes", "--json"]);
    expect(restore.stderr).not.toMatch(/unsupported/i);
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ strategy: "import-job", complete: true, restored: 1 });
    const back = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: "gil" }));
    expect(back.UserStatus).toBe("RESET_REQUIRED");
    expect(attribute(back.UserAttributes, "custom:legacy_sub")).toBe(gilSub);
  }, 60_000);

  it.skipIf(!hasMariaDb)(
    `erase --local checks the person's row in the accounts table, and deletes it only with --delete-account-row${noMariaDbNote}`,
    async () => {
      await signUp("hana");
      await confirm("hana");
      await db!.query(
        "INSERT INTO users (email, confirmed_at, confirmation_sent_at) VALUES " +
          "('Hana@Example.com', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)), ('hana_@example.com', NULL, NULL)",
      );
      const preview = await cli(["erase", "--local", "--username", "hana", "--dry-run", "--json"]);
      expect(preview.code).toBe(0);
      expect(JSON.parse(preview.stdout).preview.accountRow).toEqual({ status: "present", rows: 1 });
      const erased = await cli(["erase", "--local", "--username", "hana", "--delete-account-row", "--yes"]);
      expect(erased.code).toBe(0);
      expect(erased.stdout).toContain("accounts table (the application's): 1 row with their email deleted");
      expect(erased.stdout + erased.stderr).not.toContain("hana@example.com");
      expect(await usernames()).not.toContain("hana");
      expect(await accountEmails()).toContain("hana_@example.com");
      expect(await accountEmails()).not.toContain("Hana@Example.com");
    },
    60_000,
  );
});

describe("the local stack's own secrets", () => {
  it("writes its state file, which holds the database password, readable by its owner only", () => {
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
  });

  it.skipIf(!hasMariaDb)(`has no password-less root over TCP${noMariaDbNote}`, async () => {
    const { host, port } = stack.mysql!;
    for (const password of ["", undefined]) {
      const attempt = createConnection({
        host,
        port,
        user: "root",
        ...(password === undefined ? {} : { password }),
      });
      await expect(attempt).rejects.toMatchObject({ code: "ER_ACCESS_DENIED_ERROR" });
    }
  });

  it.skipIf(!hasMariaDb)(
    `gives the application's user only what the migration and the purge need, in its own database${noMariaDbNote}`,
    async () => {
      const [grants] = await db!.query("SHOW GRANTS FOR CURRENT_USER()");
      const text = (grants as Record<string, string>[]).map((row) => Object.values(row)[0]).join("\n");
      expect(text).not.toMatch(/ALL PRIVILEGES|GRANT OPTION|ON \*\.\*\s+TO.*(SELECT|DELETE|CREATE)/);
      await expect(db!.query("CREATE DATABASE elsewhere")).rejects.toMatchObject({
        code: "ER_DBACCESS_DENIED_ERROR",
      });
      await expect(db!.query("CREATE USER 'intruder'@'%'")).rejects.toMatchObject({
        code: "ER_SPECIFIC_ACCESS_DENIED_ERROR",
      });
      await expect(db!.query("SELECT * FROM mysql.user")).rejects.toMatchObject({
        code: "ER_TABLEACCESS_DENIED_ERROR",
      });
    },
  );
});
