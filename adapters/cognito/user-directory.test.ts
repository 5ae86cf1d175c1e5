import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  DescribeUserPoolCommand,
  GroupExistsException,
  InvalidParameterException,
  ListGroupsCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  type UserType,
  UsernameExistsException,
  UserNotFoundException,
} from "@aws-sdk/client-cognito-identity-provider";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { allUsers } from "../../core/ports/user-directory.js";
import { aUser } from "../../core/testing/builders.js";
import { ManualClock } from "../in-memory/clock.js";
import { withCallDeadline } from "../shared/call-deadline.js";
import { CognitoCalls, type CognitoPacingOptions } from "./cognito-calls.js";
import { CognitoUserDirectory } from "./user-directory.js";

const POOL = "us-east-1_TestPool1";
const cognito = mockClient(CognitoIdentityProviderClient);
const meta = { $metadata: {} };

beforeEach(() => {
  cognito.reset();
});

/** A directory on the mocked client, paced by a manual clock: waits move the clock, never real time. */
function aDirectory(pacing: CognitoPacingOptions = {}) {
  const clock = new ManualClock();
  const sleeps: number[] = [];
  const calls = new CognitoCalls({
    clock,
    sleeper: { sleep: async (ms) => (sleeps.push(ms), clock.sleep(ms)) },
    random: () => 0.5,
    ...pacing,
  });
  const directory = new CognitoUserDirectory(
    new CognitoIdentityProviderClient({ region: "us-east-1" }),
    POOL,
    {
      calls,
    },
  );
  return { directory, clock, sleeps, calls };
}

function wireUser(username: string, status = "CONFIRMED", extra: Partial<UserType> = {}): UserType {
  return {
    Username: username,
    Attributes: [
      { Name: "sub", Value: `sub-of-${username}` },
      { Name: "email", Value: `${username}@example.com` },
    ],
    Enabled: true,
    UserStatus: status as UserType["UserStatus"],
    UserCreateDate: new Date("2026-01-01T00:00:00Z"),
    UserLastModifiedDate: new Date("2026-01-02T00:00:00Z"),
    ...extra,
  };
}

