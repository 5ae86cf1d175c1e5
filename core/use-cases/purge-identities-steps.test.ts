/**
 * The identity purge as durable steps: a crash at every boundary, a pool of 200,000 unconfirmed users listed
 * in O(cap) memory, a backlog over 5% of the pool drained run after run, and a wrong clock or minimum age
 * refused.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { type DisabledConfirmation, InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { LifecycleError } from "../errors.js";
import type { Page, UserDirectory, UserQuery } from "../ports/user-directory.js";
import {
  confirmationHeldByFence,
  DEFAULT_PURGE_POLICY,
  MAX_IDENTITY_DELETIONS_PER_RUN,
  type PurgePolicy,
} from "../purge/index.js";
import { MAX_STEP_STATE_BYTES, runSteps } from "../steps/step.js";
import { aUser } from "../testing/builders.js";
import { CrashInjector, everyBoundary, runStepsThroughCrashes } from "../testing/crash.js";
import { errorOf } from "../testing/errors.js";
import { makeUser, type User } from "../user/user.js";
import {
  identityPurgePlan,
  identityPurgeReport,
  identityPurgeStep,
  parsePurgeState,
  type PurgeState,
  purgeUnconfirmedIdentities,
  startIdentityPurge,
} from "./purge-unconfirmed-identities.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number, from: Date = NOW) => new Date(from.getTime() - ms);
const policy = (overrides: Partial<PurgePolicy> = {}): PurgePolicy => ({
  ...DEFAULT_PURGE_POLICY,
  ...overrides,
});

/** A directory whose every call takes `ms` on the clock, so steps reach their deadlines. */
function slow<T extends object>(target: T, clock: ManualClock, ms: number): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        clock.advance(ms);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

describe("the identity purge in steps, crashed at every boundary", () => {
  const scenario = async (injector: CrashInjector) => {
    const clock = new ManualClock(NOW);
    const directory = new InMemoryUserDirectory({ clock, maxPageSize: 2 });
    // The oldest confirms as the purge comes to them: the plan holds them, the fence spares them.
    const person = aUser({ username: "person", status: "UNCONFIRMED", createdAt: ago(10 * DAY) });
    const old = [8, 7, 6, 5, 4, 3].map((days) =>
      aUser({ username: `old-${days}d`, status: "UNCONFIRMED", createdAt: ago(days * DAY) }),
    );
    const young = [1, 2].map((h) =>
      aUser({ username: `young-${h}h`, status: "UNCONFIRMED", createdAt: ago(h * HOUR) }),
    );
    const members = [1, 2, 3].map((i) => aUser({ username: `member-${i}`, createdAt: ago(100 * DAY) }));
    directory.seed(person, ...old, ...young, ...members);
    const getUser = directory.getUser.bind(directory);
    directory.getUser = async (username, options) => {
      if (
        username === "person" &&
        directory.snapshot().find((u) => u.username === username)?.status === "UNCONFIRMED"
      ) {
        directory.confirmSignUp(username);
      }
      return getUser(username, options);
    };
    const deletes = new Map<string, number>();
    const deleteUser = directory.deleteUser.bind(directory);
    directory.deleteUser = async (username) => {
      const deleted = await deleteUser(username);
      if (deleted) deletes.set(username, (deletes.get(username) ?? 0) + 1);
      return deleted;
    };
    const wrapped = injector.wrap(slow(directory as UserDirectory, clock, 10_000), "directory");
    const result = await runStepsThroughCrashes(
      () => identityPurgeStep({ directory: wrapped, clock }, { marginMs: 30_000 }),
      startIdentityPurge(clock, { policy: policy({ maxDeletionsPerRun: 5 }) }),
      {
        clock,
        stepBudgetMs: 60_000,
        injector,
        // Every state a step hands on is one the function accepts back (from a state machine, or to resume).
        onState: (state: PurgeState) => {
          expect(parsePurgeState(state)).toEqual(state);
        },
      },
    );
    return { result, directory, deletes, report: identityPurgeReport(clock, result.state) };
  };

  it("runs in many steps without a crash", async () => {
    const { report, result } = await scenario(new CrashInjector());
    expect(result.crashes).toBe(0);
    expect(report).toMatchObject({ deleted: 4, failed: 0, deferred: 2, stoppedBy: "completed" });
    expect(report.skippedByReason).toMatchObject({ NO_LONGER_ELIGIBLE: 1, TOO_YOUNG: 2 });
  });

  it("deletes no confirmed user and nobody twice, leaves nobody disabled, and counts each planned user once", async () => {
    const boundaries = await everyBoundary(scenario);
    expect(boundaries.length).toBeGreaterThan(40);
    for (const boundary of boundaries) {
      const at = `crash at boundary ${boundary}`;
      const { result, directory, deletes, report } = await scenario(new CrashInjector([boundary]));
      expect(result.crashes, at).toBe(1);
      const left = directory.snapshot();
      expect(left.map((u) => u.username).sort(), at).toEqual(
        ["member-1", "member-2", "member-3", "old-3d", "old-4d", "person", "young-1h", "young-2h"].sort(),
      );
      expect(
        left.every((u) => u.enabled),
        at,
      ).toBe(true);
      expect(left.find((u) => u.username === "person")?.status, at).toBe("CONFIRMED");
      expect(
        [...deletes.values()].every((n) => n === 1),
        at,
      ).toBe(true);
      expect(deletes.size, at).toBe(4);
      // Five planned: four gone (one perhaps found already deleted by the step run again), one spared.
      const already = report.skippedByReason.ALREADY_DELETED ?? 0;
      expect(report.deleted + already, at).toBe(4);
      expect(report.skippedByReason.NO_LONGER_ELIGIBLE, at).toBe(1);
      expect(report.failed, at).toBe(0);
      expect(report.deferred, at).toBe(2);
    }
  });
});

