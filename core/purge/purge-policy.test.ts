import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  anAccountPlan,
  aPurgeCandidate,
  aPurgePolicy,
  arbPurgePolicy,
  arbPurgeScenario,
  hoursAgo,
  PURGE_NOW,
} from "../testing/purge.js";
import {
  checkEligibility,
  DEFAULT_PURGE_POLICY,
  type PurgeCandidate,
  parsePurgePolicy,
  planAccountPurge,
  purgeCutoff,
} from "./purge-policy.js";
import { planPurge } from "./identity-plan.js";
import { refusalThreshold } from "./refusal.js";
import { errorOf } from "../testing/errors.js";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** A pool large enough that the share rule never interferes with what a test is about. */
const BIG_POOL = 1_000_000;

describe("parsePurgePolicy", () => {
  it("gives the defaults for no input or an empty object", () => {
    expect(parsePurgePolicy(undefined)).toEqual(DEFAULT_PURGE_POLICY);
    expect(parsePurgePolicy(null)).toEqual(DEFAULT_PURGE_POLICY);
    expect(parsePurgePolicy({})).toEqual({
      minAgeMs: DAY,
      maxDeletionsPerRun: 1000,
      maxShareOfPool: 0.05,
      dryRun: false,
    });
  });

  it("reads every setting", () => {
    expect(
      parsePurgePolicy({ minAge: "36h", maxDeletionsPerRun: 500, maxShareOfPool: 0.1, dryRun: true }),
    ).toEqual({
      minAgeMs: 36 * HOUR,
      maxDeletionsPerRun: 500,
      maxShareOfPool: 0.1,
      dryRun: true,
    });
  });

  it("reads ISO 8601 ages and string values as environment variables give them", () => {
    expect(
      parsePurgePolicy({ minAge: "P2D", maxDeletionsPerRun: "250", maxShareOfPool: "0.2", dryRun: "false" }),
    ).toEqual({ minAgeMs: 2 * DAY, maxDeletionsPerRun: 250, maxShareOfPool: 0.2, dryRun: false });
  });

  it("keeps defaults for the settings not given", () => {
    expect(parsePurgePolicy({ dryRun: true })).toEqual({ ...DEFAULT_PURGE_POLICY, dryRun: true });
  });

  it("rejects unknown keys, naming them", () => {
    const error = errorOf(() => parsePurgePolicy({ maxAge: "24h" }));
    expect(error.code).toBe("CONFIG.INVALID_POLICY");
    expect(error.field).toBe("purge.maxAge");
    expect(error.message).toContain("minAge");
  });

  it.each([
    [{ maxShareOfPool: 0 }, "purge.maxShareOfPool"],
    [{ maxShareOfPool: 1.5 }, "purge.maxShareOfPool"],
    [{ maxShareOfPool: -0.1 }, "purge.maxShareOfPool"],
    [{ maxShareOfPool: "lots" }, "purge.maxShareOfPool"],
    [{ maxShareOfPool: Number.NaN }, "purge.maxShareOfPool"],
    [{ maxDeletionsPerRun: 0 }, "purge.maxDeletionsPerRun"],
    [{ maxDeletionsPerRun: 2.5 }, "purge.maxDeletionsPerRun"],
    [{ maxDeletionsPerRun: "-3" }, "purge.maxDeletionsPerRun"],
    [{ dryRun: "yes" }, "purge.dryRun"],
    [{ dryRun: 1 }, "purge.dryRun"],
    [{ minAge: 86_400_000 }, "purge.minAge"],
    [{ minAge: "99999d" }, "purge.minAge"],
  ])("rejects %j at %s", (input, field) => {
    const error = errorOf(() => parsePurgePolicy(input));
    expect(error.code).toBe("CONFIG.INVALID_POLICY");
    expect(error.field).toBe(field);
  });

  it("accepts a share of exactly 1", () => {
    expect(parsePurgePolicy({ maxShareOfPool: 1 }).maxShareOfPool).toBe(1);
  });

  it("reports a bad minAge as a duration error at the policy's key", () => {
    const error = errorOf(() => parsePurgePolicy({ minAge: "a day" }, "stack.purge"));
    expect(error.code).toBe("CONFIG.INVALID_DURATION");
    expect(error.field).toBe("stack.purge.minAge");
  });

  it.each([["24h"], [[]], [42]])("rejects %j as a whole", (input) => {
    const error = errorOf(() => parsePurgePolicy(input));
    expect(error.code).toBe("CONFIG.INVALID_POLICY");
    expect(error.field).toBe("purge");
  });
});