describe("CognitoUserDirectory.listUsers", () => {
  it("walks short and empty pages to the end with the status filter and the token of each page", async () => {
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({
        Users: [wireUser("a", "UNCONFIRMED"), wireUser("b", "UNCONFIRMED")],
        PaginationToken: "t1",
      })
      .resolvesOnce({ Users: [], PaginationToken: "t2" })
      .resolvesOnce({ Users: [wireUser("c", "UNCONFIRMED")] });
    const { directory } = aDirectory();
    const seen: string[] = [];
    for await (const user of allUsers(directory, { status: "UNCONFIRMED" })) seen.push(user.username);
    expect(seen).toEqual(["a", "b", "c"]);
    const inputs = cognito.commandCalls(ListUsersCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      { UserPoolId: POOL, Limit: 60, Filter: 'cognito:user_status = "UNCONFIRMED"' },
      { UserPoolId: POOL, Limit: 60, Filter: 'cognito:user_status = "UNCONFIRMED"', PaginationToken: "t1" },
      { UserPoolId: POOL, Limit: 60, Filter: 'cognito:user_status = "UNCONFIRMED"', PaginationToken: "t2" },
    ]);
  });

  it('lists one sub partition with the filter sub ^= "<prefix>", and sends nothing for two filters', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [wireUser("a", "CONFIRMED")] });
    const { directory } = aDirectory();
    await directory.listUsers({ subPrefix: "a", pageToken: "t1", pageSize: 10 });
    await expect(directory.listUsers({ subPrefix: "a", status: "UNCONFIRMED" })).rejects.toMatchObject({
      code: "DIRECTORY.INVALID_QUERY",
    });
    const inputs = cognito.commandCalls(ListUsersCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([{ UserPoolId: POOL, Limit: 10, Filter: 'sub ^= "a"', PaginationToken: "t1" }]);
  });

  it("maps Cognito's UserType, without a filter when no status is asked", async () => {
    cognito.on(ListUsersCommand).resolves({
      Users: [wireUser("a", "RESET_REQUIRED", { Enabled: false }), wireUser("b", "SOMETHING_NEW")],
    });
    const { directory } = aDirectory();
    const page = await directory.listUsers();
    expect(cognito.commandCalls(ListUsersCommand)[0]?.args[0].input).toEqual({ UserPoolId: POOL, Limit: 60 });
    expect(page.nextToken).toBeUndefined();
    expect(page.items[0]).toEqual({
      username: "a",
      sub: "sub-of-a",
      attributes: { sub: "sub-of-a", email: "a@example.com" },
      status: "RESET_REQUIRED",
      enabled: false,
      mfaEnabled: false,
      createdAt: new Date("2026-01-01T00:00:00Z"),
      modifiedAt: new Date("2026-01-02T00:00:00Z"),
      groups: [],
    });
    expect(page.items[1]?.status).toBe("UNKNOWN");
  });

  it("asks for exactly the page size, and never for more than 60", async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -5, max: 200 }), async (pageSize) => {
        cognito.resetHistory();
        const { directory } = aDirectory();
        const result = directory.listUsers({ pageSize });
        if (pageSize >= 1 && pageSize <= 60) {
          await result;
          expect(cognito.commandCalls(ListUsersCommand)[0]?.args[0].input.Limit).toBe(pageSize);
        } else {
          await expect(result).rejects.toMatchObject({ code: "USER.INVALID", field: "pageSize" });
          expect(cognito.commandCalls(ListUsersCommand)).toHaveLength(0);
        }
      }),
    );
  });

  it("reports a refused page token as DIRECTORY.PAGE_TOKEN_INVALID, other invalid parameters as they are", async () => {
    const tokenError = new InvalidParameterException({ message: "Invalid pagination token.", ...meta });
    cognito.on(ListUsersCommand).rejects(tokenError);
    const { directory } = aDirectory();
    await expect(directory.listUsers({ pageToken: "stale" })).rejects.toMatchObject({
      code: "DIRECTORY.PAGE_TOKEN_INVALID",
      cause: tokenError,
    });
    const markerError = new InvalidParameterException({
      message: "Paging marker CAISsAIIARKJ is invalid for request adaa2d40-d1bd-4da4-ab5c-ed2a2e20b341",
      ...meta,
    });
    cognito.on(ListUsersCommand).rejects(markerError);
    await expect(directory.listUsers({ pageToken: "CAISsAIIARKJ" })).rejects.toMatchObject({
      code: "DIRECTORY.PAGE_TOKEN_INVALID",
      cause: markerError,
    });
    const filterError = new InvalidParameterException({ message: "Error while parsing filter.", ...meta });
    cognito.on(ListUsersCommand).rejects(filterError);
    await expect(directory.listUsers({ pageToken: "fine" })).rejects.toBe(filterError);
  });
});