describe("the identity purge crashed at every boundary, with people confirming before it runs again", () => {
  /**
   * A crash between a fence's disable and its delete leaves a user disabled, and a disabled user's
   * ConfirmSignUp may commit (then its trigger holds it): the step run again must enable again whoever was
   * enabled when listed and is no longer eligible, and still never enable a user an operator had disabled.
   */
  const scenario = async (injector: CrashInjector, behaviour: DisabledConfirmation) => {
    const clock = new ManualClock(NOW);
    const directory = new InMemoryUserDirectory({ clock, maxPageSize: 2, disabledConfirmation: behaviour });
    const planned = [9, 8, 7, 6, 5].map((days) =>
      aUser({ username: `p-${days}d`, status: "UNCONFIRMED", createdAt: ago(days * DAY) }),
    );
    // Disabled by an operator before the purge listed it: the purge may delete it, never enable it.
    const locked = aUser({
      username: "locked",
      status: "UNCONFIRMED",
      enabled: false,
      createdAt: ago(4 * DAY),
    });
    const members = [1, 2].map((i) => aUser({ username: `member-${i}`, createdAt: ago(100 * DAY) }));
    directory.seed(...planned, locked, ...members);
    const confirmedDeleted: string[] = [];
    const confirmations: { username: string; succeeded: boolean }[] = [];
    const deleteUser = directory.deleteUser.bind(directory);
    directory.deleteUser = async (username) => {
      const user = directory.snapshot().find((u) => u.username === username);
      if (user && user.status !== "UNCONFIRMED") confirmedDeleted.push(username);
      return deleteUser(username);
    };
    /** Between the crash and the rerun, everyone the purge left disabled confirms, with their code. */
    const peopleConfirm = () => {
      for (const user of directory.snapshot()) {
        if (user.status !== "UNCONFIRMED" || user.enabled) continue;
        try {
          const committed = directory.commitSignUpConfirmation(user.username);
          // The trigger runs inside that ConfirmSignUp and holds a disabled user's confirmation.
          confirmations.push({ username: user.username, succeeded: !confirmationHeldByFence(committed) });
        } catch {
          // refused: the person is told so, and stays UNCONFIRMED
        }
      }
    };
    const wrapped = injector.wrap(slow(directory as UserDirectory, clock, 10_000), "directory");
    let started = false;
    const result = await runStepsThroughCrashes(
      () => {
        if (started) peopleConfirm();
        started = true;
        return identityPurgeStep({ directory: wrapped, clock }, { marginMs: 30_000 });
      },
      startIdentityPurge(clock, { policy: policy({ maxDeletionsPerRun: 10, maxShareOfPool: 1 }) }),
      { clock, stepBudgetMs: 60_000, injector },
    );
    return {
      result,
      directory,
      confirmedDeleted,
      confirmations,
      report: identityPurgeReport(clock, result.state),
    };
  };

  for (const behaviour of ["allowed", "refused"] as const) {
    it(`deletes no confirmed user and leaves disabled no one enabled when listed (ConfirmSignUp of a disabled user ${behaviour})`, async () => {
      const boundaries = await everyBoundary((injector) => scenario(injector, behaviour));
      expect(boundaries.length).toBeGreaterThan(30);
      let confirmedBetween = 0;
      for (const boundary of boundaries) {
        const at = `crash at boundary ${boundary}`;
        const { result, directory, confirmedDeleted, confirmations, report } = await scenario(
          new CrashInjector([boundary]),
          behaviour,
        );
        expect(result.crashes, at).toBe(1);
        expect(confirmedDeleted, at).toEqual([]);
        const left = new Map(directory.snapshot().map((u) => [u.username, u]));
        for (const { username } of confirmations) {
          expect(left.get(username)?.status, `${at}: ${username} confirmed`).toBe("CONFIRMED");
          if (username !== "locked") confirmedBetween += 1;
        }
        for (const user of left.values()) {
          if (user.username === "locked") expect(user.enabled, at).toBe(false);
          else expect(user.enabled, `${at}: ${user.username} left disabled`).toBe(true);
        }
        // Who did not confirm is gone; whoever confirmed stays.
        const stayed = new Set(["member-1", "member-2", ...confirmations.map((c) => c.username)]);
        expect([...left.keys()].sort(), at).toEqual([...stayed].sort());
        expect(report.failed, at).toBe(0);
      }
      // The crash did fall between a disable and a delete, and someone confirmed there.
      if (behaviour === "allowed") expect(confirmedBetween).toBeGreaterThan(0);
      else expect(confirmedBetween).toBe(0);
    });
  }
});

