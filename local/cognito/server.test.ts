/**
 * The local Cognito answers as Cognito documents, through the real AWS SDK client.
 */
import {
  AdminConfirmSignUpCommand,
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  AdminAddUserToGroupCommand,
  AdminListGroupsForUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  CreateUserImportJobCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserImportJobCommand,
  DescribeUserPoolCommand,
  ForgotPasswordCommand,
  GetCSVHeaderCommand,
  GetUserCommand,
  InitiateAuthCommand,
  ListGroupsCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  SignUpCommand,
  StartUserImportJobCommand,
  StopUserImportJobCommand,
  UpdateUserAttributesCommand,
  type UserImportJobType,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_CLIENT_READ_ATTRIBUTES,
  APP_CLIENT_WRITE_ATTRIBUTES,
} from "../../core/user/app-client-attributes.js";
import {
  type LambdaEndpoint,
  type LocalFunctionDefinition,
  startLambdaEndpoint,
} from "../lambda-endpoint.js";
import { type LocalCognito, startLocalCognito } from "./server.js";

const PASSWORD = "Local-Passw0rd!";
const CODE = "654321";
const ROLE = "arn:aws:iam::000000000000:role/import-logs";

let lambda: LambdaEndpoint;
let cognito: LocalCognito;
let client: CognitoIdentityProviderClient;
const received: { triggerSource: string; userName: string; callerContext: { clientId: string } }[] = [];
let failNext: string | undefined;

const functions = new Map<string, LocalFunctionDefinition>([
  [
    "post-confirmation",
    {
      timeoutMs: 5_000,
      handler: async (event) => {
        received.push(event as (typeof received)[number]);
        if (failNext) {
          const message = failNext;
          failNext = undefined;
          throw new Error(message);
        }
        return event;
      },
    },
  ],
]);

beforeAll(async () => {
  lambda = await startLambdaEndpoint({ functions });
  cognito = await startLocalCognito({
    confirmationCode: CODE,
    triggers: { PostConfirmation: "post-confirmation" },
    lambdaEndpoint: lambda.url,
    importJobs: { pendingMs: 150, stepMs: 10, rowsPerStep: 2 },
  });
  client = clientFor(cognito.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await cognito?.stop();
  await lambda?.close();
});

function clientFor(endpoint: string): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

let pools = 0;
/** A pool shaped like the deployed one and an app client with the project's read/write lists. */
async function aPool(clientOptions: { ReadAttributes?: string[]; WriteAttributes?: string[] } = {}) {
  pools += 1;
  const { UserPool } = await client.send(
    new CreateUserPoolCommand({
      PoolName: `pool-${pools}`,
      Schema: [{ Name: "legacy_sub", AttributeDataType: "String", Mutable: true }],
      AutoVerifiedAttributes: ["email"],
    }),
  );
  const UserPoolId = UserPool?.Id ?? "";
  const { UserPoolClient } = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId,
      ClientName: "app",
      ReadAttributes: [...APP_CLIENT_READ_ATTRIBUTES],
      WriteAttributes: [...APP_CLIENT_WRITE_ATTRIBUTES],
      ...clientOptions,
    }),
  );
  return { UserPoolId, ClientId: UserPoolClient?.ClientId ?? "" };
}

const signUp = (ClientId: string, Username: string, extra: { Name: string; Value: string }[] = []) =>
  client.send(
    new SignUpCommand({
      ClientId,
      Username,
      Password: PASSWORD,
      UserAttributes: [{ Name: "email", Value: `${Username}@example.com` }, ...extra],
    }),
  );

const statusOf = async (UserPoolId: string, Username: string) =>
  (await client.send(new AdminGetUserCommand({ UserPoolId, Username }))).UserStatus;

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error as { name: string; message: string; $metadata?: { httpStatusCode?: number } },
  );

