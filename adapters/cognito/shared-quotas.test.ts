/**
 * Two jobs calling Cognito at once share its account-wide quotas. These run the production pacing
 * (CognitoCalls) of two processes over one in-memory pool whose account enforces Cognito's real quotas on a
 * virtual clock, so the jobs interleave as they would in time, and measure what reaches the quota.
 */
import { describe, expect, it } from "vitest";
import { runSteps, type Step } from "../../core/steps/step.js";
import type { User } from "../../core/user/user.js";
import { aUser } from "../../core/testing/builders.js";
import { VirtualClock } from "../in-memory/clock.js";
import type { AccountQuotas } from "../in-memory/rate-limiter.js";
import { cognitoAccountQuotas, InMemoryUserDirectory } from "../in-memory/user-directory.js";
import { deadlineBoundStep } from "../shared/call-deadline.js";
import { CognitoCalls } from "./cognito-calls.js";
import { COGNITO_QUOTAS } from "./quotas.js";

/**
 * 500 ListUsers calls per listing, as a 30,000-user pool in pages of 60 takes. The in-memory pool sorts
 * itself on every page, so it holds 3,000 users listed in pages of 6: the same calls, a tenth of the work.
 */
const POOL_SIZE = 3000;
const PAGE_SIZE = 6;

/** A seeded generator, for jitter that is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function anAccount(users: readonly User[] = Array.from({ length: POOL_SIZE }, () => aUser())) {
  const clock = new VirtualClock();
  const quotas = cognitoAccountQuotas(clock);
  const pool = new InMemoryUserDirectory({ clock, quotas }).seed(...users);
  /** A process of its own: its own pacing, as each Lambda has. */
  const aProcess = (seed: number) => new CognitoCalls({ clock, sleeper: clock, random: seeded(seed) });
  return { clock, quotas, pool, aProcess };
}

/** A job that lists the whole pool, page after page; any error fails it, as it fails a snapshot. */
async function listAll(calls: CognitoCalls, pool: InMemoryUserDirectory, status?: User["status"]) {
  const users: User[] = [];
  let pageToken: string | undefined;
  do {
    const page = await calls.run("ListUsers", () =>
      pool.listUsers({
        pageSize: PAGE_SIZE,
        ...(pageToken === undefined ? {} : { pageToken }),
        ...(status === undefined ? {} : { status }),
      }),
    );
    users.push(...page.items);
    pageToken = page.nextToken;
  } while (pageToken !== undefined);
  return users;
}

/** Calls of `category` let through per second of the run, as a share of Cognito's quota. */
function usage(quotas: AccountQuotas, category: string, quota: number, elapsedMs: number): number {
  return quotas.usageOf(category).admitted / ((quota * elapsedMs) / 1000);
}