describe("CognitoUserDirectory reads", () => {
  it("estimates the user count from DescribeUserPool", async () => {
    cognito
      .on(DescribeUserPoolCommand, { UserPoolId: POOL })
      .resolves({ UserPool: { EstimatedNumberOfUsers: 1234 } });
    expect(await aDirectory().directory.estimatedUserCount()).toBe(1234);
  });

  it("gets a user with MFA and every group across pages, or undefined when there is none", async () => {
    cognito.on(AdminGetUserCommand, { Username: "ann" }).resolves({
      Username: "ann",
      UserAttributes: [{ Name: "sub", Value: "s-1" }],
      Enabled: true,
      UserStatus: "CONFIRMED",
      UserMFASettingList: ["SOFTWARE_TOKEN_MFA"],
    });
    cognito
      .on(AdminListGroupsForUserCommand)
      .resolvesOnce({ Groups: [{ GroupName: "staff" }], NextToken: "g1" })
      .resolvesOnce({ Groups: [{ GroupName: "admins" }] });
    cognito
      .on(AdminGetUserCommand, { Username: "nobody" })
      .rejects(new UserNotFoundException({ message: "User does not exist.", ...meta }));
    const { directory } = aDirectory();
    expect(await directory.getUser("ann", { includeGroups: true })).toMatchObject({
      sub: "s-1",
      mfaEnabled: true,
      groups: ["admins", "staff"],
    });
    expect(cognito.commandCalls(AdminListGroupsForUserCommand).map((c) => c.args[0].input)).toEqual([
      { UserPoolId: POOL, Username: "ann", Limit: 60 },
      { UserPoolId: POOL, Username: "ann", Limit: 60, NextToken: "g1" },
    ]);
    expect(await directory.getUser("nobody")).toBeUndefined();
  });

  it("asks for groups only when told to", async () => {
    cognito
      .on(AdminGetUserCommand)
      .resolves({ Username: "ann", UserAttributes: [{ Name: "sub", Value: "s-1" }] });
    expect((await aDirectory().directory.getUser("ann"))?.groups).toEqual([]);
    expect(cognito.commandCalls(AdminListGroupsForUserCommand)).toHaveLength(0);
  });

  it("lists groups and the usernames of a group's members, following NextToken", async () => {
    cognito.on(ListGroupsCommand).resolves({
      Groups: [
        {
          GroupName: "admins",
          Description: "Administrators",
          Precedence: 1,
          RoleArn: "arn:aws:iam::1:role/x",
        },
      ],
      NextToken: "n1",
    });
    cognito.on(ListUsersInGroupCommand).resolves({ Users: [wireUser("ann")] });
    const { directory } = aDirectory();
    expect(await directory.listGroups({ pageToken: "n0" })).toEqual({
      items: [
        { name: "admins", description: "Administrators", precedence: 1, roleArn: "arn:aws:iam::1:role/x" },
      ],
      nextToken: "n1",
    });
    expect(cognito.commandCalls(ListGroupsCommand)[0]?.args[0].input).toEqual({
      UserPoolId: POOL,
      Limit: 60,
      NextToken: "n0",
    });
    expect(await directory.listGroupMembers("admins")).toEqual({
      items: [{ username: "ann", sub: "sub-of-ann" }],
    });
    expect(cognito.commandCalls(ListUsersInGroupCommand)[0]?.args[0].input).toEqual({
      UserPoolId: POOL,
      GroupName: "admins",
      Limit: 60,
    });
  });

  it("names a missing group, but leaves a missing pool as Cognito said it", async () => {
    const { directory } = aDirectory();
    cognito
      .on(ListUsersInGroupCommand)
      .rejects(new ResourceNotFoundException({ message: "Group not found.", ...meta }));
    await expect(directory.listGroupMembers("ghosts")).rejects.toMatchObject({
      code: "DIRECTORY.GROUP_NOT_FOUND",
    });
    const poolGone = new ResourceNotFoundException({ message: `User pool ${POOL} does not exist.`, ...meta });
    cognito.on(ListUsersInGroupCommand).rejects(poolGone);
    await expect(directory.listGroupMembers("admins")).rejects.toBe(poolGone);
  });
});

