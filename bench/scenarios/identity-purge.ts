/**
 * 2. Identity purge against the in-memory user directory throttling at Cognito's quotas (the real clock, 25
 * AdminDeleteUser and 30 ListUsers per second; excess calls throw TooManyRequestsException).
 * - ours: purgeUnconfirmedIdentities over the directory paced and retried by the Cognito adapter's own
 *   CognitoCalls (adaptive pacing per quota category, throttling retried until the deadline), as CognitoUserDirectory
 *   does in production. Only the transport differs: the in-memory pool instead of the SDK.
 * - baseline: list the unconfirmed users, keep the expired ones, delete them all in one unbounded
 *   Promise.all, no pacing, no retry (what a quick script does; the failures are logged and forgotten).
 */
import { performance } from "node:perf_hooks";
import { CognitoCalls } from "../../adapters/cognito/cognito-calls.js";
import { COGNITO_QUOTAS } from "../../adapters/cognito/quotas.js";
import { COGNITO_RATE_LIMITS, InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { systemClock } from "../../adapters/shared/time.js";
import { errorCode, isThrottlingError } from "../../core/errors.js";
import type { GroupMember, Page, UserDirectory, UserQuery } from "../../core/ports/user-directory.js";
import {
  MAX_IDENTITY_DELETIONS_PER_RUN,
  type PurgeReport,
  parsePurgePolicy,
} from "../../core/purge/index.js";
import { purgeUnconfirmedIdentities } from "../../core/use-cases/purge-unconfirmed-identities.js";
import { type Group, makeUser, type User } from "../../core/user/user.js";
import { ISSUE_SIZES } from "../lib/args.js";
import type { Scenario } from "../lib/scenario.js";
import { formatNumber } from "../lib/table.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const MIN_RATE_SHARE = 0.95;

export const identityPurge: Scenario = async ({ options, log }) => {
  const expiredCount = options.users;
  const now = Date.now();

  // ---- baseline ----
  const baselinePool = newPool(expiredCount, now);
  log(`baseline: list, then Promise.all of ${formatNumber(expiredCount)} deletes, no pacing`);
  const baseline = await naivePurge(baselinePool.directory, new Date(now - DAY_MS));
  const baselineLeft = baselinePool.expiredLeft();

  // ---- ours ----
  const oursPool = newPool(expiredCount, Date.now());
  const paced = new PacedDirectory(
    oursPool.directory,
    new CognitoCalls({ rateLimits: { UserUpdate: options.deleteRate } }),
  );
  log(
    `ours: purgeUnconfirmedIdentities, runs of at most ${MAX_IDENTITY_DELETIONS_PER_RUN}, paced at ${options.deleteRate} deletes/s (~${Math.ceil(expiredCount / options.deleteRate)} s)`,
  );
  const started = performance.now();
  // A run deletes at most MAX_IDENTITY_DELETIONS_PER_RUN (its plan travels in a step's state): runs follow
  // one another until nothing is left, as the schedule would run them.
  const policy = parsePurgePolicy({
    minAge: "24h",
    maxDeletionsPerRun: Math.min(expiredCount, MAX_IDENTITY_DELETIONS_PER_RUN),
    maxShareOfPool: 1,
  });
  const runs: PurgeReport[] = [];
  let report: PurgeReport;
  do {
    report = await purgeUnconfirmedIdentities({ directory: paced, clock: systemClock }, { policy });
    runs.push(report);
  } while (report.deferred > 0 && report.deleted > 0);
  report = {
    ...report,
    deleted: runs.reduce((sum, r) => sum + r.deleted, 0),
    failed: runs.reduce((sum, r) => sum + r.failed, 0),
  };
  const oursMs = performance.now() - started;
  const oursLeft = oursPool.expiredLeft();
  const sparedOk = oursPool.othersLeft() === oursPool.others;
  const deletePhaseS = (paced.lastDeleteEnd - paced.firstDeleteStart) / 1000;
  const rate = paced.deletes / deletePhaseS;

  const notes = [
    `pool: ${formatNumber(expiredCount)} expired unconfirmed + ${formatNumber(oursPool.others)} others (confirmed, or unconfirmed under 24 h) that must stay.`,
    `quotas enforced by InMemoryUserDirectory: ListUsers ${COGNITO_RATE_LIMITS.ListUsers}/s, AdminDeleteUser ${COGNITO_RATE_LIMITS.UserUpdate}/s, AdminGetUser ${COGNITO_RATE_LIMITS.UserRead}/s (real clock).`,
    `ours: CognitoCalls pacing adaptively from half of each quota up to UserUpdate ${options.deleteRate}/s (adapter default: the quota, ${COGNITO_QUOTAS.UserUpdate}), UserList ${COGNITO_QUOTAS.UserList}/s, UserRead ${COGNITO_QUOTAS.UserRead}/s; each user is re-read (AdminGetUser) before its delete.`,
    "delete rate = deletions / (first delete sent → last delete answered); the configured rate is the pacing rate.",
    "the in-memory pool answers at once: against Cognito, a naive loop's rate depends on latency, but an unbounded Promise.all bursts past 25/s just the same.",
  ];
  if (expiredCount < ISSUE_SIZES.users) {
    notes.push(
      `smaller than the issue's ${formatNumber(ISSUE_SIZES.users)} users to keep the run short (${Math.ceil(ISSUE_SIZES.users / options.deleteRate)} s at ${options.deleteRate}/s): pass --users ${ISSUE_SIZES.users}.`,
    );
  }
  return {
    parameters: {
      expiredUsers: expiredCount,
      otherUsers: oursPool.others,
      deleteRate: options.deleteRate,
      quotas: { ListUsers: COGNITO_RATE_LIMITS.ListUsers, UserUpdate: COGNITO_RATE_LIMITS.UserUpdate },
    },
    metrics: [
      { measure: "total time", unit: "ms", ours: oursMs, baseline: baseline.ms },
      {
        measure: "expired users deleted",
        unit: "count",
        ours: report.deleted,
        baseline: baseline.deleted,
      },
      {
        measure: "failed deletions",
        unit: "count",
        ours: report.failed,
        baseline: baseline.failed,
        target: "0",
        met: report.failed === 0,
      },
      {
        measure: "lost (expired, still in pool)",
        unit: "count",
        ours: oursLeft,
        baseline: baselineLeft,
        target: "0",
        met: oursLeft === 0,
      },
      {
        measure: "listing",
        unit: "text",
        ours: `${paced.listCalls} pages, ok`,
        baseline: baseline.listingError ? `stopped: ${baseline.listingError}` : `${baseline.pages} pages, ok`,
      },
      {
        measure: "throttled answers seen",
        unit: "count",
        ours: paced.throttled,
        baseline: baseline.throttled,
      },
      {
        measure: "achieved delete rate",
        unit: "per-second",
        ours: rate,
        baseline: `${formatNumber(baseline.deleted)} in ${Math.round(baseline.ms)} ms, rest refused`,
        target: `>= ${Math.round(MIN_RATE_SHARE * 100)}% of ${options.deleteRate}/s`,
        met: rate >= MIN_RATE_SHARE * options.deleteRate,
      },
      {
        measure: "others spared",
        unit: "text",
        ours: sparedOk ? "all" : "SOME DELETED",
        baseline: baselinePool.othersLeft() === baselinePool.others ? "all" : "SOME DELETED",
      },
    ],
    notes,
    details: {
      ours: {
        report,
        deletePhaseSeconds: deletePhaseS,
        rateShare: rate / options.deleteRate,
        throttled: paced.throttled,
      },
      baseline,
    },
  };
};

/** A pool with `expired` users to purge and others that must stay, throttled at Cognito's quotas. */
function newPool(expired: number, now: number) {
  const directory = new InMemoryUserDirectory({
    clock: systemClock,
    rateLimits: {
      ListUsers: COGNITO_RATE_LIMITS.ListUsers,
      UserUpdate: COGNITO_RATE_LIMITS.UserUpdate,
      UserRead: COGNITO_RATE_LIMITS.UserRead,
    },
  });
  const users: User[] = [];
  const expiredNames = new Set<string>();
  for (let i = 0; i < expired; i++) {
    const username = `expired-${i.toString().padStart(6, "0")}`;
    expiredNames.add(username);
    users.push(member(username, i, "UNCONFIRMED", now - (2 + (i % 30)) * DAY_MS));
  }
  const others = Math.max(10, Math.round(expired * 1.1));
  for (let i = 0; i < others; i++) {
    const recent = i % 11 === 0;
    users.push(
      member(
        `member-${i.toString().padStart(6, "0")}`,
        expired + i,
        recent ? "UNCONFIRMED" : "CONFIRMED",
        recent ? now - ((i % 20) + 1) * 60 * 60 * 1000 : now - 40 * DAY_MS,
      ),
    );
  }
  directory.seed(...users);
  const present = () => directory.snapshot();
  return {
    directory,
    others,
    expiredLeft: () => present().filter((user) => expiredNames.has(user.username)).length,
    othersLeft: () => present().filter((user) => !expiredNames.has(user.username)).length,
  };
}

function member(username: string, n: number, status: User["status"], createdAt: number): User {
  const sub = `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
  return makeUser({
    username,
    sub,
    status,
    createdAt: new Date(createdAt),
    modifiedAt: new Date(createdAt),
    attributes: {
      email: `${username}@example.test`,
      email_verified: status === "CONFIRMED" ? "true" : "false",
    },
  });
}

/** The straightforward script: list everything, then fire every delete at once; errors are counted, not retried. */
async function naivePurge(directory: UserDirectory, cutoff: Date) {
  const started = performance.now();
  const expired: string[] = [];
  let pages = 0;
  let listingError: string | undefined;
  let throttled = 0;
  try {
    let token: string | undefined;
    do {
      const query: UserQuery = { status: "UNCONFIRMED", ...(token ? { pageToken: token } : {}) };
      const page: Page<User> = await directory.listUsers(query);
      pages += 1;
      for (const user of page.items) {
        if (user.createdAt && user.createdAt.getTime() < cutoff.getTime()) expired.push(user.username);
      }
      token = page.nextToken;
    } while (token !== undefined);
  } catch (error) {
    // The script goes on with what it has, as a catch-all handler does.
    listingError = errorCode(error);
    if (isThrottlingError(error)) throttled += 1;
  }
  const settled = await Promise.allSettled(expired.map((username) => directory.deleteUser(username)));
  let deleted = 0;
  const failureCodes: Record<string, number> = {};
  for (const outcome of settled) {
    if (outcome.status === "fulfilled") {
      if (outcome.value) deleted += 1;
      continue;
    }
    if (isThrottlingError(outcome.reason)) throttled += 1;
    const code = errorCode(outcome.reason);
    failureCodes[code] = (failureCodes[code] ?? 0) + 1;
  }
  return {
    ms: performance.now() - started,
    pages,
    listed: expired.length,
    listingError,
    deleted,
    failed: settled.length - deleted,
    failureCodes,
    throttled,
  };
}

/**
 * The in-memory pool behind the Cognito adapter's pacing: every call waits for its quota category's limiter
 * and is retried with backoff while throttled, exactly as CognitoUserDirectory runs its SDK calls. Also
 * records when deletions went out and how often the pool throttled.
 */
class PacedDirectory implements UserDirectory {
  deletes = 0;
  listCalls = 0;
  throttled = 0;
  firstDeleteStart = Number.NaN;
  lastDeleteEnd = Number.NaN;

  constructor(
    private readonly inner: UserDirectory,
    private readonly calls: CognitoCalls,
  ) {}

  listUsers(query?: UserQuery): Promise<Page<User>> {
    this.listCalls += 1;
    return this.calls.run("ListUsers", () => this.counted(() => this.inner.listUsers(query)));
  }

  estimatedUserCount(): Promise<number> {
    return this.calls.run("DescribeUserPool", () => this.counted(() => this.inner.estimatedUserCount()));
  }

  getUser(username: string, options?: { includeGroups?: boolean }): Promise<User | undefined> {
    return this.calls.run("AdminGetUser", () => this.counted(() => this.inner.getUser(username, options)));
  }

  async deleteUser(username: string): Promise<boolean> {
    const deleted = await this.calls.run("AdminDeleteUser", () =>
      this.counted(() => {
        if (Number.isNaN(this.firstDeleteStart)) this.firstDeleteStart = performance.now();
        return this.inner.deleteUser(username);
      }),
    );
    this.lastDeleteEnd = performance.now();
    if (deleted) this.deletes += 1;
    return deleted;
  }

  disableUser(username: string): Promise<void> {
    return this.calls.run("AdminDisableUser", () => this.counted(() => this.inner.disableUser(username)));
  }

  enableUser(username: string): Promise<void> {
    return this.calls.run("AdminEnableUser", () => this.counted(() => this.inner.enableUser(username)));
  }

  createUser(user: User): Promise<User> {
    return this.calls.run("AdminCreateUser", () => this.counted(() => this.inner.createUser(user)));
  }

  listGroups(request?: { pageToken?: string }): Promise<Page<Group>> {
    return this.calls.run("ListGroups", () => this.counted(() => this.inner.listGroups(request)));
  }

  listGroupMembers(groupName: string, request?: { pageToken?: string }): Promise<Page<GroupMember>> {
    return this.calls.run("ListUsersInGroup", () =>
      this.counted(() => this.inner.listGroupMembers(groupName, request)),
    );
  }

  createGroup(group: Group): Promise<boolean> {
    return this.calls.run("CreateGroup", () => this.counted(() => this.inner.createGroup(group)));
  }

  addUserToGroup(username: string, groupName: string): Promise<void> {
    return this.calls.run("AdminAddUserToGroup", () =>
      this.counted(() => this.inner.addUserToGroup(username, groupName)),
    );
  }

  private async counted<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isThrottlingError(error)) this.throttled += 1;
      throw error;
    }
  }
}