describe("purgeCutoff", () => {
  it("is now minus the minimum age", () => {
    expect(purgeCutoff(new Date("2026-03-02T16:00:00Z"), DAY)).toEqual(new Date("2026-03-01T16:00:00Z"));
  });

  it.each([
    [new Date(Number.NaN), DAY, "now"],
    [PURGE_NOW, 0, "policy.minAgeMs"],
    [PURGE_NOW, -HOUR, "policy.minAgeMs"],
    [PURGE_NOW, 1.5, "policy.minAgeMs"],
    [new Date(-8.64e15), DAY, "policy.minAgeMs"],
  ])("rejects now=%s minAge=%d", (now, minAge, field) => {
    const error = errorOf(() => purgeCutoff(now, minAge));
    expect(error.code).toBe("PURGE.INVALID_INPUT");
    expect(error.field).toBe(field);
  });
});

describe("checkEligibility", () => {
  const cutoff = hoursAgo(24);

  it("accepts an unconfirmed user whose confirmation was sent before the cutoff", () => {
    expect(checkEligibility(aPurgeCandidate({ confirmationSentAt: hoursAgo(25) }), cutoff)).toEqual({
      eligible: true,
    });
  });

  it("never accepts a confirmed user, however old", () => {
    expect(
      checkEligibility(aPurgeCandidate({ confirmed: true, confirmationSentAt: hoursAgo(10_000) }), cutoff),
    ).toEqual({ eligible: false, reason: "CONFIRMED" });
  });

  it("keeps a user sent the message exactly at the cutoff (strictly before is required)", () => {
    expect(checkEligibility(aPurgeCandidate({ confirmationSentAt: cutoff }), cutoff)).toEqual({
      eligible: false,
      reason: "TOO_YOUNG",
    });
  });

  it("keeps a user sent the message after the cutoff", () => {
    expect(checkEligibility(aPurgeCandidate({ confirmationSentAt: hoursAgo(2) }), cutoff)).toEqual({
      eligible: false,
      reason: "TOO_YOUNG",
    });
  });

  it("prefers confirmationSentAt over createdAt: a re-sent code restarts the clock", () => {
    const candidate = aPurgeCandidate({ createdAt: hoursAgo(100), confirmationSentAt: hoursAgo(1) });
    expect(checkEligibility(candidate, cutoff)).toEqual({ eligible: false, reason: "TOO_YOUNG" });
  });

  it("falls back to createdAt", () => {
    const candidate: PurgeCandidate = { id: "u1", confirmed: false, createdAt: hoursAgo(30) };
    expect(checkEligibility(candidate, cutoff)).toEqual({ eligible: true });
  });

  it("keeps a user with no timestamp or an invalid one", () => {
    expect(checkEligibility({ id: "u1", confirmed: false }, cutoff)).toEqual({
      eligible: false,
      reason: "NO_TIMESTAMP",
    });
    expect(checkEligibility({ id: "u2", confirmed: false, createdAt: new Date(Number.NaN) }, cutoff)).toEqual(
      {
        eligible: false,
        reason: "NO_TIMESTAMP",
      },
    );
  });

  it("reports a confirmed user without timestamp as CONFIRMED", () => {
    expect(checkEligibility({ id: "u1", confirmed: true }, cutoff)).toEqual({
      eligible: false,
      reason: "CONFIRMED",
    });
  });
});