describe("Cognito's quotas shared by two jobs at once", () => {
  it("two full listings at once both finish, no call failing, using UserList at 85% or more together", async () => {
    const { clock, quotas, pool, aProcess } = anAccount();
    const start = clock.now().getTime();
    const outcomes = await Promise.allSettled([listAll(aProcess(1), pool), listAll(aProcess(2), pool)]);
    const elapsedMs = clock.now().getTime() - start;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled"]);
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") expect(outcome.value).toHaveLength(POOL_SIZE);
    }
    expect(quotas.usageOf("ListUsers").admitted).toBe(2 * (POOL_SIZE / PAGE_SIZE));
    expect(usage(quotas, "ListUsers", COGNITO_QUOTAS.UserList, elapsedMs)).toBeGreaterThanOrEqual(0.85);
  });

  it("one listing alone uses UserList at 90% or more", async () => {
    const { clock, quotas, pool, aProcess } = anAccount();
    const start = clock.now().getTime();
    await expect(listAll(aProcess(3), pool)).resolves.toHaveLength(POOL_SIZE);
    const elapsedMs = clock.now().getTime() - start;
    expect(usage(quotas, "ListUsers", COGNITO_QUOTAS.UserList, elapsedMs)).toBeGreaterThanOrEqual(0.9);
  });

  it("a listing and a purge (list the unconfirmed, then disable and delete each) at once both finish", async () => {
    const { clock, quotas, pool, aProcess } = anAccount();
    // The purge runs on another pool of the same account: deleting from the listed pool would invalidate
    // the listing's page tokens, which is no quota's doing. The quotas are the account's, across its pools.
    const unconfirmed = Array.from({ length: 600 }, () => aUser({ status: "UNCONFIRMED" }));
    const purged = new InMemoryUserDirectory({ clock, quotas }).seed(
      ...unconfirmed,
      ...Array.from({ length: 1200 }, () => aUser()),
    );
    const purge = async (calls: CognitoCalls) => {
      const expired = await listAll(calls, purged, "UNCONFIRMED");
      for (const user of expired) {
        await calls.run("AdminDisableUser", () => purged.disableUser(user.username));
        await calls.run("AdminDeleteUser", () => purged.deleteUser(user.username));
      }
      return expired.length;
    };
    const start = clock.now().getTime();
    const outcomes = await Promise.allSettled([purge(aProcess(4)), listAll(aProcess(5), pool)]);
    const elapsedMs = clock.now().getTime() - start;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(outcomes[0]).toMatchObject({ value: unconfirmed.length });
    expect(purged.snapshot().some((user) => user.status === "UNCONFIRMED")).toBe(false);
    expect(quotas.usageOf("UserUpdate").admitted).toBe(2 * unconfirmed.length);
    // The purge's 1,200 UserUpdate calls go at most at 25 a second, and the rest of the run is the listing's.
    expect(elapsedMs).toBeLessThan(((2 * unconfirmed.length) / COGNITO_QUOTAS.UserUpdate) * 1000 * 1.25);
  });
});

describe("a step throttled until its deadline", () => {
  it("yields and resumes instead of failing its job, while another caller holds the whole quota", async () => {
    const { clock, quotas, pool, aProcess } = anAccount(Array.from({ length: 120 }, () => aUser()));
    // A caller that does not pace itself takes the whole UserList quota every second for five minutes.
    const hogUntil = clock.now().getTime() + 5 * 60_000;
    const hog = (async () => {
      while (clock.now().getTime() < hogUntil) {
        // All at once, the instant the window frees: nobody else gets a call in.
        for (let i = 0; i < COGNITO_QUOTAS.UserList; i++) void pool.listUsers({ pageSize: 1 }).catch(() => 0);
        await clock.sleep(1000);
      }
    })();
    const calls = aProcess(6);
    interface ListingState {
      readonly pageToken?: string;
      readonly listed: number;
    }
    const step: Step<ListingState> = async (state) => {
      const page = await calls.run("ListUsers", () =>
        pool.listUsers({
          pageSize: 60,
          ...(state.pageToken === undefined ? {} : { pageToken: state.pageToken }),
        }),
      );
      const next = {
        listed: state.listed + page.items.length,
        ...(page.nextToken ? { pageToken: page.nextToken } : {}),
      };
      return { state: next, done: page.nextToken === undefined };
    };
    const states: ListingState[] = [];
    const result = await runSteps(
      deadlineBoundStep(step),
      { listed: 0 },
      {
        clock,
        stepBudgetMs: 60_000,
        onState: (state) => void states.push(state),
      },
    );
    await hog;
    expect(result.state.listed).toBe(120);
    // The steps that met the hog gave their state back unchanged, and the job went on after it.
    expect(states.filter((state) => state.listed === 0).length).toBeGreaterThanOrEqual(3);
    expect(clock.now().getTime()).toBeGreaterThanOrEqual(hogUntil);
    expect(quotas.usageOf("ListUsers").throttled).toBeGreaterThan(0);
  });
});
