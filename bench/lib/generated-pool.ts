/**
 * A user pool of any size made from the users' indexes, for the `scale` bench: user `i` (its username, sub,
 * attributes, status, creation date and group) is a pure function of `i`, so a pool of 40,000,000 users costs
 * two bitsets (deleted, disabled) and no user objects until a page asks for them.
 *
 * {@link GeneratedUserDirectory} answers the {@link UserDirectory} port the way Cognito does where the jobs
 * depend on it: pages of at most 60 users with opaque tokens, ListUsers' status filter and `sub ^= "…"`
 * prefix filter (one filter per call), groups and their members in pages of 60, idempotent deletions and
 * disables, and Cognito's request-rate quotas on a clock: a call past its category's quota throws
 * TooManyRequestsException, and every call is counted per category (admitted and throttled) for the usage
 * figures.
 */
import { LifecycleError, ValidationError } from "../../core/errors.js";
import type { Clock } from "../../core/ports/clock.js";
import {
  type GroupMember,
  type Page,
  pageSizeOf,
  type PageRequest,
  type UserDirectory,
  type UserQuery,
} from "../../core/ports/user-directory.js";
import type { Group, User, UserStatus } from "../../core/user/user.js";
import {
  COGNITO_OPERATION_CATEGORY,
  COGNITO_QUOTAS,
  type CognitoOperation,
} from "../../adapters/cognito/quotas.js";
import { AccountQuotas, type QuotaUsage } from "../../adapters/in-memory/rate-limiter.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Most usernames fit 9 digits: the pool's size limit (Cognito's is 40,000,000 per pool). */
const MAX_POOL_SIZE = 999_999_999;
const USERNAME = /^user-(\d{9})$/;
const GROUP_NAME = /^group-(\d{4})$/;

export interface GeneratedPoolOptions {
  /** Users in the pool (indexes 0 … size − 1). */
  readonly size: number;
  /** One user in this many is UNCONFIRMED (chosen by a hash of the index, so spread over the pool). 0: none. */
  readonly unconfirmedOneIn?: number;
  /** Groups in the pool; user i belongs to exactly one, `group-(i mod groups)`. 0: no groups. */
  readonly groups?: number;
  /** When the newest user (index size − 1) signed up; older indexes signed up earlier. */
  readonly newestSignUp: Date;
  /** Time between two sign-ups, in ms. Default: the pool spread evenly over two years. */
  readonly signUpSpacingMs?: number;
}

/**
 * The pool's users as functions of their index. Pure: two pools with the same options hold the same users.
 */
export class GeneratedPool {
  readonly size: number;
  readonly unconfirmedOneIn: number;
  readonly groups: number;
  private readonly newest: number;
  private readonly spacingMs: number;

  constructor(options: GeneratedPoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1 || options.size > MAX_POOL_SIZE) {
      throw new RangeError(`a generated pool holds 1 to ${MAX_POOL_SIZE} users, got ${options.size}`);
    }
    this.size = options.size;
    this.unconfirmedOneIn = options.unconfirmedOneIn ?? 0;
    this.groups = options.groups ?? 0;
    if (this.groups > 10_000) throw new RangeError("a pool holds at most 10,000 groups (Cognito's quota)");
    this.newest = options.newestSignUp.getTime();
    this.spacingMs = options.signUpSpacingMs ?? Math.max(1, Math.floor((2 * 365 * DAY_MS) / this.size));
  }

  usernameOf(index: number): string {
    return `user-${index.toString().padStart(9, "0")}`;
  }

  /** The index of a username of this pool, or `undefined` for any other string. */
  indexOfUsername(username: string): number | undefined {
    const match = USERNAME.exec(username);
    if (!match) return undefined;
    const index = Number(match[1]);
    return index < this.size ? index : undefined;
  }

  /**
   * The user's sub: a lowercase UUID whose first hex digit is `index mod 16` (so the sixteen `sub ^= "x"`
   * partitions hold the same number of users, ±1), whose middle is a hash of the index, and whose last 12
   * digits are the index itself (so no two users share a sub, and {@link indexOfSub} reads it back).
   */
  subOf(index: number): string {
    const a = hash32(index, 0x9e3779b9);
    const b = hash32(index, 0x85ebca6b);
    const first = (index & 15).toString(16) + hex(a, 8).slice(1);
    const second = hex(b, 8);
    return `${first}-${second.slice(0, 4)}-4${second.slice(4, 7)}-8${hex(a ^ b, 3)}-${hex12(index)}`;
  }

  /** The index a sub of this pool was made from, or `undefined` when it is no sub of this pool. */
  indexOfSub(sub: string): number | undefined {
    if (sub.length !== 36) return undefined;
    const index = Number.parseInt(sub.slice(24), 16);
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) return undefined;
    return this.subOf(index) === sub ? index : undefined;
  }

  statusOf(index: number): UserStatus {
    return this.isUnconfirmed(index) ? "UNCONFIRMED" : "CONFIRMED";
  }

  isUnconfirmed(index: number): boolean {
    return this.unconfirmedOneIn > 0 && hash32(index, 0x27d4eb2f) % this.unconfirmedOneIn === 0;
  }

  createdAtOf(index: number): Date {
    return new Date(this.newest - (this.size - 1 - index) * this.spacingMs);
  }

  /** The group of user `index`, or `undefined` in a pool without groups. */
  groupOf(index: number): string | undefined {
    return this.groups === 0 ? undefined : groupName(index % this.groups);
  }

  groupNames(): string[] {
    return Array.from({ length: this.groups }, (_, g) => groupName(g));
  }

  /** The group's position (0 … groups − 1), or `undefined` for a name that is no group of this pool. */
  groupIndexOf(name: string): number | undefined {
    const match = GROUP_NAME.exec(name);
    if (!match) return undefined;
    const g = Number(match[1]);
    return g < this.groups ? g : undefined;
  }

  /** User `index` as ListUsers returns it (`groups: []`), enabled unless told otherwise. */
  userOf(index: number, enabled = true): User {
    const username = this.usernameOf(index);
    const sub = this.subOf(index);
    const status = this.statusOf(index);
    const createdAt = this.createdAtOf(index);
    return {
      username,
      sub,
      attributes: {
        sub,
        email: `${username}@example.test`,
        email_verified: status === "CONFIRMED" ? "true" : "false",
        given_name: `Given${index % 997}`,
        family_name: `Family${index % 1009}`,
      },
      status,
      enabled,
      mfaEnabled: false,
      createdAt,
      modifiedAt: createdAt,
      groups: [],
    };
  }
}