describe("parsePurgeState", () => {
  it("refuses a plan whose users listed disabled lie past its end, naming the entry", () => {
    const clock = new ManualClock(NOW);
    const state = startIdentityPurge(clock, {
      policy: policy(),
      previewed: {
        cutoff: ago(DAY),
        dryRun: false,
        toDelete: ["a", "b"],
        disabledAtListing: [1],
        deferred: 0,
        skippedByReason: {},
        eligible: 2,
        candidates: 2,
        poolSize: 10,
      },
    });
    const stored = JSON.parse(JSON.stringify(state)) as PurgeState;
    expect(parsePurgeState(stored).plan?.disabledAtListing).toEqual([1]);
    const bad = { ...stored, plan: { ...stored.plan, disabledAtListing: [0, 2] } };
    expect(errorOf(() => parsePurgeState(bad))).toMatchObject({
      code: "STEP.STATE_INVALID",
      field: "state.plan.disabledAtListing.1",
    });
  });
});

/** 200,000 unconfirmed users made from their index (no 200,000 objects held), listed 60 per page. */
class GeneratedPool implements Pick<UserDirectory, "listUsers" | "estimatedUserCount"> {
  listCalls = 0;
  constructor(
    readonly size: number,
    private readonly clock: ManualClock,
  ) {}

  /** User i signed up `(i * 7919) % size` minutes before the day before NOW: all eligible, ages scattered. */
  static ageOf(i: number, size: number): number {
    return DAY + (((i * 7919) % size) + 1) * 60_000;
  }

  async listUsers(query: UserQuery = {}): Promise<Page<User>> {
    this.listCalls += 1;
    this.clock.advance(200);
    expect(query.status).toBe("UNCONFIRMED");
    const from = query.pageToken === undefined ? 0 : Number(query.pageToken);
    const to = Math.min(this.size, from + 60);
    const items: User[] = [];
    for (let i = from; i < to; i += 1) {
      items.push(
        makeUser({
          username: `gen-${i.toString().padStart(7, "0")}`,
          sub: `00000000-0000-4000-8000-${i.toString().padStart(12, "0")}`,
          status: "UNCONFIRMED",
          createdAt: ago(GeneratedPool.ageOf(i, this.size)),
        }),
      );
    }
    return { items, ...(to < this.size ? { nextToken: String(to) } : {}) };
  }

