import { parseCsv } from "../../core/csv/escape.js";
import { A_POOL_CSV_HEADER } from "../../core/testing/csv.js";
import { LifecycleError } from "../../core/errors.js";
import type { Clock } from "../../core/ports/clock.js";
import {
  MAX_USERS_PAGE_SIZE,
  type GroupMember,
  type Page,
  type PageRequest,
  listingFilter,
  pageSizeOf,
  type UserDirectory,
  type UserQuery,
} from "../../core/ports/user-directory.js";
import type { ImportJob, UserImportService } from "../../core/ports/user-import.js";
import { type Group, normalizeGroups, type User } from "../../core/user/user.js";
import { COGNITO_QUOTAS } from "../cognito/quotas.js";
import { ManualClock } from "./clock.js";
import { AccountQuotas } from "./rate-limiter.js";

/**
 * Cognito's request-rate quotas per second, by the category each operation counts against (account-wide;
 * the figures and their source are in adapters/cognito/quotas.ts). ListUsers stands for AWS's UserList
 * (ListUsers and ListUsersInGroup), ImportJob for each import-job operation's 5 per second.
 */
export const COGNITO_RATE_LIMITS = {
  ListUsers: COGNITO_QUOTAS.UserList,
  UserRead: COGNITO_QUOTAS.UserRead,
  UserUpdate: COGNITO_QUOTAS.UserUpdate,
  UserCreation: COGNITO_QUOTAS.UserCreation,
  GroupRead: COGNITO_QUOTAS.GroupRead,
  GroupWrite: COGNITO_QUOTAS.GroupWrite,
  ImportJob: COGNITO_QUOTAS.GetCSVHeader,
} as const;
export type QuotaCategory = keyof typeof COGNITO_RATE_LIMITS;

/** An account with Cognito's quotas on `clock`: give it to several directories to make them share them. */
export function cognitoAccountQuotas(clock: Clock): AccountQuotas {
  return new AccountQuotas(clock, COGNITO_RATE_LIMITS);
}

export interface InMemoryUserDirectoryOptions {
  readonly clock?: Clock;
  /**
   * The account whose quotas the directory's calls count against: give several directories the same one
   * to have them share its quotas, as two jobs share Cognito's. Default: an account of the directory's own
   * with `rateLimits`.
   */
  readonly quotas?: AccountQuotas;
  /** Calls per second allowed per category, when no `quotas` are given; a category left out is not limited. */
  readonly rateLimits?: Partial<Record<QuotaCategory, number>>;
  /** Most users a page holds even when more are asked for, to exercise short pages. Default 60. */
  readonly maxPageSize?: number;
  /** The pool's import CSV header (what GetCSVHeader answers). */
  readonly csvHeader?: readonly string[];
  /** Makes new subs; default: deterministic UUID-shaped values from a counter. */
  readonly newSub?: () => string;
  /**
   * What a user's own ConfirmSignUp ({@link InMemoryUserDirectory.confirmSignUp}) does while the user is
   * disabled. AWS does not document it, so both are modelled: `refused` (NotAuthorizedException, the user
   * stays UNCONFIRMED) or `allowed` (the user becomes CONFIRMED and stays disabled). Default `refused`.
   */
  readonly disabledConfirmation?: DisabledConfirmation;
  /**
   * The pool's Post Confirmation trigger: {@link InMemoryUserDirectory.confirmSignUp} calls it with the event
   * Cognito sends, after the confirmation is committed. When it throws, the confirmation answers
   * `UserLambdaValidationException` and the user stays CONFIRMED, as in Cognito.
   */
  readonly postConfirmation?: (event: Record<string, unknown>) => Promise<unknown>;
  /** The pool id the trigger's events carry. Default `eu-west-1_InMemory1`. */
  readonly userPoolId?: string;
}

export type DisabledConfirmation = "refused" | "allowed";

/** Cognito's answer to a confirmation whose Post Confirmation trigger failed (the commit stays). */
export class UserLambdaValidationException extends Error {
  override name = "UserLambdaValidationException";
}