describe("planPurge", () => {
  it("deletes expired unconfirmed users oldest first and counts the rest by reason", () => {
    const plan = planPurge({
      candidates: [
        aPurgeCandidate({ id: "newer", confirmationSentAt: hoursAgo(30) }),
        aPurgeCandidate({ id: "confirmed", confirmed: true }),
        aPurgeCandidate({ id: "oldest", confirmationSentAt: hoursAgo(300) }),
        aPurgeCandidate({ id: "young", confirmationSentAt: hoursAgo(3) }),
        { id: "unknown-age", confirmed: false },
      ],
      poolSize: BIG_POOL,
      policy: DEFAULT_PURGE_POLICY,
      now: PURGE_NOW,
    });
    expect(plan.toDelete).toEqual(["oldest", "newer"]);
    expect(plan.skippedByReason).toEqual({ CONFIRMED: 1, TOO_YOUNG: 1, NO_TIMESTAMP: 1 });
    expect(plan).toMatchObject({
      cutoff: hoursAgo(24),
      dryRun: false,
      eligible: 2,
      deferred: 0,
      candidates: 5,
      poolSize: BIG_POOL,
    });
    expect(plan.refused).toBeUndefined();
  });

  it("orders users with the same timestamp by id, so runs are reproducible", () => {
    const at = hoursAgo(48);
    const plan = planPurge({
      candidates: ["c", "a", "b"].map((id) => aPurgeCandidate({ id, confirmationSentAt: at })),
      poolSize: BIG_POOL,
      policy: DEFAULT_PURGE_POLICY,
      now: PURGE_NOW,
    });
    expect(plan.toDelete).toEqual(["a", "b", "c"]);
  });

  it("caps deletions per run and defers the youngest eligible users to the next run", () => {
    const candidates = [5, 4, 3, 2, 1].map((days) =>
      aPurgeCandidate({ id: `d${days}`, confirmationSentAt: hoursAgo(24 * days + 1) }),
    );
    const plan = planPurge({
      candidates,
      poolSize: BIG_POOL,
      policy: aPurgePolicy({ maxDeletionsPerRun: 2 }),
      now: PURGE_NOW,
    });
    expect(plan.toDelete).toEqual(["d5", "d4"]);
    expect(plan.deferred).toBe(3);
    expect(plan.eligible).toBe(5);
  });

  it("counts a user listed twice once", () => {
    const plan = planPurge({
      candidates: [aPurgeCandidate({ id: "dup" }), aPurgeCandidate({ id: "dup" })],
      poolSize: BIG_POOL,
      policy: DEFAULT_PURGE_POLICY,
      now: PURGE_NOW,
    });
    expect(plan.toDelete).toEqual(["dup"]);
    expect(plan.candidates).toBe(1);
  });

  it("copies dryRun from the policy and still says what would be deleted", () => {
    const plan = planPurge({
      candidates: [aPurgeCandidate({ id: "x" })],
      poolSize: BIG_POOL,
      policy: aPurgePolicy({ dryRun: true }),
      now: PURGE_NOW,
    });
    expect(plan.dryRun).toBe(true);
    expect(plan.toDelete).toEqual(["x"]);
  });

  it("refuses, deleting nothing, when eligible users exceed the allowed share of the pool", () => {
    const candidates = Array.from({ length: 6 }, (_, i) => aPurgeCandidate({ id: `u${i}` }));
    const plan = planPurge({ candidates, poolSize: 100, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW });
    expect(plan.toDelete).toEqual([]);
    expect(plan.deferred).toBe(0);
    expect(plan.eligible).toBe(6);
    expect(plan.refused?.reason).toBe("SHARE_OF_POOL_EXCEEDED");
    expect(plan.refused?.message).toContain("6 of 100");
    expect(plan.refused?.message).toContain("purge.maxShareOfPool");
    expect(plan.refused?.message).toContain("5%");
  });

  it("allows exactly the share of the pool", () => {
    const candidates = Array.from({ length: 5 }, (_, i) => aPurgeCandidate({ id: `u${i}` }));
    const plan = planPurge({ candidates, poolSize: 100, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW });
    expect(plan.refused).toBeUndefined();
    expect(plan.toDelete).toHaveLength(5);
  });

  it("purges one expired user from a pool of 3, but refuses two", () => {
    const pool = (expired: number) =>
      Array.from({ length: 3 }, (_, i) =>
        aPurgeCandidate({ id: `u${i}`, confirmed: i >= expired, confirmationSentAt: hoursAgo(48) }),
      );
    const one = planPurge({ candidates: pool(1), poolSize: 3, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW });
    expect(one.toDelete).toEqual(["u0"]);
    const two = planPurge({ candidates: pool(2), poolSize: 3, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW });
    expect(two.refused?.reason).toBe("SHARE_OF_POOL_EXCEEDED");
    expect(two.toDelete).toEqual([]);
  });

  it("plans nothing for an empty pool", () => {
    const plan = planPurge({ candidates: [], poolSize: 0, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW });
    expect(plan).toMatchObject({ toDelete: [], eligible: 0, candidates: 0, poolSize: 0, deferred: 0 });
    expect(plan.refused).toBeUndefined();
  });

  it("does not trust a pool size estimate below the number of users listed", () => {
    const candidates = Array.from({ length: 40 }, (_, i) =>
      aPurgeCandidate({ id: `u${i}`, confirmed: i > 0, confirmationSentAt: hoursAgo(48) }),
    );
    const plan = planPurge({ candidates, poolSize: 0, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW });
    expect(plan.poolSize).toBe(40);
    expect(plan.toDelete).toEqual(["u0"]);
  });

  it.each([-1, 1.5, Number.NaN])("rejects the pool size %d", (poolSize) => {
    const error = errorOf(() =>
      planPurge({ candidates: [], poolSize, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW }),
    );
    expect(error.code).toBe("PURGE.INVALID_INPUT");
    expect(error.field).toBe("poolSize");
  });

  it("rejects a candidate without an id, naming its position", () => {
    const error = errorOf(() =>
      planPurge({
        candidates: [aPurgeCandidate(), aPurgeCandidate({ id: "" })],
        poolSize: BIG_POOL,
        policy: DEFAULT_PURGE_POLICY,
        now: PURGE_NOW,
      }),
    );
    expect(error.field).toBe("candidates[1].id");
  });

  it("rejects an invalid now", () => {
    const error = errorOf(() =>
      planPurge({ candidates: [], poolSize: 0, policy: DEFAULT_PURGE_POLICY, now: new Date("not a date") }),
    );
    expect(error.field).toBe("now");
  });

  it("reads candidates from any iterable, once", () => {
    function* listed() {
      yield aPurgeCandidate({ id: "g1" });
      yield aPurgeCandidate({ id: "g2", confirmed: true });
    }
    const plan = planPurge({
      candidates: listed(),
      poolSize: BIG_POOL,
      policy: DEFAULT_PURGE_POLICY,
      now: PURGE_NOW,
    });
    expect(plan.toDelete).toEqual(["g1"]);
    expect(plan.candidates).toBe(2);
  });
});