  async estimatedUserCount(): Promise<number> {
    return this.size * 10;
  }
}

describe("the identity purge's listing on a large pool", () => {
  it("holds at most the cap of candidates in memory, whatever the pool's size, and plans the oldest of them", async () => {
    const clock = new ManualClock(NOW);
    const size = 200_000;
    const cap = 500;
    const pool = new GeneratedPool(size, clock);
    const directory = pool as unknown as UserDirectory;
    const heapSizes: number[] = [];
    const stored: number[] = [];
    const { state, steps } = await runSteps(
      identityPurgeStep({ directory, clock }, { onPage: (n) => heapSizes.push(n) }),
      startIdentityPurge(clock, {
        policy: policy({ maxDeletionsPerRun: cap, maxShareOfPool: 1, dryRun: true }),
      }),
      {
        clock,
        stepBudgetMs: 5 * 60_000,
        onState: (s: PurgeState) => {
          stored.push(s.listing?.tally.oldest.length ?? s.plan?.toDelete.length ?? 0);
        },
      },
    );
    expect(pool.listCalls).toBe(Math.ceil(size / 60));
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(heapSizes).toHaveLength(pool.listCalls);
    expect(Math.max(...heapSizes)).toBe(cap);
    expect(Math.max(...stored)).toBeLessThanOrEqual(cap);
    const plan = identityPurgePlan(state);
    expect(plan).toMatchObject({ eligible: size, candidates: size, deferred: size - cap });
    // The oldest `cap`: ages are a permutation of 1…size minutes past a day, so the oldest are the largest.
    const expected = Array.from({ length: size }, (_, i) => i)
      .sort((a, b) => GeneratedPool.ageOf(b, size) - GeneratedPool.ageOf(a, size))
      .slice(0, cap)
      .map((i) => `gen-${i.toString().padStart(7, "0")}`);
    expect(plan?.toDelete).toEqual(expected);
  });

  it("keeps its state within what a step may pass on, even with the longest usernames", async () => {
    const clock = new ManualClock(NOW);
    // 128 characters of 3 bytes each: the byte bound, not the cap, limits the plan.
    const users = Array.from({ length: 1500 }, (_, i) =>
      aUser({
        username: `${i.toString().padStart(4, "0")}${"名".repeat(124)}`,
        status: "UNCONFIRMED",
        createdAt: ago(2 * DAY + i * 1000),
      }),
    );
    const directory = new InMemoryUserDirectory({ clock }).seed(...users);
    const { state } = await runSteps(
      identityPurgeStep({ directory, clock }),
      startIdentityPurge(clock, {
        policy: policy({
          maxDeletionsPerRun: MAX_IDENTITY_DELETIONS_PER_RUN,
          maxShareOfPool: 1,
          dryRun: true,
        }),
      }),
      { clock, stepBudgetMs: 15 * 60_000 },
    );
    const plan = identityPurgePlan(state);
    expect(Buffer.byteLength(JSON.stringify(state))).toBeLessThanOrEqual(MAX_STEP_STATE_BYTES);
    expect(plan?.toDelete.length).toBeGreaterThan(0);
    expect(plan?.toDelete.length).toBeLessThan(MAX_IDENTITY_DELETIONS_PER_RUN);
    expect((plan?.toDelete.length ?? 0) + (plan?.deferred ?? 0)).toBe(1500);
    // Still the oldest first.
    expect(plan?.toDelete[0]).toBe(users[1499]?.username);
  });

  it("lists again from the first page when Cognito refuses an expired page token", async () => {
    const clock = new ManualClock(NOW);
    const inner = new InMemoryUserDirectory({ clock, maxPageSize: 3 }).seed(
      ...Array.from({ length: 10 }, (_, i) =>
        aUser({ status: "UNCONFIRMED", createdAt: ago(2 * DAY + i * 1000) }),
      ),
    );
    let refusals = 0;
    const directory = new Proxy(inner, {
      get(target, property, receiver) {
        if (property !== "listUsers") return Reflect.get(target, property, receiver) as unknown;
        return async (query: UserQuery) => {
          if (query.pageToken !== undefined && refusals === 0) {
            refusals += 1;
            throw new LifecycleError("DIRECTORY.PAGE_TOKEN_INVALID", "expired");
          }
          return target.listUsers(query);
        };
      },
    });
    const report = await purgeUnconfirmedIdentities(
      { directory, clock },
      { policy: policy({ maxShareOfPool: 1 }) },
    );
    expect(refusals).toBe(1);
    expect(report).toMatchObject({ candidates: 10, eligible: 10, deleted: 10 });
  });

  it("refuses a cap above what its state can carry, naming the setting, before any call", async () => {
    const clock = new ManualClock(NOW);
    const directory = new InMemoryUserDirectory({ clock }).seed(
      aUser({ status: "UNCONFIRMED", createdAt: ago(3 * DAY) }),
    );
    const error = errorOf(() =>
      startIdentityPurge(clock, {
        policy: policy({ maxDeletionsPerRun: MAX_IDENTITY_DELETIONS_PER_RUN + 1 }),
      }),
    );
    expect(error).toMatchObject({ code: "CONFIG.INVALID_POLICY", field: "purge.maxDeletionsPerRun" });
    expect(directory.calls.size).toBe(0);
  });
});