describe("Post Confirmation on the local Cognito", () => {
  it("fires on ConfirmSignUp with the app client, on AdminConfirmSignUp without one, never on AdminCreateUser", async () => {
    const { UserPoolId, ClientId } = await aPool();
    received.length = 0;
    await signUp(ClientId, "ann");
    await client.send(new ConfirmSignUpCommand({ ClientId, Username: "ann", ConfirmationCode: CODE }));
    await signUp(ClientId, "ben");
    await client.send(new AdminConfirmSignUpCommand({ UserPoolId, Username: "ben" }));
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId,
        Username: "cat",
        MessageAction: "SUPPRESS",
        UserAttributes: [{ Name: "email", Value: "cat@example.com" }],
      }),
    );
    expect(
      received.map((event) => [event.triggerSource, event.userName, event.callerContext.clientId]),
    ).toEqual([
      ["PostConfirmation_ConfirmSignUp", "ann", ClientId],
      ["PostConfirmation_ConfirmSignUp", "ben", "CLIENT_ID_NOT_APPLICABLE"],
    ]);
    expect(received[0]).toMatchObject({
      version: "1",
      userPoolId: UserPoolId,
      request: { userAttributes: { email: "ann@example.com" } },
    });
    expect(await statusOf(UserPoolId, "ben")).toBe("CONFIRMED");
  });

  it("fires PostConfirmation_ConfirmForgotPassword when a forgotten password is confirmed", async () => {
    const { UserPoolId, ClientId } = await aPool();
    await signUp(ClientId, "dan");
    await client.send(new AdminConfirmSignUpCommand({ UserPoolId, Username: "dan" }));
    received.length = 0;
    await client.send(new ForgotPasswordCommand({ ClientId, Username: "dan" }));
    await client.send(
      new ConfirmForgotPasswordCommand({
        ClientId,
        Username: "dan",
        ConfirmationCode: CODE,
        Password: `${PASSWORD}2`,
      }),
    );
    expect(received.map((event) => event.triggerSource)).toEqual(["PostConfirmation_ConfirmForgotPassword"]);
  });

  it("gives a function error to the caller as UserLambdaValidationException; the user stays CONFIRMED", async () => {
    const { UserPoolId, ClientId } = await aPool();
    await signUp(ClientId, "eve");
    failNext = "profile store down";
    const error = await failure(
      client.send(new ConfirmSignUpCommand({ ClientId, Username: "eve", ConfirmationCode: CODE })),
    );
    expect(error).toMatchObject({
      name: "UserLambdaValidationException",
      message: "PostConfirmation failed with error profile store down.",
    });
    expect(await statusOf(UserPoolId, "eve")).toBe("CONFIRMED");
  });
});

describe("the app client's attribute lists on the local Cognito", () => {
  it("refuse a SignUp that writes custom:legacy_sub (or sub), with Cognito's error, creating nobody", async () => {
    const { UserPoolId, ClientId } = await aPool();
    for (const attribute of ["custom:legacy_sub", "sub", "email_verified"]) {
      const error = await failure(
        signUp(ClientId, "mallory", [{ Name: attribute, Value: "11111111-2222-4333-8444-555555555555" }]),
      );
      expect(error).toMatchObject({
        name: "NotAuthorizedException",
        message: "A client attempted to write unauthorized attribute",
      });
    }
    const { Users = [] } = await client.send(new ListUsersCommand({ UserPoolId }));
    expect(Users).toEqual([]);
  });

  it("refuse an UpdateUserAttributes that writes custom:legacy_sub; allow a writable one", async () => {
    const { UserPoolId, ClientId } = await aPool();
    await signUp(ClientId, "fay");
    await client.send(new AdminConfirmSignUpCommand({ UserPoolId, Username: "fay" }));
    const { AuthenticationResult } = await client.send(
      new InitiateAuthCommand({
        ClientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: "fay", PASSWORD },
      }),
    );
    const AccessToken = AuthenticationResult?.AccessToken ?? "";
    const error = await failure(
      client.send(
        new UpdateUserAttributesCommand({
          AccessToken,
          UserAttributes: [{ Name: "custom:legacy_sub", Value: "11111111-2222-4333-8444-555555555555" }],
        }),
      ),
    );
    expect(error).toMatchObject({ name: "NotAuthorizedException" });
    await client.send(
      new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: "name", Value: "Fay" }] }),
    );
    const { UserAttributes = [] } = await client.send(
      new AdminGetUserCommand({ UserPoolId, Username: "fay" }),
    );
    expect(UserAttributes.find((a) => a.Name === "custom:legacy_sub")).toBeUndefined();
    expect(UserAttributes.find((a) => a.Name === "name")?.Value).toBe("Fay");
  });

  it("give GetUser only the client's readable attributes; admin calls see all", async () => {
    const { UserPoolId, ClientId } = await aPool({ ReadAttributes: ["email"] });
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId,
        Username: "gus",
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: "gus@example.com" },
          { Name: "name", Value: "Gus" },
          { Name: "custom:legacy_sub", Value: "11111111-2222-4333-8444-555555555555" },
        ],
      }),
    );
    await client.send(
      new AdminSetUserPasswordCommand({ UserPoolId, Username: "gus", Password: PASSWORD, Permanent: true }),
    );
    const { AuthenticationResult } = await client.send(
      new InitiateAuthCommand({
        ClientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: "gus", PASSWORD },
      }),
    );
    const user = await client.send(
      new GetUserCommand({ AccessToken: AuthenticationResult?.AccessToken ?? "" }),
    );
    expect((user.UserAttributes ?? []).map((a) => a.Name).sort()).toEqual(["email", "sub"]);
    const { Users = [] } = await client.send(new ListUsersCommand({ UserPoolId }));
    expect(Users[0]?.Attributes?.map((a) => a.Name)).toContain("custom:legacy_sub");
  });
});

