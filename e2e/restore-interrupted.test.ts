/**
 * A restore interrupted on the local stack, then run again by the same command: the CLI finds the unfinished
 * restore, carries it on, and ends with the pool as backed up — every user, every membership, every disabled
 * flag — and says `complete` only then. The interruption is the local Cognito going away (every
 * AdminAddUserToGroup fails as a lost connection would) in the middle of the run.
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  type CognitoIdentityProviderClient,
  CreateGroupCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Connect, containerConnection, overriding } from "../cli/connection.js";
import { capturedIo } from "../cli/testing/captured-io.js";
import { run } from "../cli/main.js";
import { cognitoClientFor } from "../local/demo.js";
import { type LocalStack, startLocalStack } from "../local/stack.js";

let stack: LocalStack;
let cognito: CognitoIdentityProviderClient;
const stateDir = mkdtempSync(path.join(tmpdir(), "restore-interrupted-e2e-"));
const stateFile = path.join(stateDir, ".local", "stack.json");

beforeAll(async () => {
  stack = await startLocalStack({ stateFile });
  cognito = cognitoClientFor(stack);
}, 60_000);

afterAll(async () => {
  cognito?.destroy();
  await stack?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

/** The CLI on the local stack; while `outage.down`, the pool's group additions fail as a lost connection. */
async function cli(argv: string[], outage: { down: boolean }) {
  const terminal = capturedIo({ cwd: stateDir });
  const connect: Connect = (env) => {
    const conn = containerConnection(env);
    return {
      ...conn,
      directory: (userPoolId) => {
        const directory = conn.directory(userPoolId);
        return overriding(directory, {
          addUserToGroup: async (username, group) => {
            if (outage.down) {
              throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1"), { name: "TimeoutError" });
            }
            return directory.addUserToGroup(username, group);
          },
        });
      },
    };
  };
  const code = await run(argv, terminal.io, { connect });
  return { code, stdout: terminal.stdout(), stderr: terminal.stderr() };
}

const people = [
  { username: "rin", groups: ["staff", "admins"], enabled: true },
  { username: "sam", groups: ["staff"], enabled: false },
  { username: "tao", groups: [], enabled: false },
  { username: "uma", groups: ["staff"], enabled: true },
];

describe("a restore interrupted on the local stack, then the same command again", () => {
  it("carries the unfinished restore on and ends with every user, membership and disabled flag back", async () => {
    const pool = stack.env.USER_POOL_ID as string;
    for (const group of ["staff", "admins"]) {
      await cognito.send(new CreateGroupCommand({ UserPoolId: pool, GroupName: group }));
    }
    for (const person of people) {
      await cognito.send(
        new AdminCreateUserCommand({
          UserPoolId: pool,
          Username: person.username,
          MessageAction: "SUPPRESS",
          UserAttributes: [
            { Name: "email", Value: `${person.username}@example.com` },
            { Name: "email_verified", Value: "true" },
          ],
        }),
      );
      for (const group of person.groups) {
        await cognito.send(
          new AdminAddUserToGroupCommand({ UserPoolId: pool, Username: person.username, GroupName: group }),
        );
      }
      if (!person.enabled) {
        await cognito.send(new AdminDisableUserCommand({ UserPoolId: pool, Username: person.username }));
      }
    }
    const outage = { down: false };
    expect((await cli(["snapshot", "--local"], outage)).code).toBe(0);
    for (const person of people) {
      await cognito.send(new AdminDeleteUserCommand({ UserPoolId: pool, Username: person.username }));
    }

    const argv = ["restore", "--local", "--strategy", "admin-create", "--yes", "--json"];
    outage.down = true;
    const first = await cli(argv, outage);
    expect(first.code).toBe(1);
    const planId = /restore (restore-\S+): plan stored/.exec(first.stderr)?.[1];
    expect(planId).toBeDefined();
    expect(first.stderr).toContain(`--plan-id ${planId}`);

    const status = await cli(["status", "--local"], outage);
    expect(status.stdout).toContain(`${planId}`);

    outage.down = false;
    const second = await cli(argv, outage);
    expect(second.stderr).toContain(`restore ${planId} of the same request is unfinished`);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      planId,
      complete: true,
      restored: people.length,
      memberships: { planned: 4, inPlace: 4 },
      disabledFlags: { planned: 2, inPlace: 2 },
    });
    for (const person of people) {
      const user = await cognito.send(
        new AdminGetUserCommand({ UserPoolId: pool, Username: person.username }),
      );
      expect(user.Enabled, person.username).toBe(person.enabled);
      const groups = await cognito.send(
        new AdminListGroupsForUserCommand({ UserPoolId: pool, Username: person.username }),
      );
      expect((groups.Groups ?? []).map((g) => g.GroupName).sort(), person.username).toEqual(
        [...person.groups].sort(),
      );
    }
  }, 60_000);
});