describe("CognitoUserDirectory writes", () => {
  it("deletes idempotently and says which user is missing on disable", async () => {
    cognito.on(AdminDeleteUserCommand, { Username: "ann" }).resolves({});
    cognito
      .on(AdminDeleteUserCommand, { Username: "gone" })
      .rejects(new UserNotFoundException({ message: "User does not exist.", ...meta }));
    cognito
      .on(AdminDisableUserCommand)
      .rejects(new UserNotFoundException({ message: "User does not exist.", ...meta }));
    const { directory } = aDirectory();
    expect(await directory.deleteUser("ann")).toBe(true);
    expect(await directory.deleteUser("gone")).toBe(false);
    await expect(directory.disableUser("gone")).rejects.toMatchObject({ code: "USER.NOT_FOUND" });
  });

  it("creates a user with no message sent, without the old sub, keeping every other attribute", async () => {
    const backup = aUser({
      attributes: { "custom:legacy_sub": "11111111-2222-4333-8444-555555555555", name: "Ann" },
    });
    cognito.on(AdminCreateUserCommand).resolves({
      User: wireUser(backup.username, "FORCE_CHANGE_PASSWORD", {
        Attributes: [
          { Name: "sub", Value: "new-sub" },
          { Name: "custom:legacy_sub", Value: "11111111-2222-4333-8444-555555555555" },
        ],
      }),
    });
    const created = await aDirectory().directory.createUser(backup);
    const input = cognito.commandCalls(AdminCreateUserCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ UserPoolId: POOL, Username: backup.username, MessageAction: "SUPPRESS" });
    expect(input?.TemporaryPassword).toBeUndefined();
    expect(input?.UserAttributes?.map((a) => a.Name)).not.toContain("sub");
    expect(Object.fromEntries((input?.UserAttributes ?? []).map((a) => [a.Name, a.Value]))).toEqual({
      email: backup.attributes.email,
      email_verified: "true",
      name: "Ann",
      "custom:legacy_sub": "11111111-2222-4333-8444-555555555555",
    });
    expect(created).toMatchObject({ sub: "new-sub", status: "FORCE_CHANGE_PASSWORD" });
  });

  it("refuses a taken username with DIRECTORY.USER_EXISTS, naming neither the user nor the email", async () => {
    const user = aUser({ username: "ann@example.com" });
    cognito
      .on(AdminCreateUserCommand)
      .rejects(new UsernameExistsException({ message: "User account already exists", ...meta }));
    const error = (await aDirectory()
      .directory.createUser(user)
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: "DIRECTORY.USER_EXISTS" });
    expect(`${error.message} ${JSON.stringify((error as { details?: unknown }).details)}`).not.toMatch(
      /ann|example/,
    );
  });

  it("creates groups idempotently with their description, precedence and role", async () => {
    cognito
      .on(CreateGroupCommand)
      .resolvesOnce({})
      .rejects(new GroupExistsException({ message: "exists", ...meta }));
    const { directory } = aDirectory();
    const group = {
      name: "admins",
      description: "Administrators",
      precedence: 1,
      roleArn: "arn:aws:iam::1:role/x",
    };
    expect(await directory.createGroup(group)).toBe(true);
    expect(await directory.createGroup(group)).toBe(false);
    expect(cognito.commandCalls(CreateGroupCommand)[0]?.args[0].input).toEqual({
      UserPoolId: POOL,
      GroupName: "admins",
      Description: "Administrators",
      Precedence: 1,
      RoleArn: "arn:aws:iam::1:role/x",
    });
  });

  it("adds a user to a group, naming a missing user or group", async () => {
    const { directory } = aDirectory();
    cognito.on(AdminAddUserToGroupCommand).resolvesOnce({});
    await directory.addUserToGroup("ann", "admins");
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0]?.args[0].input).toEqual({
      UserPoolId: POOL,
      Username: "ann",
      GroupName: "admins",
    });
    cognito
      .on(AdminAddUserToGroupCommand)
      .rejects(new UserNotFoundException({ message: "User does not exist.", ...meta }));
    await expect(directory.addUserToGroup("gone", "admins")).rejects.toMatchObject({
      code: "USER.NOT_FOUND",
    });
    cognito
      .on(AdminAddUserToGroupCommand)
      .rejects(new ResourceNotFoundException({ message: "Group not found.", ...meta }));
    await expect(directory.addUserToGroup("ann", "ghosts")).rejects.toMatchObject({
      code: "DIRECTORY.GROUP_NOT_FOUND",
    });
  });
});