describe("the identity purge, run after run", () => {
  /** A live pool: 1,000 members, 200 never-confirmed sign-ups of the last two months (16%), and today's. */
  function livePool(clock: ManualClock) {
    const directory = new InMemoryUserDirectory({ clock });
    directory.seed(
      ...Array.from({ length: 1000 }, () => aUser({ createdAt: ago(300 * DAY) })),
      ...Array.from({ length: 200 }, (_, i) =>
        aUser({
          username: `backlog-${i}`,
          status: "UNCONFIRMED",
          createdAt: ago(2 * DAY + ((i * 7919) % 58) * DAY + i * 1000),
        }),
      ),
    );
    return directory;
  }

  /** Each day 10 people sign up and never confirm, and 5 sign up and confirm. */
  function aDayOfSignUps(directory: InMemoryUserDirectory, clock: ManualClock, day: number) {
    for (let i = 0; i < 15; i += 1) {
      directory.seed(
        aUser({
          username: `day${day}-${i}`,
          status: i < 10 ? "UNCONFIRMED" : "CONFIRMED",
          createdAt: ago((i + 1) * 30 * 60_000, clock.now()),
        }),
      );
    }
  }

  it("drains a backlog of genuine old sign-ups over 5% of the pool, the cap per run, where every run refused", async () => {
    const clock = new ManualClock(NOW);
    const directory = livePool(clock);
    const reports = [];
    for (let day = 0; day < 7; day += 1) {
      aDayOfSignUps(directory, clock, day);
      const report = await purgeUnconfirmedIdentities(
        { directory, clock },
        { policy: policy({ maxDeletionsPerRun: 50 }) },
      );
      expect(report.refused, `day ${day}`).toBeUndefined();
      expect(report.deleted, `day ${day}`).toBe(Math.min(50, report.eligible));
      reports.push(report);
      clock.advance(DAY);
    }
    expect(reports[0]?.eligible).toBe(200);
    expect(directory.snapshot().filter((u) => u.username.startsWith("backlog-"))).toEqual([]);
    // Every member and every sign-up that confirmed is still there.
    expect(directory.snapshot().filter((u) => u.status === "CONFIRMED")).toHaveLength(1000 + 7 * 5);
  });

  it.each([
    ["a clock 30 days ahead", { clockAhead: 30 * DAY, minAgeMs: DAY }],
    ["a minimum age of one minute", { clockAhead: 0, minAgeMs: 60_000 }],
  ])("refuses %s, deleting nothing", async (_, { clockAhead, minAgeMs }) => {
    const clock = new ManualClock(NOW);
    const directory = livePool(clock);
    // A busier day: 80 people signed up in the last hours and have not confirmed yet.
    directory.seed(
      ...Array.from({ length: 80 }, (_, i) =>
        aUser({ status: "UNCONFIRMED", createdAt: ago((i + 1) * 10 * 60_000) }),
      ),
    );
    clock.advance(clockAhead);
    const before = directory.snapshot().length;
    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy({ minAgeMs }) });
    expect(report.stoppedBy).toBe("refused");
    expect(report.refused).toMatch(/80 of 1280 users/);
    expect(directory.snapshot()).toHaveLength(before);
    expect(directory.calls.get("AdminDisableUser")).toBeUndefined();
  });
});