function groupName(g: number): string {
  return `group-${g.toString().padStart(4, "0")}`;
}

/** A 32-bit hash of a non-negative integer below 2^53 (murmur3's finalizer over both halves). */
export function hash32(value: number, seed: number): number {
  let h = Math.imul((value >>> 0) ^ seed, 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593);
  h ^= Math.floor(value / 0x1_0000_0000);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex(value: number, digits: number): string {
  return (value >>> 0).toString(16).padStart(8, "0").slice(-digits);
}

function hex12(value: number): string {
  return value.toString(16).padStart(12, "0");
}

/** A set of indexes below a fixed size, one bit each (40,000,000 indexes: 5 MB). */
export class Bitset {
  private readonly bits: Uint8Array;
  private members = 0;

  constructor(readonly capacity: number) {
    this.bits = new Uint8Array(Math.ceil(capacity / 8));
  }

  /** A set of `capacity` indexes holding those of `bytes` (as {@link Bitset.bytes} gave them). */
  static fromBytes(capacity: number, bytes: Uint8Array): Bitset {
    const set = new Bitset(capacity);
    if (bytes.byteLength !== set.bits.byteLength) {
      throw new RangeError(
        `a bitset of ${capacity} indexes takes ${set.bits.byteLength} bytes, got ${bytes.byteLength}`,
      );
    }
    set.bits.set(bytes);
    for (const byte of set.bits) {
      let b = byte;
      while (b !== 0) {
        b &= b - 1;
        set.members += 1;
      }
    }
    return set;
  }

  /** The set's bits, to store it (a view, not a copy). */
  get bytes(): Uint8Array {
    return this.bits;
  }

  has(index: number): boolean {
    return ((this.bits[index >>> 3] as number) & (1 << (index & 7))) !== 0;
  }

  /** Adds `index`; `false` when it was already there. */
  add(index: number): boolean {
    const byte = index >>> 3;
    const mask = 1 << (index & 7);
    const current = this.bits[byte] as number;
    if ((current & mask) !== 0) return false;
    this.bits[byte] = current | mask;
    this.members += 1;
    return true;
  }

  /** Removes `index`; `false` when it was not there. */
  delete(index: number): boolean {
    const byte = index >>> 3;
    const mask = 1 << (index & 7);
    const current = this.bits[byte] as number;
    if ((current & mask) === 0) return false;
    this.bits[byte] = current & ~mask;
    this.members -= 1;
    return true;
  }

  get count(): number {
    return this.members;
  }

  /** Bytes this set keeps. */
  get byteLength(): number {
    return this.bits.byteLength;
  }
}

interface ListCursor {
  /** The query the token continues: `*`, `s:<STATUS>` or `p:<prefix>`. */
  readonly q: string;
  /** The next index to look at. */
  readonly n: number;
}

export interface GeneratedUserDirectoryOptions {
  readonly clock: Clock;
  /**
   * The account whose quotas the calls count against: give two directories the same one to have two jobs
   * share Cognito's quotas. Default: an account of its own with Cognito's quotas ({@link COGNITO_QUOTAS},
   * by the categories of `COGNITO_OPERATION_CATEGORY`: ListUsers and ListUsersInGroup are both UserList).
   */
  readonly quotas?: AccountQuotas;
}

/** What a {@link GeneratedUserDirectory} changed in its pool: two bitsets and a count. */
export interface GeneratedDirectoryState {
  readonly deleted: Uint8Array;
  readonly disabled: Uint8Array;
  readonly confirmedDeleted: number;
}

/** A query of this directory: the port's, with the `sub ^= "…"` prefix filter. */
export type GeneratedUserQuery = UserQuery & { readonly subPrefix?: string };

/**
 * The {@link GeneratedPool} as a {@link UserDirectory}. Deletions and disables are kept in bitsets, so the
 * directory's own memory is two bits per user of the pool ({@link GeneratedUserDirectory.retainedBytes}).
 *
 * Listing order is the index order (usernames sort the same way). A page token is the query it continues
 * and the next index, base64url: a token stays valid across deletions (no page is skipped or repeated), and
 * is refused (`DIRECTORY.PAGE_TOKEN_INVALID`) for another query or when unreadable. Users created by the
 * jobs (`createUser`, `addUserToGroup`, `createGroup`) are not part of a generated pool: those calls throw.
 */
export class GeneratedUserDirectory implements UserDirectory {
  deleted: Bitset;
  disabled: Bitset;
  readonly quotas: AccountQuotas;
  /** Confirmed users deleted: must stay 0 for every purge. */
  confirmedDeleted = 0;

  constructor(
    readonly pool: GeneratedPool,
    private readonly options: GeneratedUserDirectoryOptions,
  ) {
    this.deleted = new Bitset(pool.size);
    this.disabled = new Bitset(pool.size);
    this.quotas = options.quotas ?? new AccountQuotas(options.clock, COGNITO_QUOTAS);
  }

  /** What the directory changed in the pool (deletions, disables), to carry it to another process. */
  saveState(): GeneratedDirectoryState {
    return {
      deleted: this.deleted.bytes,
      disabled: this.disabled.bytes,
      confirmedDeleted: this.confirmedDeleted,
    };
  }

  /** The pool as another process left it ({@link GeneratedUserDirectory.saveState}). */
  loadState(state: GeneratedDirectoryState): void {
    this.deleted = Bitset.fromBytes(this.pool.size, state.deleted);
    this.disabled = Bitset.fromBytes(this.pool.size, state.disabled);
    this.confirmedDeleted = state.confirmedDeleted;
  }

  /** Bytes the directory keeps for the pool's state (the two bitsets). */
  get retainedBytes(): number {
    return this.deleted.byteLength + this.disabled.byteLength;
  }

  /** Calls of `category` admitted and throttled so far (by every directory sharing the account). */
  usageOf(category: string): QuotaUsage {
    return this.quotas.usageOf(category);
  }

  /** Whether user `index` is in the pool now. */
  exists(index: number): boolean {
    return index >= 0 && index < this.pool.size && !this.deleted.has(index);
  }

  async listUsers(query: GeneratedUserQuery = {}): Promise<Page<User>> {
    const pageSize = pageSizeOf(query);
    const filter = readFilter(query);
    this.enter("ListUsers");
    let next = query.pageToken === undefined ? 0 : decodeCursor(query.pageToken, filter.key);
    const items: User[] = [];
    const { size } = this.pool;
    if (filter.prefix !== undefined) {
      // Partition `x`: indexes ≡ x (mod 16), one in sixteen; a longer prefix narrows by a check.
      const digit = Number.parseInt(filter.prefix[0] as string, 16);
      if (next % 16 !== digit) next = next - (next % 16) + digit + (next % 16 > digit ? 16 : 0);
      for (; next < size && items.length < pageSize; next += 16) {
        if (this.deleted.has(next)) continue;
        if (filter.prefix.length > 1 && !this.pool.subOf(next).startsWith(filter.prefix)) continue;
        items.push(this.pool.userOf(next, !this.disabled.has(next)));
      }
    } else {
      for (; next < size && items.length < pageSize; next += 1) {
        if (this.deleted.has(next)) continue;
        if (filter.status !== undefined && this.pool.statusOf(next) !== filter.status) continue;
        items.push(this.pool.userOf(next, !this.disabled.has(next)));
      }
    }
    return { items, ...(next < size ? { nextToken: encodeCursor({ q: filter.key, n: next }) } : {}) };
  }

  async estimatedUserCount(): Promise<number> {
    this.enter("DescribeUserPool");
    return this.pool.size - this.deleted.count;
  }

  async getUser(username: string, options: { includeGroups?: boolean } = {}): Promise<User | undefined> {
    this.enter("AdminGetUser");
    const index = this.pool.indexOfUsername(username);
    if (index === undefined || this.deleted.has(index)) return undefined;
    const user = this.pool.userOf(index, !this.disabled.has(index));
    if (!options.includeGroups) return user;
    this.enter("AdminListGroupsForUser");
    const group = this.pool.groupOf(index);
    return { ...user, groups: group === undefined ? [] : [group] };
  }

  async deleteUser(username: string): Promise<boolean> {
    this.enter("AdminDeleteUser");
    const index = this.pool.indexOfUsername(username);
    if (index === undefined || !this.deleted.add(index)) return false;
    this.disabled.delete(index);
    if (!this.pool.isUnconfirmed(index)) this.confirmedDeleted += 1;
    return true;
  }

  async disableUser(username: string): Promise<void> {
    this.enter("AdminDisableUser");
    this.disabled.add(this.requireIndex(username));
  }

  async enableUser(username: string): Promise<void> {
    this.enter("AdminEnableUser");
    this.disabled.delete(this.requireIndex(username));
  }

  createUser(): Promise<User> {
    return Promise.reject(notGenerated("AdminCreateUser"));
  }

  async listGroups(request: PageRequest = {}): Promise<Page<Group>> {
    this.enter("ListGroups");
    const start = request.pageToken === undefined ? 0 : decodeCursor(request.pageToken, "groups");
    const names = this.pool.groupNames().slice(start, start + 60);
    const next = start + names.length;
    return {
      items: names.map((name) => ({ name })),
      ...(next < this.pool.groups ? { nextToken: encodeCursor({ q: "groups", n: next }) } : {}),
    };
  }

  async listGroupMembers(groupName: string, request: PageRequest = {}): Promise<Page<GroupMember>> {
    this.enter("ListUsersInGroup");
    const g = this.pool.groupIndexOf(groupName);
    if (g === undefined) throw new LifecycleError("DIRECTORY.GROUP_NOT_FOUND", "Group not found.");
    const key = `g:${g}`;
    let next = request.pageToken === undefined ? g : decodeCursor(request.pageToken, key);
    const items: GroupMember[] = [];
    for (; next < this.pool.size && items.length < 60; next += this.pool.groups) {
      if (!this.deleted.has(next))
        items.push({ username: this.pool.usernameOf(next), sub: this.pool.subOf(next) });
    }
    return { items, ...(next < this.pool.size ? { nextToken: encodeCursor({ q: key, n: next }) } : {}) };
  }

  createGroup(): Promise<boolean> {
    return Promise.reject(notGenerated("CreateGroup"));
  }

  addUserToGroup(): Promise<void> {
    return Promise.reject(notGenerated("AdminAddUserToGroup"));
  }

  private requireIndex(username: string): number {
    const index = this.pool.indexOfUsername(username);
    if (index === undefined || this.deleted.has(index)) {
      throw new LifecycleError("USER.NOT_FOUND", "User does not exist.");
    }
    return index;
  }

  private enter(operation: CognitoOperation): void {
    this.quotas.take(COGNITO_OPERATION_CATEGORY[operation], operation);
  }
}

function notGenerated(operation: string): Error {
  return new Error(`${operation}: a generated pool holds only the users made from their index`);
}

const SUB_PREFIX = /^[0-9a-f-]{1,36}$/;

/** The query's one filter (Cognito's ListUsers takes one), and the key its page tokens carry. */
function readFilter(query: GeneratedUserQuery): { key: string; status?: UserStatus; prefix?: string } {
  if (query.subPrefix !== undefined) {
    if (query.status !== undefined) {
      throw new ValidationError(
        "USER.INVALID",
        "subPrefix",
        "cannot be combined with status: Cognito's ListUsers takes one filter per call",
      );
    }
    if (!SUB_PREFIX.test(query.subPrefix) || query.subPrefix[0] === "-") {
      throw new ValidationError(
        "USER.INVALID",
        "subPrefix",
        "must be lowercase hexadecimal digits or dashes (the start of a sub)",
      );
    }
    return { key: `p:${query.subPrefix}`, prefix: query.subPrefix };
  }
  if (query.status !== undefined) return { key: `s:${query.status}`, status: query.status };
  return { key: "*" };
}

function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(token: string, key: string): number {
  try {
    const cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<ListCursor>;
    if (cursor.q === key && Number.isSafeInteger(cursor.n) && (cursor.n as number) >= 0)
      return cursor.n as number;
  } catch {
    // fall through: an unreadable token is as invalid as one of another query
  }
  throw new LifecycleError(
    "DIRECTORY.PAGE_TOKEN_INVALID",
    "Invalid pagination token (it expired or belongs to another query)",
  );
}