describe("CognitoUserDirectory pacing", () => {
  const throttled = () => new TooManyRequestsException({ message: "Rate exceeded", ...meta });

  it("retries throttling, slowing its category down, and then succeeds", async () => {
    cognito.on(AdminDeleteUserCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    const { directory, calls } = aDirectory({ baseDelayMs: 100 });
    const before = calls.rateOf("UserUpdate") as number;
    expect(await directory.deleteUser("ann")).toBe(true);
    expect(cognito.commandCalls(AdminDeleteUserCommand)).toHaveLength(3);
    expect(calls.rateOf("UserUpdate")).toBeLessThan(before);
  });

  it("keeps retrying throttling past any count, and stops only at the caller's deadline", async () => {
    const errors: Error[] = [];
    cognito.on(AdminDisableUserCommand).callsFake(async () => {
      errors.push(throttled());
      throw errors.at(-1);
    });
    const { directory, clock } = aDirectory();
    const deadline = new Date(clock.now().getTime() + 120_000);
    const error = await withCallDeadline(deadline, () => directory.disableUser("ann")).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: "QuotaDeadlineError", code: "QUOTA.DEADLINE_REACHED" });
    expect((error as Error).cause).toBe(errors.at(-1));
    expect(errors.length).toBeGreaterThan(20);
    // It stopped in time for the step to yield: no attempt within the call margin of the deadline.
    expect(clock.now().getTime()).toBeLessThanOrEqual(deadline.getTime() - 10_000);
  });

  it("without a deadline, waits out throttling for at most maxThrottledMs", async () => {
    cognito.on(AdminDisableUserCommand).rejects(throttled());
    const { directory, clock } = aDirectory({ maxThrottledMs: 30_000 });
    const start = clock.now().getTime();
    await expect(directory.disableUser("ann")).rejects.toMatchObject({ code: "QUOTA.DEADLINE_REACHED" });
    expect(clock.now().getTime() - start).toBeGreaterThan(20_000);
    expect(clock.now().getTime() - start).toBeLessThanOrEqual(30_000);
  });

  it("does not retry Cognito's other answers", async () => {
    cognito.on(AdminDisableUserCommand).rejects(new UserNotFoundException({ message: "gone", ...meta }));
    const { directory } = aDirectory();
    await expect(directory.disableUser("ann")).rejects.toMatchObject({ code: "USER.NOT_FOUND" });
    expect(cognito.commandCalls(AdminDisableUserCommand)).toHaveLength(1);
  });

  it("spaces the calls of a quota category evenly at its rate", async () => {
    const { directory, clock } = aDirectory({ rateLimits: { UserUpdate: 2 }, startShare: 1 });
    const sentAt: number[] = [];
    const start = clock.now().getTime();
    cognito
      .on(AdminDeleteUserCommand)
      .callsFake(async () => (sentAt.push(clock.now().getTime() - start), {}));
    await Promise.all(["a", "b", "c", "d", "e"].map((name) => directory.deleteUser(name)));
    expect(sentAt).toEqual([0, 500, 1000, 1500, 2000]);
  });

  it("paces each retry too, at the slower rate", async () => {
    const { directory, clock } = aDirectory({ rateLimits: { UserUpdate: 1 }, startShare: 1, baseDelayMs: 1 });
    const sentAt: number[] = [];
    const start = clock.now().getTime();
    cognito
      .on(AdminDeleteUserCommand)
      .callsFakeOnce(async () => {
        sentAt.push(clock.now().getTime() - start);
        throw throttled();
      })
      .callsFake(async () => (sentAt.push(clock.now().getTime() - start), {}));
    await directory.deleteUser("ann");
    expect(sentAt[0]).toBe(0);
    // Throttled at 1 a second, the category slows to 0.7 a second: the retry waits 1/0.7 s.
    expect(sentAt[1]).toBeGreaterThanOrEqual(Math.floor(1000 / 0.7));
  });
});