describe("attribute limits on the local Cognito", () => {
  it("refuse a value over 2,048 characters, sub, an undeclared custom attribute and a name over 32 characters", async () => {
    const { UserPoolId, ClientId } = await aPool({ WriteAttributes: undefined });
    const tooLong = await failure(signUp(ClientId, "hal", [{ Name: "name", Value: "x".repeat(2049) }]));
    expect(tooLong).toMatchObject({ name: "InvalidParameterException" });
    expect(tooLong.message).toMatch(/less than or equal to 2048/);
    const admin = await failure(
      client.send(
        new AdminCreateUserCommand({
          UserPoolId,
          Username: "hal",
          UserAttributes: [{ Name: "name", Value: "x".repeat(2049) }],
        }),
      ),
    );
    expect(admin).toMatchObject({ name: "InvalidParameterException" });
    const sub = await failure(
      client.send(
        new AdminCreateUserCommand({
          UserPoolId,
          Username: "hal",
          UserAttributes: [{ Name: "sub", Value: "11111111-2222-4333-8444-555555555555" }],
        }),
      ),
    );
    expect(sub).toMatchObject({ name: "InvalidParameterException" });
    const undeclared = await failure(signUp(ClientId, "hal", [{ Name: "custom:nope", Value: "1" }]));
    expect(undeclared).toMatchObject({ name: "InvalidParameterException" });
    const longName = await failure(
      signUp(ClientId, "hal", [{ Name: `custom:${"n".repeat(26)}`, Value: "1" }]),
    );
    expect(longName).toMatchObject({ name: "InvalidParameterException" });
    await signUp(ClientId, "hal", [{ Name: "name", Value: "x".repeat(2048) }]);
  });

  it("refuse an attribute that is in no schema (__proto__, an unprefixed custom name), for every caller, creating nobody", async () => {
    const { UserPoolId, ClientId } = await aPool({ WriteAttributes: undefined });
    for (const Name of ["__proto__", "constructor", "favorite_flavor", "legacy_sub"]) {
      // Cognito: "Attributes did not conform to the schema: favorite_flavor: Attribute does not exist in the
      // schema." (reported for SignUp in aws-amplify/amplify-js#2167).
      const bySignUp = await failure(signUp(ClientId, "ivy", [{ Name, Value: "x" }]));
      expect(bySignUp).toMatchObject({
        name: "InvalidParameterException",
        message: `Attributes did not conform to the schema: ${Name}: Attribute does not exist in the schema.`,
      });
      const byAdmin = await failure(
        client.send(
          new AdminCreateUserCommand({
            UserPoolId,
            Username: "ivy",
            MessageAction: "SUPPRESS",
            UserAttributes: [{ Name, Value: "x" }],
          }),
        ),
      );
      expect(byAdmin).toMatchObject({ name: "InvalidParameterException" });
    }
    expect((await client.send(new ListUsersCommand({ UserPoolId }))).Users).toEqual([]);
    await signUp(ClientId, "ivy", [
      { Name: "custom:legacy_sub", Value: "x" },
      { Name: "locale", Value: "fr" },
    ]);
  });

  it("refuse a phone number that is not + and the digits of an E.164 number", async () => {
    const { UserPoolId, ClientId } = await aPool({ WriteAttributes: undefined });
    // Cognito: InvalidParameterException "Invalid phone number format." (the attributes guide: a plus sign, the
    // country code, digits only).
    for (const Value of ["0612345678", "+1 555 555 5555", "+1-555-555-5555", "15555555555", "+"]) {
      const bySignUp = await failure(signUp(ClientId, "jo", [{ Name: "phone_number", Value }]));
      expect(bySignUp).toMatchObject({
        name: "InvalidParameterException",
        message: "Invalid phone number format.",
      });
      const byAdmin = await failure(
        client.send(
          new AdminCreateUserCommand({
            UserPoolId,
            Username: "jo",
            MessageAction: "SUPPRESS",
            UserAttributes: [{ Name: "phone_number", Value }],
          }),
        ),
      );
      expect(byAdmin).toMatchObject({ message: "Invalid phone number format." });
    }
    await signUp(ClientId, "jo", [{ Name: "phone_number", Value: "+15555555555" }]);
  });
});

describe("names that are properties of every object, on the local Cognito", () => {
  it("finds no user named constructor, toString or __proto__ until one is created; then finds that one", async () => {
    const { UserPoolId, ClientId } = await aPool();
    for (const Username of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
      const missing = await failure(client.send(new AdminGetUserCommand({ UserPoolId, Username })));
      expect(missing).toMatchObject({ name: "UserNotFoundException" });
    }
    const noClient = await failure(signUp("constructor", "kim"));
    expect(noClient).toMatchObject({ name: "ResourceNotFoundException" });
    await client.send(
      new AdminCreateUserCommand({ UserPoolId, Username: "constructor", MessageAction: "SUPPRESS" }),
    );
    expect(await statusOf(UserPoolId, "constructor")).toBe("FORCE_CHANGE_PASSWORD");
    const missing = await failure(client.send(new AdminGetUserCommand({ UserPoolId, Username: "toString" })));
    expect(missing).toMatchObject({ name: "UserNotFoundException" });
    await signUp(ClientId, "toString");
    const listed = (await client.send(new ListUsersCommand({ UserPoolId }))).Users?.map(
      (user) => user.Username,
    );
    expect(listed?.sort()).toEqual(["constructor", "toString"]);
  });
});

