import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  type CognitoIdentityProviderClient,
  CreateGroupCommand,
  DescribeUserPoolCommand,
  ListGroupsCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { LifecycleError } from "../../core/errors.js";
import {
  allPages,
  listingFilter,
  type GroupMember,
  type Page,
  type PageRequest,
  pageSizeOf,
  type UserDirectory,
  type UserQuery,
} from "../../core/ports/user-directory.js";
import { type Group, normalizeGroups, type User } from "../../core/user/user.js";
import { CognitoCalls, isCognitoError, isMissingPoolResource } from "./cognito-calls.js";
import { fromWireGroup, fromWireUser, toCreateAttributes } from "./user-mapping.js";

/** ListGroups, ListUsersInGroup and AdminListGroupsForUser return at most 60 items per page. */
const GROUP_PAGE_SIZE = 60;

export interface CognitoUserDirectoryOptions {
  /** Pacing and retries; share one instance between the adapters of a process so quotas add up. */
  readonly calls?: CognitoCalls;
}

/**
 * A Cognito user pool as a {@link UserDirectory}. Every call is paced per quota category and retried while
 * throttled (see {@link CognitoCalls}); build the client with `createCognitoClient` so the SDK does not
 * retry on top. Errors never carry usernames or attribute values: with email sign-in a username is an email.
 */
