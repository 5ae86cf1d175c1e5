import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { errorOf } from "../testing/errors.js";
import { aPurgeCandidate, aPurgePolicy, arbPurgeScenario, PURGE_NOW } from "../testing/purge.js";
import {
  checkIdentityPurgePolicy,
  IdentityPlanBuilder,
  type IdentityListingTally,
  MAX_IDENTITY_DELETIONS_PER_RUN,
  planPurge,
} from "./identity-plan.js";
import { DEFAULT_PURGE_POLICY, type PurgeCandidate, purgeCutoff, timestampOf } from "./purge-policy.js";
import { provenAgeWindowMs, refusalThreshold } from "./refusal.js";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const unconfirmed = (id: string, at: number): PurgeCandidate => ({
  id,
  confirmed: false,
  createdAt: new Date(at),
});
const confirmed = (id: string): PurgeCandidate => ({
  id,
  confirmed: true,
  createdAt: new Date(PURGE_NOW.getTime() - 400 * DAY),
});

/**
 * A live pool as the purge sees it at PURGE_NOW: `backlog` never-confirmed users between 26 hours and 60 days
 * old, `recent` sign-ups within the last day (the newest a few minutes ago), `others` confirmed users.
 */
function livePool(backlog: number, recent: number, others: number): PurgeCandidate[] {
  const now = PURGE_NOW.getTime();
  return [
    ...Array.from({ length: backlog }, (_, i) =>
      unconfirmed(`old-${i}`, now - 26 * HOUR - ((i * 7_919_000) % (58 * DAY))),
    ),
    ...Array.from({ length: recent }, (_, i) =>
      unconfirmed(`new-${i}`, now - 5 * 60_000 - ((i * 3_600_000) % DAY)),
    ),
    ...Array.from({ length: others }, (_, i) => confirmed(`member-${i}`)),
  ];
}

describe("the identity purge's refusal rule", () => {
  it("purges a backlog of genuine old sign-ups far over 5% of the pool, the cap per run", () => {
    // 300 never-confirmed users of the last two months in a pool of 1,330: 23%, which the share of the whole
    // eligible set refused on every run.
    const plan = planPurge({
      candidates: livePool(300, 30, 1000),
      poolSize: 1330,
      policy: aPurgePolicy({ maxDeletionsPerRun: 100 }),
      now: PURGE_NOW,
    });
    expect(plan.refused).toBeUndefined();
    expect(plan).toMatchObject({ eligible: 300, eligibleByClockOnly: 0, deferred: 200 });
    expect(plan.toDelete).toHaveLength(100);
  });

  it("refuses when the clock runs ahead: the day's sign-ups become eligible", () => {
    const candidates = livePool(300, 120, 1000);
    const ahead = new Date(PURGE_NOW.getTime() + 30 * DAY);
    const plan = planPurge({ candidates, poolSize: 1420, policy: DEFAULT_PURGE_POLICY, now: ahead });
    expect(plan.refused?.reason).toBe("SHARE_OF_POOL_EXCEEDED");
    expect(plan.eligibleByClockOnly).toBe(120);
    expect(plan.refused?.message).toContain("120 of 1420");
    expect(plan.refused?.message).toContain("purge.minAge");
    expect(plan.toDelete).toEqual([]);
  });

  it("refuses a minimum age set far too short (a minute for a day)", () => {
    const plan = planPurge({
      candidates: livePool(300, 120, 1000),
      poolSize: 1420,
      policy: aPurgePolicy({ minAgeMs: 60_000 }),
      now: PURGE_NOW,
    });
    expect(plan.refused).toBeDefined();
    expect(plan.eligibleByClockOnly).toBe(120);
  });

  it("still refuses a pool whose only unconfirmed users are recent and over the share", () => {
    const candidates = Array.from({ length: 6 }, (_, i) => aPurgeCandidate({ id: `u${i}` }));
    const plan = planPurge({ candidates, poolSize: 100, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW });
    expect(plan.refused).toBeDefined();
  });

  it("judges the window against the minimum age when it is longer than a day", () => {
    expect(provenAgeWindowMs(HOUR)).toBe(DAY);
    expect(provenAgeWindowMs(3 * DAY)).toBe(3 * DAY);
    // Created 2.5 days before the newest sign-up: proven old for a 1-day minimum age, not for a 3-day one.
    const candidates = [
      unconfirmed("a", PURGE_NOW.getTime() - 4 * DAY),
      unconfirmed("newest", PURGE_NOW.getTime() - 1.5 * DAY),
    ];
    const oneDay = planPurge({ candidates, poolSize: 10, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW });
    expect(oneDay.eligibleByClockOnly).toBe(1);
    const threeDays = planPurge({
      candidates,
      poolSize: 10,
      policy: aPurgePolicy({ minAgeMs: 3 * DAY }),
      now: PURGE_NOW,
    });
    expect(threeDays.eligible).toBe(1);
    expect(threeDays.eligibleByClockOnly).toBe(1);
  });

  it("refuses a cap whose plan could not travel in a step's state, naming the setting", () => {
    expect(() =>
      checkIdentityPurgePolicy(aPurgePolicy({ maxDeletionsPerRun: MAX_IDENTITY_DELETIONS_PER_RUN })),
    ).not.toThrow();
    const error = errorOf(() =>
      checkIdentityPurgePolicy(aPurgePolicy({ maxDeletionsPerRun: MAX_IDENTITY_DELETIONS_PER_RUN + 1 })),
    );
    expect(error.code).toBe("CONFIG.INVALID_POLICY");
    expect(error.field).toBe("purge.maxDeletionsPerRun");
  });
});