describe("disabled users on the local Cognito", () => {
  it("cannot sign in or reset a password: NotAuthorizedException User is disabled.", async () => {
    const { UserPoolId, ClientId } = await aPool();
    await signUp(ClientId, "ida");
    await client.send(new AdminConfirmSignUpCommand({ UserPoolId, Username: "ida" }));
    await client.send(new AdminDisableUserCommand({ UserPoolId, Username: "ida" }));
    const signIn = await failure(
      client.send(
        new InitiateAuthCommand({
          ClientId,
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: "ida", PASSWORD },
        }),
      ),
    );
    expect(signIn).toMatchObject({ name: "NotAuthorizedException", message: "User is disabled." });
    const reset = await failure(client.send(new ForgotPasswordCommand({ ClientId, Username: "ida" })));
    expect(reset).toMatchObject({ name: "NotAuthorizedException", message: "User is disabled." });
  });

  it("cannot confirm a sign-up by default: refused, stays UNCONFIRMED, no trigger", async () => {
    const { UserPoolId, ClientId } = await aPool();
    await signUp(ClientId, "jon");
    await client.send(new AdminDisableUserCommand({ UserPoolId, Username: "jon" }));
    received.length = 0;
    const error = await failure(
      client.send(new ConfirmSignUpCommand({ ClientId, Username: "jon", ConfirmationCode: CODE })),
    );
    expect(error).toMatchObject({ name: "NotAuthorizedException", message: "User is disabled." });
    expect(await statusOf(UserPoolId, "jon")).toBe("UNCONFIRMED");
    expect(received).toEqual([]);
  });

  it("confirms a disabled user's sign-up when configured to (disabledConfirmSignUp: confirm)", async () => {
    const other = await startLocalCognito({ confirmationCode: CODE, disabledConfirmSignUp: "confirm" });
    const otherClient = clientFor(other.endpoint);
    try {
      const { UserPool } = await otherClient.send(new CreateUserPoolCommand({ PoolName: "p" }));
      const UserPoolId = UserPool?.Id ?? "";
      const { UserPoolClient } = await otherClient.send(
        new CreateUserPoolClientCommand({ UserPoolId, ClientName: "c" }),
      );
      const ClientId = UserPoolClient?.ClientId ?? "";
      await otherClient.send(
        new SignUpCommand({
          ClientId,
          Username: "kim",
          Password: PASSWORD,
          UserAttributes: [{ Name: "email", Value: "k@example.com" }],
        }),
      );
      await otherClient.send(new AdminDisableUserCommand({ UserPoolId, Username: "kim" }));
      await otherClient.send(new ConfirmSignUpCommand({ ClientId, Username: "kim", ConfirmationCode: CODE }));
      const user = await otherClient.send(new AdminGetUserCommand({ UserPoolId, Username: "kim" }));
      expect(user).toMatchObject({ UserStatus: "CONFIRMED", Enabled: false });
    } finally {
      otherClient.destroy();
      await other.stop();
    }
  });
});