export class CognitoUserDirectory implements UserDirectory {
  private readonly calls: CognitoCalls;

  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
    options: CognitoUserDirectoryOptions = {},
  ) {
    this.calls = options.calls ?? new CognitoCalls();
  }

  /**
   * @throws ValidationError `USER.INVALID` (field `pageSize`) outside 1–60; LifecycleError
   *   `DIRECTORY.PAGE_TOKEN_INVALID` when Cognito refuses the page token (expired, or the pool changed).
   */
  async listUsers(query: UserQuery = {}): Promise<Page<User>> {
    const pageSize = pageSizeOf(query);
    const filter = listingFilter(query);
    try {
      const output = await this.calls.run("ListUsers", () =>
        this.client.send(
          new ListUsersCommand({
            UserPoolId: this.userPoolId,
            Limit: pageSize,
            // One filter per call (ListUsers API reference). Statuses are a closed set of upper-case words and
            // a sub prefix is hexadecimal (listingFilter checked it): nothing in them needs escaping.
            ...(filter === undefined
              ? {}
              : {
                  Filter:
                    filter.kind === "status"
                      ? `cognito:user_status = "${filter.status}"`
                      : `sub ^= "${filter.prefix}"`,
                }),
            ...(query.pageToken === undefined ? {} : { PaginationToken: query.pageToken }),
          }),
        ),
      );
      return {
        items: (output.Users ?? []).map((user) => fromWireUser(user)),
        ...(output.PaginationToken ? { nextToken: output.PaginationToken } : {}),
      };
    } catch (error) {
      // Cognito answers a stale or foreign token with InvalidParameterException naming it: "Paging marker <token>
      // is invalid for request <id>" (aws/aws-sdk-js#3705), or a message naming the pagination token.
      if (
        query.pageToken !== undefined &&
        isCognitoError(error, "InvalidParameterException") &&
        /token|paging marker/i.test((error as Error).message)
      ) {
        throw new LifecycleError(
          "DIRECTORY.PAGE_TOKEN_INVALID",
          "Invalid pagination token (it expired or the pool changed): list again from the start",
          { cause: error, details: { operation: "ListUsers" } },
        );
      }
      throw error;
    }
  }

  async estimatedUserCount(): Promise<number> {
    const output = await this.calls.run("DescribeUserPool", () =>
      this.client.send(new DescribeUserPoolCommand({ UserPoolId: this.userPoolId })),
    );
    return output.UserPool?.EstimatedNumberOfUsers ?? 0;
  }

  async getUser(username: string, options: { includeGroups?: boolean } = {}): Promise<User | undefined> {
    try {
      const output = await this.calls.run("AdminGetUser", () =>
        this.client.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: username })),
      );
      const mfaEnabled = (output.UserMFASettingList?.length ?? 0) > 0 || (output.MFAOptions?.length ?? 0) > 0;
      const user = fromWireUser({ ...output, Attributes: output.UserAttributes }, mfaEnabled);
      if (!options.includeGroups) return user;
      return { ...user, groups: await this.groupsOf(username) };
    } catch (error) {
      // Also when the user is deleted between AdminGetUser and AdminListGroupsForUser.
      if (isCognitoError(error, "UserNotFoundException")) return undefined;
      throw error;
    }
  }

  async deleteUser(username: string): Promise<boolean> {
    try {
      await this.calls.run("AdminDeleteUser", () =>
        this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: username })),
      );
      return true;
    } catch (error) {
      if (isCognitoError(error, "UserNotFoundException")) return false;
      throw error;
    }
  }

  async disableUser(username: string): Promise<void> {
    try {
      await this.calls.run("AdminDisableUser", () =>
        this.client.send(new AdminDisableUserCommand({ UserPoolId: this.userPoolId, Username: username })),
      );
    } catch (error) {
      throw userNotFound(error, "AdminDisableUser") ?? error;
    }
  }

  async enableUser(username: string): Promise<void> {
    try {
      await this.calls.run("AdminEnableUser", () =>
        this.client.send(new AdminEnableUserCommand({ UserPoolId: this.userPoolId, Username: username })),
      );
    } catch (error) {
      throw userNotFound(error, "AdminEnableUser") ?? error;
    }
  }

  /**
   * AdminCreateUser with `MessageAction: "SUPPRESS"`: no invitation email or SMS reaches a restored user.
   * Cognito assigns the sub (one given is refused), and the user starts in FORCE_CHANGE_PASSWORD.
   */
  async createUser(user: User): Promise<User> {
    try {
      const output = await this.calls.run("AdminCreateUser", () =>
        this.client.send(
          new AdminCreateUserCommand({
            UserPoolId: this.userPoolId,
            Username: user.username,
            UserAttributes: toCreateAttributes(user),
            MessageAction: "SUPPRESS",
          }),
        ),
      );
      if (!output.User) {
        throw new LifecycleError("USER.INVALID", "AdminCreateUser answered without the created user");
      }
      return fromWireUser(output.User);
    } catch (error) {
      if (isCognitoError(error, "UsernameExistsException")) {
        throw new LifecycleError("DIRECTORY.USER_EXISTS", "User account already exists", {
          cause: error,
          details: { operation: "AdminCreateUser" },
        });
      }
      throw error;
    }
  }

  async listGroups(request: PageRequest = {}): Promise<Page<Group>> {
    const output = await this.calls.run("ListGroups", () =>
      this.client.send(
        new ListGroupsCommand({
          UserPoolId: this.userPoolId,
          Limit: GROUP_PAGE_SIZE,
          ...(request.pageToken === undefined ? {} : { NextToken: request.pageToken }),
        }),
      ),
    );
    return {
      items: (output.Groups ?? []).map(fromWireGroup),
      ...(output.NextToken ? { nextToken: output.NextToken } : {}),
    };
  }

  async listGroupMembers(groupName: string, request: PageRequest = {}): Promise<Page<GroupMember>> {
    try {
      const output = await this.calls.run("ListUsersInGroup", () =>
        this.client.send(
          new ListUsersInGroupCommand({
            UserPoolId: this.userPoolId,
            GroupName: groupName,
            Limit: GROUP_PAGE_SIZE,
            ...(request.pageToken === undefined ? {} : { NextToken: request.pageToken }),
          }),
        ),
      );
      return {
        items: (output.Users ?? []).flatMap((user) =>
          user.Username
            ? [
                {
                  username: user.Username,
                  sub: user.Attributes?.find((attribute) => attribute.Name === "sub")?.Value ?? "",
                },
              ]
            : [],
        ),
        ...(output.NextToken ? { nextToken: output.NextToken } : {}),
      };
    } catch (error) {
      throw groupNotFound(error, groupName, "ListUsersInGroup") ?? error;
    }
  }

  async createGroup(group: Group): Promise<boolean> {
    try {
      await this.calls.run("CreateGroup", () =>
        this.client.send(
          new CreateGroupCommand({
            UserPoolId: this.userPoolId,
            GroupName: group.name,
            ...(group.description === undefined ? {} : { Description: group.description }),
            ...(group.precedence === undefined ? {} : { Precedence: group.precedence }),
            ...(group.roleArn === undefined ? {} : { RoleArn: group.roleArn }),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isCognitoError(error, "GroupExistsException")) return false;
      throw error;
    }
  }

  async addUserToGroup(username: string, groupName: string): Promise<void> {
    try {
      await this.calls.run("AdminAddUserToGroup", () =>
        this.client.send(
          new AdminAddUserToGroupCommand({
            UserPoolId: this.userPoolId,
            Username: username,
            GroupName: groupName,
          }),
        ),
      );
    } catch (error) {
      throw (
        userNotFound(error, "AdminAddUserToGroup") ??
        groupNotFound(error, groupName, "AdminAddUserToGroup") ??
        error
      );
    }
  }

  /** Every group of the user, page after page; throws UserNotFoundException as Cognito does. */
  private async groupsOf(username: string): Promise<string[]> {
    const names: string[] = [];
    const pages = allPages(async (pageToken) => {
      const output = await this.calls.run("AdminListGroupsForUser", () =>
        this.client.send(
          new AdminListGroupsForUserCommand({
            UserPoolId: this.userPoolId,
            Username: username,
            Limit: GROUP_PAGE_SIZE,
            ...(pageToken === undefined ? {} : { NextToken: pageToken }),
          }),
        ),
      );
      return {
        items: (output.Groups ?? []).map((group) => fromWireGroup(group).name),
        ...(output.NextToken ? { nextToken: output.NextToken } : {}),
      };
    });
    for await (const name of pages) names.push(name);
    return normalizeGroups(names);
  }
}

function userNotFound(error: unknown, operation: string): LifecycleError | undefined {
  if (!isCognitoError(error, "UserNotFoundException")) return undefined;
  return new LifecycleError("USER.NOT_FOUND", "User does not exist.", {
    cause: error,
    details: { operation },
  });
}

/** A missing group is ResourceNotFoundException (a missing user has an exception of its own). */
function groupNotFound(error: unknown, groupName: string, operation: string): LifecycleError | undefined {
  if (!isMissingPoolResource(error)) return undefined;
  return new LifecycleError("DIRECTORY.GROUP_NOT_FOUND", `Group ${groupName} not found.`, {
    cause: error,
    details: { operation, groupName },
  });
}
