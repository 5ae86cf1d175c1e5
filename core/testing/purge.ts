/** Readable purge test data, and fast-check arbitraries for the purge's property tests. Used by tests only. */
import fc from "fast-check";
import type { AccountPurgePlan, PurgeCandidate, PurgePolicy } from "../purge/purge-policy.js";
import { DEFAULT_PURGE_POLICY, planAccountPurge } from "../purge/purge-policy.js";

let counter = 0;

/** The instant purge tests treat as "now" unless they say otherwise. */
export const PURGE_NOW = new Date("2026-03-01T16:00:00.000Z");

const HOUR_MS = 60 * 60 * 1000;

/** A date `hours` before {@link PURGE_NOW}. */
export function hoursAgo(hours: number, now: Date = PURGE_NOW): Date {
  return new Date(now.getTime() - hours * HOUR_MS);
}

/** An unconfirmed candidate whose confirmation message went out two days before {@link PURGE_NOW}. */
export function aPurgeCandidate(overrides: Partial<PurgeCandidate> = {}): PurgeCandidate {
  counter += 1;
  return {
    id: `candidate-${counter.toString().padStart(6, "0")}`,
    confirmed: false,
    confirmationSentAt: hoursAgo(48),
    ...overrides,
  };
}

/** The default policy with some settings changed. */
export function aPurgePolicy(overrides: Partial<PurgePolicy> = {}): PurgePolicy {
  return { ...DEFAULT_PURGE_POLICY, ...overrides };
}

/**
 * An accounts purge plan from its counts: every expired row counted as recent (eligible by the run's clock
 * alone) and the table no larger than its expired rows unless told; the default policy at {@link PURGE_NOW}.
 */
export function anAccountPlan(
  input: {
    readonly expired?: number;
    readonly eligibleByClockOnly?: number;
    readonly total?: number;
    readonly policy?: PurgePolicy;
    readonly now?: Date;
  } = {},
): AccountPurgePlan {
  const expired = input.expired ?? 0;
  return planAccountPurge({
    expired,
    eligibleByClockOnly: input.eligibleByClockOnly ?? expired,
    total: input.total ?? expired,
    policy: input.policy ?? DEFAULT_PURGE_POLICY,
    now: input.now ?? PURGE_NOW,
  });
}

const ARB_MIN_DATE = new Date("2000-01-01T00:00:00Z");
const ARB_MAX_DATE = new Date("2100-01-01T00:00:00Z");
const DAY_MS = 24 * HOUR_MS;

/** Any date of this century and the next, or (one time in ten) an invalid one. */
function arbPurgeDate(): fc.Arbitrary<Date> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.date({ min: ARB_MIN_DATE, max: ARB_MAX_DATE, noInvalidDate: true }) },
    { weight: 1, arbitrary: fc.constant(new Date(Number.NaN)) },
  );
}

/** Any policy: a minimum age up to 400 days, a cap up to 10, any share, dry run or not. */
export function arbPurgePolicy(): fc.Arbitrary<PurgePolicy> {
  return fc.record({
    minAgeMs: fc.integer({ min: 1, max: 400 * DAY_MS }),
    maxDeletionsPerRun: fc.integer({ min: 1, max: 10 }),
    maxShareOfPool: fc.double({ min: 0.001, max: 1, noNaN: true }),
    dryRun: fc.boolean(),
  });
}

/**
 * A purge as a property test sees it: candidates with short ids (so some repeat), any dates (some missing or
 * invalid), a pool up to 2,000 larger than them, any policy and any clock. Identities carry only `createdAt`;
 * `confirmationSentAt: true` adds the accounts' date too.
 */
export function arbPurgeScenario(
  options: { readonly maxCandidates: number; readonly confirmationSentAt?: boolean } = { maxCandidates: 60 },
): fc.Arbitrary<{ candidates: PurgeCandidate[]; extraPool: number; policy: PurgePolicy; now: Date }> {
  const base = {
    id: fc.string({ minLength: 1, maxLength: 4 }),
    confirmed: fc.boolean(),
    createdAt: arbPurgeDate(),
  };
  const required: ["id", "confirmed"] = ["id", "confirmed"];
  const candidate: fc.Arbitrary<PurgeCandidate> = options.confirmationSentAt
    ? fc.record({ ...base, confirmationSentAt: arbPurgeDate() }, { requiredKeys: required })
    : fc.record(base, { requiredKeys: required });
  return fc.record({
    candidates: fc.array(candidate, { maxLength: options.maxCandidates }),
    extraPool: fc.integer({ min: 0, max: 2000 }),
    policy: arbPurgePolicy(),
    now: fc.date({ min: ARB_MIN_DATE, max: ARB_MAX_DATE, noInvalidDate: true }),
  });
}
