import { ValidationError } from "../errors.js";
import type { Group, User, UserStatus } from "../user/user.js";

/** The most users one ListUsers page may hold (Cognito's `Limit` maximum). */
export const MAX_USERS_PAGE_SIZE = 60;

/**
 * The sixteen partitions of a pool by the first hexadecimal digit of `sub` (a lowercase UUID): listed side by
 * side or one after another, each with its own cursor, they cover every user exactly once.
 */
export const SUB_PARTITIONS = [
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
  "a",
  "b",
  "c",
  "d",
  "e",
  "f",
] as const;
export type SubPartition = (typeof SUB_PARTITIONS)[number];

export interface UserQuery {
  /** Only users in this status (ListUsers' `cognito:user_status = "…"` filter). */
  readonly status?: UserStatus;
  /**
   * Only users whose `sub` starts with this lowercase hexadecimal prefix (ListUsers' `sub ^= "…"` filter).
   * Cognito applies one filter per call, so a query with both `status` and `subPrefix` is refused.
   */
  readonly subPrefix?: string;
  /** Continue after a previous page. Tokens are opaque and may expire. */
  readonly pageToken?: string;
  /** At most this many users (1–60, default 60). A page may hold fewer even when more follow. */
  readonly pageSize?: number;
}

/**
 * The query's page size: `pageSize`, or 60 when absent.
 *
 * @throws ValidationError `USER.INVALID` (field `pageSize`) for anything but an integer from 1 to 60.
 */
export function pageSizeOf(query: Pick<UserQuery, "pageSize">): number {
  const pageSize = query.pageSize ?? MAX_USERS_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_USERS_PAGE_SIZE) {
    throw new ValidationError(
      "USER.INVALID",
      "pageSize",
      `must be an integer from 1 to ${MAX_USERS_PAGE_SIZE}, got ${pageSize}`,
    );
  }
  return pageSize;
}

/** The one filter of a listing, as {@link listingFilter} reads it from a query. */
export type ListingFilter =
  | { readonly kind: "status"; readonly status: UserStatus }
  | { readonly kind: "subPrefix"; readonly prefix: string };

// A sub is a lowercase UUID: a prefix of one is hexadecimal digits and dashes, at most 36 characters.
const SUB_PREFIX = /^[0-9a-f-]{1,36}$/;

/**
 * The query's filter, checked the same way by every adapter. Cognito's ListUsers takes one filter string on
 * one attribute ("You can only search for one attribute at a time": ListUsers API reference, `Filter`), so a
 * query naming both a status and a sub prefix cannot be sent as one call.
 *
 * @throws ValidationError `DIRECTORY.INVALID_QUERY` for both filters at once (field `subPrefix`), or a prefix
 *   that is not lowercase hexadecimal (a sub prefix is sent inside quotes: nothing else may reach the filter).
 */
export function listingFilter(query: Pick<UserQuery, "status" | "subPrefix">): ListingFilter | undefined {
  if (query.subPrefix !== undefined) {
    if (query.status !== undefined) {
      throw new ValidationError(
        "DIRECTORY.INVALID_QUERY",
        "subPrefix",
        "cannot be combined with status: Cognito's ListUsers takes one filter per call",
      );
    }
    if (!SUB_PREFIX.test(query.subPrefix)) {
      throw new ValidationError(
        "DIRECTORY.INVALID_QUERY",
        "subPrefix",
        "must be 1 to 36 lowercase hexadecimal digits or dashes (the start of a sub)",
      );
    }
    return { kind: "subPrefix", prefix: query.subPrefix };
  }
  return query.status === undefined ? undefined : { kind: "status", status: query.status };
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Present while more pages follow; absent on the last page. */
  readonly nextToken?: string;
}

/** A member of a group as ListUsersInGroup gives it: the username, and the sub (to find its partition). */
export interface GroupMember {
  readonly username: string;
  /** Cognito's `sub` in this pool (lowercase UUID). */
  readonly sub: string;
}

export interface PageRequest {
  readonly pageToken?: string;
}