describe("the identity purge's plan", () => {
  it("records which planned users were listed disabled, through a listing stopped and resumed from JSON", () => {
    const cutoff = purgeCutoff(PURGE_NOW, DAY);
    const policy = aPurgePolicy({ maxDeletionsPerRun: 3, maxShareOfPool: 1 });
    const first = new IdentityPlanBuilder(cutoff, policy);
    first.add({ ...unconfirmed("enabled-old", PURGE_NOW.getTime() - 9 * DAY), enabled: true });
    first.add({ ...unconfirmed("disabled-old", PURGE_NOW.getTime() - 8 * DAY), enabled: false });
    const tally = JSON.parse(JSON.stringify(first.toJSON())) as IdentityListingTally;
    const resumed = new IdentityPlanBuilder(cutoff, policy, tally);
    resumed.add(unconfirmed("unknown-old", PURGE_NOW.getTime() - 7 * DAY));
    resumed.add({ ...unconfirmed("disabled-young", PURGE_NOW.getTime() - 2 * DAY), enabled: false });
    // Younger than the cap allows: dropped, mark and all.
    resumed.add({ ...unconfirmed("disabled-youngest", PURGE_NOW.getTime() - 1.5 * DAY), enabled: false });
    const plan = resumed.finish(100);
    expect(plan.toDelete).toEqual(["enabled-old", "disabled-old", "unknown-old"]);
    expect(plan.disabledAtListing).toEqual([1]);
    const none = planPurge({
      candidates: [unconfirmed("a", PURGE_NOW.getTime() - 3 * DAY)],
      poolSize: 10,
      policy: DEFAULT_PURGE_POLICY,
      now: PURGE_NOW,
    });
    expect(none).not.toHaveProperty("disabledAtListing");
  });
});