describe("planAccountPurge", () => {
  it("limits the query delete to the per-run cap and defers the rest", () => {
    const plan = anAccountPlan({
      expired: 30,
      total: 10_000,
      policy: aPurgePolicy({ maxDeletionsPerRun: 20 }),
    });
    expect(plan).toMatchObject({
      limit: 20,
      deferred: 10,
      eligible: 30,
      candidates: 30,
      poolSize: 10_000,
      toDelete: [],
      cutoff: hoursAgo(24),
    });
    expect(plan.refused).toBeUndefined();
  });

  it("deletes all expired rows when under the cap", () => {
    const plan = anAccountPlan({ expired: 3, total: 10_000 });
    expect(plan.limit).toBe(3);
    expect(plan.deferred).toBe(0);
  });

  it("refuses with limit 0 when the rows eligible by the run's clock alone exceed the share of the table", () => {
    const plan = anAccountPlan({ expired: 900, eligibleByClockOnly: 600, total: 10_000 });
    expect(plan.limit).toBe(0);
    expect(plan.refused?.message).toContain("600 of 10000 rows in the users table");
    expect(plan.refused?.message).toContain("purge.maxShareOfPool");
  });

  it("drains an older backlog over the share of the table, the cap per run, when the recent rows are within it", () => {
    const plan = anAccountPlan({ expired: 3_000, eligibleByClockOnly: 500, total: 10_000 });
    expect(plan.refused).toBeUndefined();
    expect(plan).toMatchObject({ limit: 1_000, deferred: 2_000, eligibleByClockOnly: 500 });
  });

  it("plans nothing for an empty table", () => {
    const plan = anAccountPlan({ expired: 0 });
    expect(plan).toMatchObject({ limit: 0, deferred: 0, eligible: 0 });
    expect(plan.refused).toBeUndefined();
  });

  it.each([
    [{ expired: -1, eligibleByClockOnly: 0, total: 10 }, "expired"],
    [{ expired: 1, eligibleByClockOnly: 0, total: 0.5 }, "total"],
    [{ expired: 1, eligibleByClockOnly: -1, total: 10 }, "eligibleByClockOnly"],
    [{ expired: 1, eligibleByClockOnly: 2, total: 10 }, "eligibleByClockOnly"],
  ])("rejects counts %j", (counts, field) => {
    const error = errorOf(() =>
      planAccountPurge({ ...counts, policy: DEFAULT_PURGE_POLICY, now: PURGE_NOW }),
    );
    expect(error.code).toBe("PURGE.INVALID_INPUT");
    expect(error.field).toBe(field);
  });
});