/** The header GetCSVHeader returns for a pool with email sign-in and the `legacy_sub` custom attribute. */
export const DEFAULT_CSV_HEADER: readonly string[] = A_POOL_CSV_HEADER;

interface StoredJob {
  job: ImportJob;
  csv?: string;
}

/**
 * A user pool in memory that behaves like Cognito where the core depends on it: pages of at most 60 with
 * opaque tokens that a deletion invalidates, a status filter, quotas that throw TooManyRequestsException,
 * idempotent deletes, groups, admin-create with a new sub, and user import jobs that read the CSV the way
 * Cognito does (one job at a time, users arrive as RESET_REQUIRED with a new sub).
 */
export class InMemoryUserDirectory implements UserDirectory, UserImportService {
  private readonly users = new Map<string, User>();
  private readonly groups = new Map<string, Group>();
  private readonly members = new Map<string, Set<string>>();
  private readonly jobs = new Map<string, StoredJob>();
  private readonly clock: Clock;
  private readonly quotas: AccountQuotas;
  private readonly maxPageSize: number;
  private readonly csvHeader: readonly string[];
  private readonly newSub: () => string;
  private readonly disabledConfirmation: DisabledConfirmation;
  private readonly postConfirmation?: (event: Record<string, unknown>) => Promise<unknown>;
  private readonly userPoolId: string;
  /** Bumped by every deletion: tokens from an older generation are rejected, as Cognito may do. */
  private generation = 0;
  private subCounter = 0;
  private jobCounter = 0;
  /** Calls made, by operation name: lets tests assert what was (not) done. */
  readonly calls = new Map<string, number>();

  constructor(options: InMemoryUserDirectoryOptions = {}) {
    this.clock = options.clock ?? new ManualClock();
    this.quotas = options.quotas ?? new AccountQuotas(this.clock, options.rateLimits ?? {});
    this.maxPageSize = options.maxPageSize ?? MAX_USERS_PAGE_SIZE;
    this.csvHeader = options.csvHeader ?? DEFAULT_CSV_HEADER;
    this.disabledConfirmation = options.disabledConfirmation ?? "refused";
    if (options.postConfirmation) this.postConfirmation = options.postConfirmation;
    this.userPoolId = options.userPoolId ?? "eu-west-1_InMemory1";
    this.newSub =
      options.newSub ??
      (() => {
        this.subCounter += 1;
        return `ffffffff-0000-4000-8000-${this.subCounter.toString(16).padStart(12, "0")}`;
      });
  }

  /** Puts a user into the pool as given (test setup; no quota, no trigger). Groups must exist. */
  seed(...users: User[]): this {
    for (const user of users) {
      this.users.set(user.username, { ...user, groups: [] });
      for (const group of user.groups) {
        if (!this.groups.has(group)) this.groups.set(group, { name: group });
        this.memberSet(group).add(user.username);
      }
    }
    return this;
  }

  /** Deletes a group and its memberships, as an administrator would (test setup; no quota). */
  deleteGroup(name: string): boolean {
    this.members.delete(name);
    return this.groups.delete(name);
  }

  /** Every user, with groups, sorted by username (test inspection; no quota). */
  snapshot(): User[] {
    return [...this.users.keys()].sort().map((username) => this.withGroups(this.requireUser(username)));
  }

  async listUsers(query: UserQuery = {}): Promise<Page<User>> {
    this.enter("ListUsers", "ListUsers");
    const pageSize = pageSizeOf(query);
    const filter = listingFilter(query);
    const after = query.pageToken === undefined ? undefined : this.decodeToken(query.pageToken);
    const matching = [...this.users.values()]
      .filter(
        (user) =>
          filter === undefined ||
          (filter.kind === "status" ? user.status === filter.status : user.sub.startsWith(filter.prefix)),
      )
      .sort((a, b) => compare(a.username, b.username))
      .filter((user) => after === undefined || user.username > after);
    const items = matching.slice(0, Math.min(pageSize, this.maxPageSize));
    const last = items.at(-1);
    const more = matching.length > items.length && last !== undefined;
    return {
      items: items.map((user) => ({ ...user, groups: [] })),
      ...(more ? { nextToken: this.encodeToken(last.username) } : {}),
    };
  }