/**
 * The user pool as a directory of users and groups. Read methods return users with `groups: []` unless they
 * say otherwise: membership comes from {@link UserDirectory.listGroupMembers} or `getUser(…, {includeGroups})`.
 *
 * Every method may throw a throttling error (`name === "TooManyRequestsException"`) when the pool's quotas
 * are exceeded; adapters that rate-limit and retry internally throw it only once retries are spent.
 */
export interface UserDirectory {
  /**
   * One page of users, in a stable order. Follow `nextToken` to the end to see every user; a page can be
   * short or even empty while more follow. Deleting users while paginating can invalidate the token
   * (throws `DIRECTORY.PAGE_TOKEN_INVALID`): collect first, then change. A token continues only the query
   * (filter) it came from. Throws `DIRECTORY.INVALID_QUERY` for a query Cognito cannot run (see
   * {@link listingFilter}).
   */
  listUsers(query?: UserQuery): Promise<Page<User>>;

  /** The pool's estimated number of users (Cognito's `EstimatedNumberOfUsers`): for ratios, not for loops. */
  estimatedUserCount(): Promise<number>;

  /** The user, or `undefined` when no user has this username. Groups are filled only when asked. */
  getUser(username: string, options?: { includeGroups?: boolean }): Promise<User | undefined>;

  /** Deletes the user. Idempotent: `false` when there was no such user. */
  deleteUser(username: string): Promise<boolean>;

  /** Disables sign-in for the user. Idempotent. Throws `USER.NOT_FOUND` when there is no such user. */
  disableUser(username: string): Promise<void>;

  /** Enables sign-in for the user again. Idempotent. Throws `USER.NOT_FOUND` when there is no such user. */
  enableUser(username: string): Promise<void>;

  /**
   * Creates a user from a backup without sending any message (no invitation email or SMS), the
   * "admin-create" restore path. The new user gets a new `sub` and must reset the password; its
   * attributes are those given (`sub` excluded). Throws `DIRECTORY.USER_EXISTS` when the username is taken.
   * Returns the user as created (with its new sub).
   */
  createUser(user: User): Promise<User>;

  /** One page of the pool's groups. */
  listGroups(request?: PageRequest): Promise<Page<Group>>;

  /**
   * One page of the members of a group: each username with its `sub` (ListUsersInGroup returns each
   * member's attributes, so the sub costs no other call). Throws `DIRECTORY.GROUP_NOT_FOUND` for an unknown
   * group.
   */
  listGroupMembers(groupName: string, request?: PageRequest): Promise<Page<GroupMember>>;

  /** Creates the group. Idempotent: `false` when a group of that name already exists (left unchanged). */
  createGroup(group: Group): Promise<boolean>;

  /**
   * Adds the user to the group. Idempotent. Throws `USER.NOT_FOUND` or `DIRECTORY.GROUP_NOT_FOUND`.
   */
  addUserToGroup(username: string, groupName: string): Promise<void>;
}

/** Walks every page of a paginated listing. Pages are fetched one at a time, as they are consumed. */
export async function* allPages<T>(fetch: (pageToken?: string) => Promise<Page<T>>): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const page = await fetch(token);
    yield* page.items;
    token = page.nextToken;
  } while (token !== undefined);
}

/** Every user matching `query`, page after page. */
export function allUsers(
  directory: UserDirectory,
  query: Omit<UserQuery, "pageToken"> = {},
): AsyncGenerator<User> {
  return allPages((pageToken) => directory.listUsers({ ...query, ...(pageToken ? { pageToken } : {}) }));
}

/** Every group with its members: the membership map a snapshot or reconcile needs. */
export async function groupMemberships(
  directory: UserDirectory,
): Promise<{ groups: Group[]; membership: Map<string, string[]> }> {
  const groups: Group[] = [];
  const membership = new Map<string, string[]>();
  for await (const group of allPages((pageToken) => directory.listGroups(pageToken ? { pageToken } : {}))) {
    groups.push(group);
    const members = allPages((pageToken) =>
      directory.listGroupMembers(group.name, pageToken ? { pageToken } : {}),
    );
    for await (const { username } of members) {
      const list = membership.get(username);
      if (list) list.push(group.name);
      else membership.set(username, [group.name]);
    }
  }
  return { groups, membership };
}