describe("planPurge properties", () => {
  const scenario = arbPurgeScenario({ maxCandidates: 60, confirmationSentAt: true });
  const policy = arbPurgePolicy();

  it("never plans to delete a confirmed, too young or timestamp-less user, and respects the cap and the share", () => {
    fc.assert(
      fc.property(scenario, ({ candidates, extraPool, policy, now }) => {
        const plan = planPurge({ candidates, poolSize: candidates.length + extraPool, policy, now });
        const cutoff = now.getTime() - policy.minAgeMs;
        const byId = new Map<string, PurgeCandidate>();
        for (const c of candidates) if (!byId.has(c.id)) byId.set(c.id, c);

        for (const id of plan.toDelete) {
          const c = byId.get(id);
          expect(c).toBeDefined();
          if (c === undefined) continue;
          expect(c.confirmed).toBe(false);
          const at = (c.confirmationSentAt ?? c.createdAt)?.getTime();
          expect(at).toBeDefined();
          expect(Number.isNaN(at)).toBe(false);
          expect(at as number).toBeLessThan(cutoff);
        }
        expect(new Set(plan.toDelete).size).toBe(plan.toDelete.length);
        expect(plan.toDelete.length).toBeLessThanOrEqual(policy.maxDeletionsPerRun);
        // The share rule counts only the eligible users not proven old by the newest sign-up's date.
        const recent = plan.eligibleByClockOnly ?? 0;
        expect(recent).toBeLessThanOrEqual(plan.eligible);
        if (plan.refused) {
          expect(plan.toDelete).toEqual([]);
          expect(recent).toBeGreaterThan(policy.maxShareOfPool * plan.poolSize);
        } else {
          expect(plan.toDelete.length + plan.deferred).toBe(plan.eligible);
          expect(recent).toBeLessThanOrEqual(Math.max(1, policy.maxShareOfPool * plan.poolSize + 1e-9));
        }
        const skipped = Object.values(plan.skippedByReason).reduce((a, b) => a + (b ?? 0), 0);
        expect(skipped + plan.eligible).toBe(plan.candidates);
      }),
      { numRuns: 300 },
    );
  });

  it("never lets the account plan exceed the cap or the expired count, and refuses exactly when the recent rows exceed the share", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 100_000 }),
        policy,
        (expired, recentShare, extra, policy) => {
          const eligibleByClockOnly = Math.floor(expired * recentShare);
          const total = expired + extra;
          const plan = planAccountPurge({ expired, eligibleByClockOnly, total, policy, now: PURGE_NOW });
          expect(plan.limit).toBeLessThanOrEqual(Math.min(expired, policy.maxDeletionsPerRun));
          expect(plan.refused !== undefined).toBe(
            eligibleByClockOnly > refusalThreshold(total, policy.maxShareOfPool),
          );
          if (plan.refused) expect(plan.limit).toBe(0);
          else expect(plan.limit + plan.deferred).toBe(expired);
        },
      ),
      { numRuns: 200 },
    );
  });
});