describe("the identity purge's refusal rule (fast-check)", () => {
  const scenario = arbPurgeScenario({ maxCandidates: 80 });

  /** Distinct candidates, the first of each id, as planPurge sees them. */
  const distinct = (candidates: readonly PurgeCandidate[]) => {
    const seen = new Set<string>();
    return candidates.filter((c) => !seen.has(c.id) && seen.add(c.id) !== undefined);
  };

  it("whatever the clock and minAge, a run deletes at most the share of the pool among users created within max(minAge, 24 h) of the newest sign-up", () => {
    fc.assert(
      fc.property(scenario, ({ candidates, extraPool, policy, now }) => {
        const poolSize = candidates.length + extraPool;
        const plan = planPurge({ candidates, poolSize, policy, now });
        const byId = new Map(distinct(candidates).map((c) => [c.id, c]));
        const stamps = [...byId.values()].map(timestampOf).filter((t): t is number => t !== undefined);
        if (stamps.length === 0) return;
        const newest = Math.max(...stamps);
        const recentDeleted = plan.toDelete.filter(
          (id) =>
            (timestampOf(byId.get(id) as PurgeCandidate) as number) >=
            newest - provenAgeWindowMs(policy.minAgeMs),
        );
        expect(recentDeleted.length).toBeLessThanOrEqual(
          refusalThreshold(plan.poolSize, policy.maxShareOfPool),
        );
      }),
      { numRuns: 400 },
    );
  });

  it("counts the users eligible by the clock alone exactly, up to one 48th of the window, on the side of refusing", () => {
    fc.assert(
      fc.property(scenario, ({ candidates, extraPool, policy, now }) => {
        const plan = planPurge({ candidates, poolSize: candidates.length + extraPool, policy, now });
        const cutoff = purgeCutoff(now, policy.minAgeMs).getTime();
        const list = distinct(candidates);
        // The newest sign-up dated no later than the run's clock.
        const stamps = list
          .map(timestampOf)
          .filter((t): t is number => t !== undefined && t <= now.getTime());
        const newest = stamps.length ? Math.max(...stamps) : 0;
        const window = provenAgeWindowMs(policy.minAgeMs);
        const eligibleSince = (from: number) =>
          list.filter((c) => {
            const at = timestampOf(c);
            return !c.confirmed && at !== undefined && at < cutoff && at >= from;
          }).length;
        expect(plan.eligibleByClockOnly).toBeGreaterThanOrEqual(eligibleSince(newest - window));
        expect(plan.eligibleByClockOnly).toBeLessThanOrEqual(
          eligibleSince(newest - window - Math.ceil(window / 48)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("never locks on a backlog of genuine old sign-ups, whatever its share of the pool, and drains it run after run", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 1, max: 10 }),
        (backlog, cap, dailyNeverConfirmed) => {
          fc.pre(cap > dailyNeverConfirmed);
          const policy = aPurgePolicy({ maxDeletionsPerRun: cap, maxShareOfPool: 0.05 });
          // A live pool: the backlog, confirmed users enough that one day's never-confirmed sign-ups are within
          // the share, and every day new sign-ups that never confirm.
          let pool: PurgeCandidate[] = livePool(backlog, 0, 20 * dailyNeverConfirmed);
          let now = PURGE_NOW.getTime();
          const runs = Math.ceil(backlog / (cap - dailyNeverConfirmed)) + 2;
          for (let day = 0; day < runs; day += 1) {
            const today = Array.from({ length: dailyNeverConfirmed }, (_, i) =>
              unconfirmed(`d${day}-${i}`, now - (i + 1) * 60_000),
            );
            pool = pool.concat(today);
            const plan = planPurge({ candidates: pool, poolSize: pool.length, policy, now: new Date(now) });
            expect(plan.refused).toBeUndefined();
            expect(plan.toDelete.length).toBe(Math.min(cap, plan.eligible));
            const gone = new Set(plan.toDelete);
            pool = pool.filter((c) => !gone.has(c.id));
            now += DAY;
          }
          expect(pool.filter((c) => c.id.startsWith("old-"))).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("refuses whenever the day's sign-ups over the share become eligible, however far ahead the clock", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: DAY, max: 3650 * DAY }),
        (backlog, recent, confirmedUsers, ahead) => {
          const pool = livePool(backlog, recent, confirmedUsers);
          const poolSize = pool.length;
          fc.pre(recent > refusalThreshold(poolSize, DEFAULT_PURGE_POLICY.maxShareOfPool));
          const right = planPurge({
            candidates: pool,
            poolSize,
            policy: DEFAULT_PURGE_POLICY,
            now: PURGE_NOW,
          });
          expect(right.refused).toBeUndefined();
          const wrong = planPurge({
            candidates: pool,
            poolSize,
            policy: DEFAULT_PURGE_POLICY,
            now: new Date(PURGE_NOW.getTime() + ahead),
          });
          expect(wrong.refused).toBeDefined();
          expect(wrong.toDelete).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("plans the same whatever order the listing returns users in, and however often it stops and resumes from JSON", () => {
    fc.assert(
      fc.property(
        scenario.chain((s) =>
          fc.record({
            s: fc.constant(s),
            order: fc.shuffledSubarray(distinct(s.candidates), { minLength: distinct(s.candidates).length }),
            cuts: fc.array(fc.nat(80), { maxLength: 5 }),
          }),
        ),
        ({ s, order, cuts }) => {
          const list = distinct(s.candidates);
          const poolSize = list.length + s.extraPool;
          const once = planPurge({ candidates: list, poolSize, policy: s.policy, now: s.now });
          const cutoff = purgeCutoff(s.now, s.policy.minAgeMs);
          let tally: IdentityListingTally | undefined;
          let builder = new IdentityPlanBuilder(cutoff, s.policy);
          order.forEach((c, i) => {
            if (cuts.includes(i)) {
              tally = JSON.parse(JSON.stringify(builder.toJSON())) as IdentityListingTally;
              builder = new IdentityPlanBuilder(cutoff, s.policy, tally);
            }
            builder.add(c);
            expect(builder.heapSize).toBeLessThanOrEqual(s.policy.maxDeletionsPerRun);
          });
          expect(builder.finish(poolSize)).toEqual(once);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("keeps the oldest eligible users first, the cap of them, like a full sort", () => {
    fc.assert(
      fc.property(scenario, ({ candidates, extraPool, now }) => {
        const policy = aPurgePolicy({ maxDeletionsPerRun: 5, maxShareOfPool: 1 });
        const list = distinct(candidates);
        const plan = planPurge({ candidates: list, poolSize: list.length + extraPool, policy, now });
        const cutoff = purgeCutoff(now, policy.minAgeMs).getTime();
        const expected = list
          .filter((c) => !c.confirmed && (timestampOf(c) ?? Number.POSITIVE_INFINITY) < cutoff)
          .map((c) => [timestampOf(c) as number, c.id] as const)
          .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
          .slice(0, 5)
          .map(([, id]) => id);
        expect(plan.toDelete).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