  async estimatedUserCount(): Promise<number> {
    this.enter("UserRead", "DescribeUserPool");
    return this.users.size;
  }

  async getUser(username: string, options: { includeGroups?: boolean } = {}): Promise<User | undefined> {
    this.enter("UserRead", "AdminGetUser");
    const user = this.users.get(username);
    if (!user) return undefined;
    if (options.includeGroups) this.enter("UserRead", "AdminListGroupsForUser");
    return options.includeGroups ? this.withGroups(user) : { ...user, groups: [] };
  }

  async deleteUser(username: string): Promise<boolean> {
    this.enter("UserUpdate", "AdminDeleteUser");
    if (!this.users.delete(username)) return false;
    for (const set of this.members.values()) set.delete(username);
    this.generation += 1;
    return true;
  }

  async disableUser(username: string): Promise<void> {
    this.enter("UserUpdate", "AdminDisableUser");
    const user = this.requireUser(username);
    this.users.set(username, { ...user, enabled: false, modifiedAt: this.clock.now() });
  }

  async enableUser(username: string): Promise<void> {
    this.enter("UserUpdate", "AdminEnableUser");
    const user = this.requireUser(username);
    this.users.set(username, { ...user, enabled: true, modifiedAt: this.clock.now() });
  }

  /**
   * The user's own ConfirmSignUp with a valid code (not a port method: what a person does in the app, for
   * race tests): the commit ({@link commitSignUpConfirmation}), then the Post Confirmation trigger, if the
   * directory has one, with the event Cognito sends. Resolves when the person would be told "confirmed".
   *
   * @throws what {@link commitSignUpConfirmation} throws (nothing committed);
   *   {@link UserLambdaValidationException} "PostConfirmation failed with error <message>." when the trigger
   *   throws (the user stays CONFIRMED, as in Cognito).
   */
  async confirmSignUp(username: string): Promise<User> {
    const confirmed = this.commitSignUpConfirmation(username);
    if (this.postConfirmation) {
      try {
        await this.postConfirmation(this.postConfirmationEvent(confirmed));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new UserLambdaValidationException(`PostConfirmation failed with error ${message}.`, {
          cause: error,
        });
      }
    }
    return confirmed;
  }

  /**
   * The commit of a ConfirmSignUp alone, at once (for tests that run the trigger's read at a moment of
   * their choosing). An UNCONFIRMED user becomes CONFIRMED; a disabled one as `disabledConfirmation` says.
   * Returns the user as confirmed (its `enabled` flag is what a Post Confirmation trigger would find).
   *
   * @throws LifecycleError `USER.NOT_FOUND`; `USER.NOT_AUTHORIZED` when the user is not UNCONFIRMED, or is
   *   disabled and `disabledConfirmation` is `refused`.
   */
  commitSignUpConfirmation(username: string): User {
    const user = this.requireUser(username);
    if (user.status !== "UNCONFIRMED") {
      throw new LifecycleError(
        "USER.NOT_AUTHORIZED",
        `User cannot be confirmed. Current status is ${user.status}`,
      );
    }
    if (!user.enabled && this.disabledConfirmation === "refused") {
      throw new LifecycleError("USER.NOT_AUTHORIZED", "User is disabled.");
    }
    const confirmed: User = { ...user, status: "CONFIRMED", modifiedAt: this.clock.now() };
    this.users.set(username, confirmed);
    return { ...confirmed, groups: [] };
  }

