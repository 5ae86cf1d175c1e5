import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  AdminSetUserPasswordCommand,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  DeleteUserPoolCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, describe, expect, inject, it } from "vitest";
import { describeUserDirectoryContract } from "../../core/ports/user-directory.contract.js";
import { describeUserImportContract } from "../../core/ports/user-import.contract.js";
import { aUser } from "../../core/testing/builders.js";
import type { User } from "../../core/user/user.js";
import { CognitoCalls, createCognitoClient } from "./cognito-calls.js";
import { toCreateAttributes } from "./user-mapping.js";
import { CognitoUserDirectory } from "./user-directory.js";
import { CognitoUserImport } from "./user-import.js";

const endpoint = inject("cognitoEndpoint");
const client = createCognitoClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
afterAll(() => client.destroy());

/** Meets any password policy cognito-local might apply; never a real credential. */
const PASSWORD = "Local-Passw0rd!";

let pools = 0;
interface Pool {
  readonly userPoolId: string;
  readonly clientId: string;
  close(): Promise<void>;
}

/**
 * A fresh pool shaped like the deployed one: usernames (not email) as sign-in names, the mutable custom
 * attribute `legacy_sub`, and an app client for SignUp.
 */
async function aPool(): Promise<Pool> {
  pools += 1;
  const userPoolId = await createUsernamePool(`lifecycle-${process.pid}-${pools}`);
  const { UserPoolClient } = await client.send(
    new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: "seed" }),
  );
  return {
    userPoolId,
    clientId: UserPoolClient?.ClientId ?? "",
    close: async () => void (await client.send(new DeleteUserPoolCommand({ UserPoolId: userPoolId }))),
  };
}

/**
 * CreateUserPool sent as raw JSON. cognito-local's server default (`UserPoolDefaults.UsernameAttributes:
 * ["email"]`) makes every pool sign in by email, which replaces each username by the sub, where a Cognito
 * pool uses usernames unless told otherwise. Only an explicit `null` in the request overrides that default,
 * and the SDK drops nulls, so this one request does not go through it.
 */
async function createUsernamePool(name: string): Promise<string> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AWSCognitoIdentityProviderService.CreateUserPool",
    },
    body: JSON.stringify({
      PoolName: name,
      UsernameAttributes: null,
      Schema: [{ Name: "legacy_sub", AttributeDataType: "String", Mutable: true }],
      AutoVerifiedAttributes: ["email"],
    }),
  });
  const body = (await response.json()) as { UserPool?: { Id?: string } };
  const id = body.UserPool?.Id;
  if (!response.ok || !id) throw new Error(`CreateUserPool failed with HTTP ${response.status}`);
  return id;
}

/**
 * Puts users into the pool in their status, enabled flag and groups, the way they get there in Cognito:
 * UNCONFIRMED by SignUp, FORCE_CHANGE_PASSWORD by AdminCreateUser, CONFIRMED by AdminCreateUser and a
 * permanent password. cognito-local has no way to other statuses (no AdminResetUserPassword).
 */
async function seedPool(pool: Pool, users: readonly User[]): Promise<void> {
  const groups = new Set<string>();
  for (const user of users) {
    const UserAttributes = toCreateAttributes(user);
    const { userPoolId: UserPoolId } = pool;
    const Username = user.username;
    if (user.status === "UNCONFIRMED") {
      await client.send(
        new SignUpCommand({ ClientId: pool.clientId, Username, Password: PASSWORD, UserAttributes }),
      );
    } else if (user.status === "CONFIRMED" || user.status === "FORCE_CHANGE_PASSWORD") {
      await client.send(
        new AdminCreateUserCommand({ UserPoolId, Username, UserAttributes, MessageAction: "SUPPRESS" }),
      );
      if (user.status === "CONFIRMED") {
        await client.send(
          new AdminSetUserPasswordCommand({ UserPoolId, Username, Password: PASSWORD, Permanent: true }),
        );
      }
    } else {
      throw new Error(`cognito-local cannot put a user in status ${user.status}`);
    }
    if (!user.enabled) await client.send(new AdminDisableUserCommand({ UserPoolId, Username }));
    for (const GroupName of user.groups) {
      if (!groups.has(GroupName)) {
        await client.send(new CreateGroupCommand({ UserPoolId, GroupName }));
        groups.add(GroupName);
      }
      await client.send(new AdminAddUserToGroupCommand({ UserPoolId, Username, GroupName }));
    }
  }
}

describeUserDirectoryContract(
  "Cognito (local Cognito)",
  async () => {
    const pool = await aPool();
    return {
      directory: new CognitoUserDirectory(client, pool.userPoolId),
      seed: (users) => seedPool(pool, users),
      close: pool.close,
    };
  },
  { pagination: true },
);

describeUserImportContract(
  "Cognito (local Cognito)",
  async () => {
    const pool = await aPool();
    return {
      importer: new CognitoUserImport(client, pool.userPoolId, {
        cloudWatchLogsRoleArn: "arn:aws:iam::000000000000:role/cognito-import-logs",
        // The local Cognito has no quotas, and its jobs end ~300 ms after their start: paced at Cognito's 5
        // per second (2.5 to begin with), a second start would come after the first job ended, not while it runs.
        calls: new CognitoCalls({ rateLimits: { StartUserImportJob: undefined } }),
      }),
      directory: new CognitoUserDirectory(client, pool.userPoolId),
      // Jobs run in real time on the local Cognito (well under a second for a few users).
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))),
      close: pool.close,
    };
  },
  { importJobs: true },
);

describe("CognitoUserDirectory on the local Cognito", () => {
  it("reads the seeded status, enabled flag and groups back", async () => {
    const pool = await aPool();
    try {
      const directory = new CognitoUserDirectory(client, pool.userPoolId);
      const disabled = aUser({ enabled: false, groups: ["staff"], status: "FORCE_CHANGE_PASSWORD" });
      await seedPool(pool, [disabled]);
      const found = await directory.getUser(disabled.username, { includeGroups: true });
      expect(found).toMatchObject({ status: "FORCE_CHANGE_PASSWORD", enabled: false, groups: ["staff"] });
      expect(found?.createdAt).toBeInstanceOf(Date);
    } finally {
      await pool.close();
    }
  });

  it("keeps a missing pool apart from a missing group", async () => {
    const pool = await aPool();
    await pool.close();
    const directory = new CognitoUserDirectory(client, pool.userPoolId);
    const error = await directory.addUserToGroup("someone", "admins").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ResourceNotFoundException" });
    expect(error).not.toMatchObject({ code: "DIRECTORY.GROUP_NOT_FOUND" });
  });
});