describe("ListUsers on the local Cognito", () => {
  let UserPoolId = "";
  let ClientId = "";
  const names = ["u1", "u2", "u3", "u4", "u5", "u6", "u7"];
  beforeAll(async () => {
    ({ UserPoolId, ClientId } = await aPool());
    for (const name of names) await signUp(ClientId, name);
    await client.send(new AdminConfirmSignUpCommand({ UserPoolId, Username: "u1" }));
    await client.send(new AdminDisableUserCommand({ UserPoolId, Username: "u2" }));
  });

  const list = (input: { Limit?: number; PaginationToken?: string; Filter?: string; UserPoolId?: string }) =>
    client.send(new ListUsersCommand({ UserPoolId, ...input }));

  it("pages by Limit with a token, every user exactly once", async () => {
    const seen: string[] = [];
    let PaginationToken: string | undefined;
    let pages = 0;
    do {
      const page = await list({ Limit: 3, ...(PaginationToken ? { PaginationToken } : {}) });
      expect((page.Users ?? []).length).toBeLessThanOrEqual(3);
      seen.push(...(page.Users ?? []).map((user) => user.Username ?? ""));
      PaginationToken = page.PaginationToken;
      pages += 1;
    } while (PaginationToken);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(names);
  });

  it("refuses a Limit over 60 with Cognito's validation error", async () => {
    const error = await failure(list({ Limit: 61 }));
    expect(error).toMatchObject({ name: "InvalidParameterException" });
    expect(error.message).toMatch(/Member must have value less than or equal to 60/);
  });

  it("refuses a forged, foreign, other-filter or expired token with InvalidParameterException", async () => {
    const { PaginationToken = "" } = await list({ Limit: 2 });
    const other = await aPool();
    await signUp(other.ClientId, "z1");
    for (const attempt of [
      list({ PaginationToken: `${PaginationToken}x` }),
      list({ PaginationToken: "not-a-token" }),
      list({ PaginationToken, UserPoolId: other.UserPoolId }),
      list({ PaginationToken, Filter: 'cognito:user_status = "UNCONFIRMED"' }),
    ]) {
      const error = await failure(attempt);
      expect(error).toMatchObject({ name: "InvalidParameterException" });
      expect(error.message).toMatch(/Paging marker .* is invalid/);
    }
    const short = await startLocalCognito({ pageTokenTtlMs: 1 });
    const shortClient = clientFor(short.endpoint);
    try {
      const { UserPool } = await shortClient.send(new CreateUserPoolCommand({ PoolName: "p" }));
      const id = UserPool?.Id ?? "";
      for (const name of ["a", "b"]) {
        await shortClient.send(
          new AdminCreateUserCommand({ UserPoolId: id, Username: name, MessageAction: "SUPPRESS" }),
        );
      }
      const first = await shortClient.send(new ListUsersCommand({ UserPoolId: id, Limit: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 10));
      const expired = await failure(
        shortClient.send(
          new ListUsersCommand({ UserPoolId: id, Limit: 1, PaginationToken: first.PaginationToken ?? "" }),
        ),
      );
      expect(expired).toMatchObject({ name: "InvalidParameterException" });
    } finally {
      shortClient.destroy();
      await short.stop();
    }
  });

  it('filters by sub ^= "<prefix>", cognito:user_status, status and username', async () => {
    const all = (await list({})).Users ?? [];
    const subOf = (user: (typeof all)[number]) => user.Attributes?.find((a) => a.Name === "sub")?.Value ?? "";
    for (const prefix of ["a", "0", (subOf(all[0]!) ?? "").slice(0, 3)]) {
      const expected = all
        .filter((user) => subOf(user).startsWith(prefix))
        .map((user) => user.Username)
        .sort();
      const got = ((await list({ Filter: `sub ^= "${prefix}"` })).Users ?? [])
        .map((user) => user.Username)
        .sort();
      expect(got).toEqual(expected);
    }
    const usernames = async (Filter: string) =>
      ((await list({ Filter })).Users ?? []).map((u) => u.Username).sort();
    expect(await usernames('cognito:user_status = "CONFIRMED"')).toEqual(["u1"]);
    expect(await usernames('cognito:user_status = "unconfirmed"')).toEqual(names.filter((n) => n !== "u1"));
    expect(await usernames('status = "Disabled"')).toEqual(["u2"]);
    expect(await usernames('status = "Enabled"')).toEqual(names.filter((n) => n !== "u2"));
    expect(await usernames('username = "u3"')).toEqual(["u3"]);
    expect(await usernames('username = "U3"')).toEqual([]);
    expect(await usernames('email ^= "u5@"')).toEqual(["u5"]);
  });

  it("refuses a filter on a custom attribute, or one that does not parse, with Cognito's error", async () => {
    const custom = await failure(list({ Filter: 'custom:legacy_sub = "x"' }));
    expect(custom).toMatchObject({ name: "InvalidParameterException" });
    for (const Filter of ['__proto__ = "a"', 'constructor = "a"', 'toString ^= ""', 'hasOwnProperty = "x"']) {
      // Not a searchable attribute (an inherited property name is no exception): refused, never a bare HTTP 500.
      const error = await failure(list({ Filter }));
      expect(error).toMatchObject({ name: "InvalidParameterException" });
    }
    // The API reference: Filter is at most 256 characters.
    const long = await failure(list({ Filter: `email = "${"a".repeat(247)}"` }));
    expect(long).toMatchObject({ name: "InvalidParameterException" });
    expect(long.message).toMatch(/'filter'.*less than or equal to 256/);
    await list({ Filter: `email = "${"a".repeat(246)}"` });
    for (const Filter of ['sub ~= "a"', "sub = a", 'sub = "a" and email = "b"', '= "a"']) {
      const error = await failure(list({ Filter }));
      expect(error).toMatchObject({
        name: "InvalidParameterException",
        message: "Error while parsing filter.",
      });
    }
  });

  it("estimates the pool's users (DescribeUserPool)", async () => {
    const { UserPool } = await client.send(new DescribeUserPoolCommand({ UserPoolId }));
    expect(UserPool?.EstimatedNumberOfUsers).toBe(names.length);
  });
});

describe("groups on the local Cognito", () => {
  it("ListGroups, ListUsersInGroup and AdminListGroupsForUser page; CreateGroup refuses an existing group", async () => {
    const { UserPoolId, ClientId } = await aPool();
    for (const name of ["m1", "m2", "m3"]) await signUp(ClientId, name);
    for (const GroupName of ["g1", "g2", "g3"]) {
      await client.send(new CreateGroupCommand({ UserPoolId, GroupName, Description: GroupName }));
      for (const Username of ["m1", "m2", "m3"]) {
        await client.send(new AdminAddUserToGroupCommand({ UserPoolId, Username, GroupName }));
      }
    }
    const again = await failure(
      client.send(new CreateGroupCommand({ UserPoolId, GroupName: "g1", Description: "changed" })),
    );
    expect(again).toMatchObject({ name: "GroupExistsException" });

    const groups = await client.send(new ListGroupsCommand({ UserPoolId, Limit: 2 }));
    expect(groups.Groups?.map((g) => [g.GroupName, g.Description])).toEqual([
      ["g1", "g1"],
      ["g2", "g2"],
    ]);
    const rest = await client.send(
      new ListGroupsCommand({ UserPoolId, Limit: 2, NextToken: groups.NextToken ?? "" }),
    );
    expect(rest.Groups?.map((g) => g.GroupName)).toEqual(["g3"]);
    expect(rest.NextToken).toBeUndefined();

    const members = await client.send(new ListUsersInGroupCommand({ UserPoolId, GroupName: "g2", Limit: 2 }));
    expect(members.Users?.map((u) => u.Username)).toEqual(["m1", "m2"]);
    const moreMembers = await client.send(
      new ListUsersInGroupCommand({
        UserPoolId,
        GroupName: "g2",
        Limit: 2,
        NextToken: members.NextToken ?? "",
      }),
    );
    expect(moreMembers.Users?.map((u) => u.Username)).toEqual(["m3"]);
    const wrongGroup = await failure(
      client.send(
        new ListUsersInGroupCommand({ UserPoolId, GroupName: "g3", NextToken: members.NextToken ?? "" }),
      ),
    );
    expect(wrongGroup).toMatchObject({ name: "InvalidParameterException" });

    const mine = await client.send(
      new AdminListGroupsForUserCommand({ UserPoolId, Username: "m3", Limit: 1 }),
    );
    expect(mine.Groups?.map((g) => g.GroupName)).toEqual(["g1"]);
    expect(mine.NextToken).toBeDefined();
  });
});

describe("user import jobs on the local Cognito", () => {
  async function untilDone(UserPoolId: string, JobId: string): Promise<UserImportJobType> {
    const seen = new Set<string>();
    for (let look = 0; look < 500; look++) {
      const { UserImportJob } = await client.send(new DescribeUserImportJobCommand({ UserPoolId, JobId }));
      seen.add(UserImportJob?.Status ?? "");
      if (["Succeeded", "Failed", "Stopped", "Expired"].includes(UserImportJob?.Status ?? "")) {
        return { ...UserImportJob, Status: UserImportJob?.Status, JobName: [...seen].join(",") };
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("the job did not end");
  }

  async function aJob(
    UserPoolId: string,
    csv: string,
    headers: Record<string, string> = { "x-amz-server-side-encryption": "aws:kms" },
  ) {
    const { UserImportJob } = await client.send(
      new CreateUserImportJobCommand({ UserPoolId, JobName: "restore", CloudWatchLogsRoleArn: ROLE }),
    );
    const upload = await fetch(UserImportJob?.PreSignedUrl ?? "", { method: "PUT", headers, body: csv });
    return { job: UserImportJob!, upload };
  }

  it("imports a user named constructor; fails (never the whole job) a row it cannot store or Cognito refuses: __proto__, a username over 128 characters", async () => {
    const { UserPoolId } = await aPool();
    const { CSVHeader = [] } = await client.send(new GetCSVHeaderCommand({ UserPoolId }));
    const row = (username: string) =>
      CSVHeader.map(
        (column) =>
          ({
            "cognito:username": username,
            "cognito:mfa_enabled": "false",
            email: "x@example.com",
            email_verified: "true",
          })[column] ?? "",
      ).join(",");
    const csv = [CSVHeader.join(","), row("constructor"), row("__proto__"), row("u".repeat(129)), row("fin")];
    const { job } = await aJob(UserPoolId, csv.join("\n"));
    await client.send(new StartUserImportJobCommand({ UserPoolId, JobId: job.JobId }));
    const done = await untilDone(UserPoolId, job.JobId ?? "");
    expect(done).toMatchObject({ Status: "Succeeded", ImportedUsers: 2, FailedUsers: 2 });
    expect(cognito.importLog(job.JobId ?? "").map((entry) => entry.line)).toEqual([3, 4]);
    expect(await statusOf(UserPoolId, "constructor")).toBe("RESET_REQUIRED");
    expect(await statusOf(UserPoolId, "fin")).toBe("RESET_REQUIRED");
  });

  it("refuses a username over 128 characters in SignUp and AdminCreateUser, as the API's validation does", async () => {
    const { UserPoolId, ClientId } = await aPool();
    const long = "u".repeat(129);
    const bySignUp = await failure(signUp(ClientId, long));
    expect(bySignUp).toMatchObject({ name: "InvalidParameterException" });
    expect(bySignUp.message).toMatch(/'username'.*less than or equal to 128/);
    const byAdmin = await failure(
      client.send(new AdminCreateUserCommand({ UserPoolId, Username: long, MessageAction: "SUPPRESS" })),
    );
    expect(byAdmin).toMatchObject({ name: "InvalidParameterException" });
    await signUp(ClientId, "u".repeat(128));
  });

  it("imports a CSV end to end: header, pre-signed PUT, states, RESET_REQUIRED users, rejected rows with reasons", async () => {
    const { UserPoolId } = await aPool();
    const { CSVHeader = [] } = await client.send(new GetCSVHeaderCommand({ UserPoolId }));
    expect(CSVHeader).toEqual(
      expect.arrayContaining([
        "cognito:username",
        "cognito:mfa_enabled",
        "email",
        "email_verified",
        "custom:legacy_sub",
      ]),
    );
    const row = (values: Record<string, string>) => CSVHeader.map((column) => values[column] ?? "").join(",");
    const ok = { "cognito:mfa_enabled": "false", email_verified: "true" };
    const csv = [
      CSVHeader.join(","),
      row({
        ...ok,
        "cognito:username": "ann",
        email: "ann@example.com",
        name: "Ann\\, the first",
        "custom:legacy_sub": "11111111-2222-4333-8444-555555555555",
      }),
      row({
        ...ok,
        "cognito:username": "bob",
        email: "bob@example.com",
        phone_number: "+4915112345678",
        phone_number_verified: "true",
      }),
      row({ ...ok, "cognito:username": "has space", email: "x@example.com" }),
      row({ ...ok, "cognito:username": "ann", email: "ann2@example.com" }),
      row({ ...ok, "cognito:username": "cid", email: "cid@example.com", phone_number: "015112345678" }),
      row({ ...ok, "cognito:username": "dee", email: "dee@example.com", email_verified: "false" }),
      row({ "cognito:username": "eli", email: "eli@example.com", email_verified: "true" }),
    ].join("\n");

    const refused = await aJob(UserPoolId, csv, { "content-type": "text/csv" });
    expect(refused.upload.status).toBe(403);
    expect(await refused.upload.text()).toContain("<Code>SignatureDoesNotMatch</Code>");

    const { job, upload } = await aJob(UserPoolId, csv);
    expect(upload.status).toBe(200);
    expect(job.Status).toBe("Created");
    const started = await client.send(new StartUserImportJobCommand({ UserPoolId, JobId: job.JobId ?? "" }));
    expect(started.UserImportJob?.Status).toBe("Pending");
    const done = await untilDone(UserPoolId, job.JobId ?? "");
    expect(done.JobName).toContain("InProgress");
    expect(done).toMatchObject({ Status: "Succeeded", ImportedUsers: 2, FailedUsers: 5, SkippedUsers: 0 });
    expect(cognito.importLog(job.JobId ?? "").map((entry) => [entry.line, entry.reason])).toEqual([
      [4, "cognito:username contains whitespace"],
      [5, "cognito:username appears more than once in the file"],
      [6, "phone_number is not in E.164 format"],
      [7, expect.stringMatching(/no verified contact/)],
      [8, "cognito:mfa_enabled must be true or false"],
    ]);
    const ann = await client.send(new AdminGetUserCommand({ UserPoolId, Username: "ann" }));
    expect(ann.UserStatus).toBe("RESET_REQUIRED");
    expect(ann.Enabled).toBe(true);
    const attribute = (name: string) => ann.UserAttributes?.find((a) => a.Name === name)?.Value;
    expect(attribute("name")).toBe("Ann, the first");
    expect(attribute("custom:legacy_sub")).toBe("11111111-2222-4333-8444-555555555555");
    expect(attribute("sub")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("runs one job at a time per account, and stops a running job", async () => {
    const first = await aPool();
    const second = await aPool();
    const { CSVHeader = [] } = await client.send(new GetCSVHeaderCommand({ UserPoolId: first.UserPoolId }));
    const rows = Array.from({ length: 40 }, (_, i) =>
      CSVHeader.map(
        (c) =>
          ({
            "cognito:username": `p${i}`,
            "cognito:mfa_enabled": "false",
            email: `p${i}@example.com`,
            email_verified: "true",
          })[c] ?? "",
      ).join(","),
    );
    const csv = [CSVHeader.join(","), ...rows].join("\n");
    const a = await aJob(first.UserPoolId, csv);
    const b = await aJob(second.UserPoolId, csv);
    await client.send(
      new StartUserImportJobCommand({ UserPoolId: first.UserPoolId, JobId: a.job.JobId ?? "" }),
    );
    const refused = await failure(
      client.send(new StartUserImportJobCommand({ UserPoolId: second.UserPoolId, JobId: b.job.JobId ?? "" })),
    );
    expect(refused).toMatchObject({ name: "PreconditionNotMetException" });
    // Let it get going, then stop it.
    for (let look = 0; look < 100; look++) {
      const { UserImportJob } = await client.send(
        new DescribeUserImportJobCommand({ UserPoolId: first.UserPoolId, JobId: a.job.JobId ?? "" }),
      );
      if (UserImportJob?.Status === "InProgress") break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const stopping = await client.send(
      new StopUserImportJobCommand({ UserPoolId: first.UserPoolId, JobId: a.job.JobId ?? "" }),
    );
    expect(stopping.UserImportJob?.Status).toBe("Stopping");
    const stopped = await untilDone(first.UserPoolId, a.job.JobId ?? "");
    expect(stopped.Status).toBe("Stopped");
    expect(stopped.ImportedUsers).toBeLessThan(40);
    // Now the other job may run.
    await client.send(
      new StartUserImportJobCommand({ UserPoolId: second.UserPoolId, JobId: b.job.JobId ?? "" }),
    );
    expect(await untilDone(second.UserPoolId, b.job.JobId ?? "")).toMatchObject({
      Status: "Succeeded",
      ImportedUsers: 40,
    });
  });

  it("needs the pool's auto-verified contact verified in each row, and a pool that has one", async () => {
    const { UserPoolId } = await aPool();
    const { CSVHeader = [] } = await client.send(new GetCSVHeaderCommand({ UserPoolId }));
    const row = (values: Record<string, string>) => CSVHeader.map((column) => values[column] ?? "").join(",");
    const phoneOnly = {
      "cognito:username": "pat",
      "cognito:mfa_enabled": "false",
      email: "pat@example.com",
      email_verified: "false",
      phone_number: "+4915112345678",
      phone_number_verified: "true",
    };
    const { job } = await aJob(UserPoolId, [CSVHeader.join(","), row(phoneOnly)].join("\n"));
    await client.send(new StartUserImportJobCommand({ UserPoolId, JobId: job.JobId ?? "" }));
    expect(await untilDone(UserPoolId, job.JobId ?? "")).toMatchObject({
      Status: "Succeeded",
      FailedUsers: 1,
    });
    expect(cognito.importLog(job.JobId ?? "")[0]?.reason).toBe(
      "no verified contact: email with email_verified true",
    );

    const { UserPool } = await client.send(new CreateUserPoolCommand({ PoolName: "no-auto-verify" }));
    const bare = UserPool?.Id ?? "";
    const other = await aJob(
      bare,
      [CSVHeader.filter((c) => !c.startsWith("custom:")).join(","), ""].join("\n"),
    );
    await client.send(new StartUserImportJobCommand({ UserPoolId: bare, JobId: other.job.JobId ?? "" }));
    const failed = await untilDone(bare, other.job.JobId ?? "");
    expect(failed).toMatchObject({ Status: "Failed", ImportedUsers: 0 });
    expect(failed.CompletionMessage).toMatch(/auto-verified/);
  });

  it("expires a job that is never started", async () => {
    const short = await startLocalCognito({ importJobs: { expiresAfterMs: 1 } });
    const shortClient = clientFor(short.endpoint);
    try {
      const { UserPool } = await shortClient.send(new CreateUserPoolCommand({ PoolName: "p" }));
      const UserPoolId = UserPool?.Id ?? "";
      const { UserImportJob } = await shortClient.send(
        new CreateUserImportJobCommand({ UserPoolId, JobName: "late", CloudWatchLogsRoleArn: ROLE }),
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
      const JobId = UserImportJob?.JobId ?? "";
      const described = await shortClient.send(new DescribeUserImportJobCommand({ UserPoolId, JobId }));
      expect(described.UserImportJob?.Status).toBe("Expired");
      const start = await failure(shortClient.send(new StartUserImportJobCommand({ UserPoolId, JobId })));
      expect(start).toMatchObject({ name: "PreconditionNotMetException" });
    } finally {
      shortClient.destroy();
      await short.stop();
    }
  });

  it("fails a job whose header is not the pool's, and names an unknown job", async () => {
    const { UserPoolId } = await aPool();
    const { job } = await aJob(UserPoolId, "cognito:username,email\nann,ann@example.com\n");
    await client.send(new StartUserImportJobCommand({ UserPoolId, JobId: job.JobId ?? "" }));
    const failed = await untilDone(UserPoolId, job.JobId ?? "");
    expect(failed.Status).toBe("Failed");
    expect(failed.CompletionMessage).toMatch(/header/);
    const unknown = await failure(
      client.send(new DescribeUserImportJobCommand({ UserPoolId, JobId: "import-nope" })),
    );
    expect(unknown).toMatchObject({ name: "ResourceNotFoundException" });
  });
});

describe("the local Cognito's edges", () => {
  it("answers an operation it does not implement with Cognito's error shape naming it", async () => {
    const response = await fetch(cognito.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AWSCognitoIdentityProviderService.AdminResetUserPassword",
      },
      body: JSON.stringify({ UserPoolId: "local_x", Username: "a" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      __type: "UnsupportedOperationException",
      message: "The local Cognito does not implement AdminResetUserPassword",
    });
  });

  it("listens on 127.0.0.1 only, and stops", async () => {
    const other = await startLocalCognito();
    expect(new URL(other.endpoint).hostname).toBe("127.0.0.1");
    await other.stop();
    await expect(fetch(`${other.endpoint}/health`)).rejects.toThrow();
  });
});