  /** The event Cognito sends a Post Confirmation trigger for a sign-up confirmation of `user`. */
  private postConfirmationEvent(user: User): Record<string, unknown> {
    return {
      version: "1",
      region: this.userPoolId.split("_")[0],
      userPoolId: this.userPoolId,
      userName: user.username,
      callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "in-memory-client" },
      triggerSource: "PostConfirmation_ConfirmSignUp",
      request: { userAttributes: { ...user.attributes, "cognito:user_status": "CONFIRMED" } },
      response: {},
    };
  }

  async createUser(user: User): Promise<User> {
    this.enter("UserCreation", "AdminCreateUser");
    if (this.users.has(user.username)) {
      throw new LifecycleError("DIRECTORY.USER_EXISTS", "User account already exists", {
        details: { operation: "AdminCreateUser" },
      });
    }
    const sub = this.newSub();
    const { sub: _oldSub, ...attributes } = user.attributes;
    const now = this.clock.now();
    const created: User = {
      username: user.username,
      sub,
      attributes: { ...attributes, sub },
      status: "FORCE_CHANGE_PASSWORD",
      enabled: true,
      mfaEnabled: false,
      createdAt: now,
      modifiedAt: now,
      groups: [],
    };
    this.users.set(created.username, created);
    return created;
  }

  async listGroups(request: PageRequest = {}): Promise<Page<Group>> {
    this.enter("GroupRead", "ListGroups");
    const names = [...this.groups.keys()].sort(compare);
    return pageOf(
      names.map((name) => this.groups.get(name) as Group),
      request,
      60,
    );
  }

  async listGroupMembers(groupName: string, request: PageRequest = {}): Promise<Page<GroupMember>> {
    // ListUsersInGroup counts against UserList, as ListUsers does.
    this.enter("ListUsers", "ListUsersInGroup");
    if (!this.groups.has(groupName)) throw groupNotFound();
    const members = [...this.memberSet(groupName)]
      .sort(compare)
      .map((username) => ({ username, sub: this.requireUser(username).sub }));
    return pageOf(members, request, 60);
  }

  async createGroup(group: Group): Promise<boolean> {
    this.enter("GroupWrite", "CreateGroup");
    if (this.groups.has(group.name)) return false;
    this.groups.set(group.name, { ...group });
    return true;
  }

  async addUserToGroup(username: string, groupName: string): Promise<void> {
    this.enter("UserUpdate", "AdminAddUserToGroup");
    this.requireUser(username);
    if (!this.groups.has(groupName)) throw groupNotFound();
    this.memberSet(groupName).add(username);
  }

  async getCsvHeader(): Promise<string[]> {
    this.enter("ImportJob", "GetCSVHeader");
    return [...this.csvHeader];
  }

  async createImportJob(jobName: string): Promise<ImportJob> {
    this.enter("ImportJob", "CreateUserImportJob");
    this.jobCounter += 1;
    const job: ImportJob = {
      jobId: `import-${this.jobCounter.toString().padStart(6, "0")}`,
      jobName,
      status: "Created",
      imported: 0,
      skipped: 0,
      failed: 0,
    };
    this.jobs.set(job.jobId, { job });
    return job;
  }

  async uploadCsv(jobId: string, csv: string): Promise<void> {
    const stored = this.requireJob(jobId);
    stored.csv = csv;
  }

  async startImportJob(jobId: string): Promise<ImportJob> {
    this.enter("ImportJob", "StartUserImportJob");
    const stored = this.requireJob(jobId);
    const active = [...this.jobs.values()].some((other) =>
      ["Pending", "InProgress", "Stopping"].includes(other.job.status),
    );
    if (active) {
      throw new LifecycleError(
        "IMPORT.JOB_ALREADY_ACTIVE",
        "Another user import job is running in this account",
      );
    }
    stored.job = { ...stored.job, status: "InProgress" };
    return stored.job;
  }

  async describeImportJob(jobId: string): Promise<ImportJob> {
    this.enter("ImportJob", "DescribeUserImportJob");
    const stored = this.requireJob(jobId);
    // The job runs "in the background": it has finished by the first look after its start.
    if (stored.job.status === "InProgress") stored.job = this.runImport(stored);
    return stored.job;
  }

  private runImport(stored: StoredJob): ImportJob {
    if (stored.csv === undefined) {
      return { ...stored.job, status: "Failed", completionMessage: "No file was uploaded for the job" };
    }
    let rows: string[][];
    try {
      rows = parseCsv(stored.csv);
    } catch {
      return { ...stored.job, status: "Failed", completionMessage: "The file is not a valid CSV" };
    }
    const [header, ...body] = rows;
    if (!header || header.join(",") !== this.csvHeader.join(",")) {
      return {
        ...stored.job,
        status: "Failed",
        completionMessage: "The CSV header does not match the pool's",
      };
    }
    let imported = 0;
    let failed = 0;
    const now = this.clock.now();
    for (const row of body) {
      const record = Object.fromEntries(header.map((column, i) => [column, row[i] ?? ""]));
      const username = record["cognito:username"] ?? "";
      const verified =
        (record.email_verified === "true" && record.email !== "") ||
        (record.phone_number_verified === "true" && record.phone_number !== "");
      if (
        row.length !== header.length ||
        username === "" ||
        /\s/.test(username) ||
        this.users.has(username) ||
        !["true", "false"].includes(record["cognito:mfa_enabled"] ?? "") ||
        !verified
      ) {
        failed += 1;
        continue;
      }
      const sub = this.newSub();
      const attributes: Record<string, string> = { sub };
      for (const [column, value] of Object.entries(record)) {
        if (column.startsWith("cognito:") || value === "") continue;
        attributes[column] = value;
      }
      this.users.set(username, {
        username,
        sub,
        attributes,
        status: "RESET_REQUIRED",
        enabled: true,
        mfaEnabled: record["cognito:mfa_enabled"] === "true",
        createdAt: now,
        modifiedAt: now,
        groups: [],
      });
      imported += 1;
    }
    return {
      ...stored.job,
      status: failed > 0 && imported === 0 ? "Failed" : "Succeeded",
      imported,
      failed,
      completionMessage:
        failed > 0 ? `${failed} users could not be imported` : "Import Job Completed Successfully.",
    };
  }

  private enter(category: QuotaCategory, operation: string): void {
    this.quotas.take(category, operation);
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
  }

  private requireUser(username: string): User {
    const user = this.users.get(username);
    if (!user) throw new LifecycleError("USER.NOT_FOUND", "User does not exist.");
    return user;
  }

  private requireJob(jobId: string): StoredJob {
    const stored = this.jobs.get(jobId);
    if (!stored) throw new LifecycleError("IMPORT.JOB_NOT_FOUND", `No user import job ${jobId}`);
    return stored;
  }

  private memberSet(group: string): Set<string> {
    let set = this.members.get(group);
    if (!set) {
      set = new Set();
      this.members.set(group, set);
    }
    return set;
  }

  private withGroups(user: User): User {
    const groups = [...this.members.entries()]
      .filter(([, set]) => set.has(user.username))
      .map(([name]) => name);
    return { ...user, groups: normalizeGroups(groups) };
  }

  private encodeToken(lastUsername: string): string {
    return Buffer.from(JSON.stringify([this.generation, lastUsername])).toString("base64url");
  }

  private decodeToken(token: string): string {
    try {
      const [generation, last] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as [
        number,
        string,
      ];
      if (generation === this.generation && typeof last === "string") return last;
    } catch {
      // fall through: an unreadable token is as invalid as a stale one
    }
    throw new LifecycleError(
      "DIRECTORY.PAGE_TOKEN_INVALID",
      "Invalid pagination token (it expired or the pool changed)",
    );
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupNotFound(): LifecycleError {
  return new LifecycleError("DIRECTORY.GROUP_NOT_FOUND", "Group not found.");
}

function pageOf<T>(items: readonly T[], request: PageRequest, size: number): Page<T> {
  const start = request.pageToken === undefined ? 0 : Number.parseInt(request.pageToken, 10);
  const slice = items.slice(start, start + size);
  const next = start + size;
  return { items: slice, ...(next < items.length ? { nextToken: String(next) } : {}) };
}
