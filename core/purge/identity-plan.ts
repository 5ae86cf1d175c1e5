/**
 * The plan of one identity purge, made while the pool is listed, in O(cap) memory whatever its size.
 *
 * **What is kept.** The oldest `maxDeletionsPerRun` eligible users (a bounded max-heap, {@link OldestHeap}),
 * counters, and a small histogram of the recent eligible users; never the whole listing. The tally is JSON,
 * so a listing can stop between two pages and go on in another invocation.
 *
 * **The refusal rule** is both purges' ({@link shareOfPoolRefusal}, see `refusal.ts`): the backlog past its
 * minimum age by Cognito's own creation dates — created more than `max(minAge, 24 h)` before the newest
 * sign-up — is purged, `maxDeletionsPerRun` per run, however many there are; only the users eligible by this
 * run's clock and `minAge` alone are held to `maxShareOfPool` of the pool. Those are counted here, while
 * listing, in a histogram of the window before the newest sign-up seen so far.
 */
import { ValidationError } from "../errors.js";
import { type OldestEntry, OldestHeap, type OldestHeapLimits } from "./oldest-heap.js";
import {
  checkEligibility,
  checkPoolSize,
  type IneligibleReason,
  type PurgeCandidate,
  type PurgePlan,
  type PurgePolicy,
  purgeCutoff,
  timestampOf,
} from "./purge-policy.js";
import { IDENTITY_POPULATION, provenAgeWindowMs, shareOfPoolRefusal } from "./refusal.js";

/**
 * The most deletions one identity purge may plan. Its plan travels in the step's state (Step Functions
 * carries at most 256 KiB; `MAX_STEP_STATE_BYTES` is 200 KiB): 1,000 entries of a 128-character username
 * take about 150 KB. Larger backlogs drain over several runs, or more frequent ones.
 */
export const MAX_IDENTITY_DELETIONS_PER_RUN = 1000;

/** What the plan's entries may take in the state, leaving room for the page token and the counters. */
export const IDENTITY_PLAN_MAX_BYTES = 160 * 1024;

/** The recent window is counted in this many buckets: to within 1/48 of it, on the side of refusing. */
const RECENT_BUCKETS = 48;

/**
 * Refuses a cap the identity purge cannot carry in its state.
 * @throws ValidationError `CONFIG.INVALID_POLICY` naming `purge.maxDeletionsPerRun`.
 */
export function checkIdentityPurgePolicy(policy: PurgePolicy, key = "purge"): void {
  if (policy.maxDeletionsPerRun > MAX_IDENTITY_DELETIONS_PER_RUN) {
    throw new ValidationError(
      "CONFIG.INVALID_POLICY",
      `${key}.maxDeletionsPerRun`,
      `must be at most ${MAX_IDENTITY_DELETIONS_PER_RUN} for the identity purge, whose plan travels in its ` +
        `step's state (got ${policy.maxDeletionsPerRun}); schedule it more often to purge more per day`,
    );
  }
}

/** Where a listing is, as plain JSON: counters, the oldest eligible users, the recent histogram. */
export interface IdentityListingTally {
  /** Users listed (a user a listing returns twice counts twice; the plan holds each once). */
  readonly candidates: number;
  readonly eligible: number;
  readonly skippedByReason: Readonly<Partial<Record<IneligibleReason, number>>>;
  /**
   * The oldest eligible users so far, `[timestamp ms, username]`, at most the cap; `[timestamp ms, username, 1]`
   * for a user listed disabled.
   */
  readonly oldest: readonly OldestEntry[];
  /** The newest sign-up seen (ms, Cognito's clock) dated no later than the run's clock. */
  readonly newest?: number;
  /** Eligible users created within the proven-age window of `newest`: `[bucket, count]`. */
  readonly recent: readonly (readonly [number, number])[];
}

export const EMPTY_IDENTITY_TALLY: IdentityListingTally = Object.freeze({
  candidates: 0,
  eligible: 0,
  skippedByReason: Object.freeze({}),
  oldest: Object.freeze([]),
  recent: Object.freeze([]),
});

/** Builds an identity purge plan one listed user at a time. */
export class IdentityPlanBuilder {
  private candidates: number;
  private eligible: number;
  private readonly skipped: Partial<Record<IneligibleReason, number>>;
  private readonly heap: OldestHeap;
  private newest: number | undefined;
  private readonly recent: Map<number, number>;
  private readonly windowMs: number;
  private readonly bucketMs: number;
  /** The run's clock: sign-ups dated after it are not taken as the newest. */
  private readonly nowMs: number;

  constructor(
    readonly cutoff: Date,
    private readonly policy: PurgePolicy,
    tally: IdentityListingTally = EMPTY_IDENTITY_TALLY,
    limits: Partial<OldestHeapLimits> = {},
  ) {
    this.candidates = tally.candidates;
    this.eligible = tally.eligible;
    this.skipped = { ...tally.skippedByReason };
    this.heap = OldestHeap.from(tally.oldest, {
      count: limits.count ?? policy.maxDeletionsPerRun,
      bytes: limits.bytes ?? IDENTITY_PLAN_MAX_BYTES,
    });
    this.newest = tally.newest;
    this.recent = new Map(tally.recent.map(([bucket, count]) => [bucket, count]));
    this.windowMs = provenAgeWindowMs(policy.minAgeMs);
    this.bucketMs = Math.ceil(this.windowMs / RECENT_BUCKETS);
    this.nowMs = cutoff.getTime() + policy.minAgeMs;
  }

  /** How many users the heap holds now (never more than the cap). */
  get heapSize(): number {
    return this.heap.size;
  }

  /** Takes one listed user into account. */
  add(candidate: PurgeCandidate): void {
    this.candidates += 1;
    const at = timestampOf(candidate);
    if (at !== undefined && at <= this.nowMs && (this.newest === undefined || at > this.newest)) {
      this.advanceNewest(at);
    }
    const verdict = checkEligibility(candidate, this.cutoff);
    if (!verdict.eligible) {
      this.skipped[verdict.reason] = (this.skipped[verdict.reason] ?? 0) + 1;
      return;
    }
    // checkEligibility guarantees a valid timestamp here, so `newest` is set too.
    const when = at as number;
    this.eligible += 1;
    this.heap.offer(when, candidate.id, candidate.enabled === false);
    const bucket = this.bucketOf(when);
    if (bucket >= this.lowestRecentBucket()) this.recent.set(bucket, (this.recent.get(bucket) ?? 0) + 1);
  }

  /** Eligible users created within the proven-age window of the newest sign-up. */
  eligibleByClockOnly(): number {
    let sum = 0;
    for (const count of this.recent.values()) sum += count;
    return sum;
  }

  toJSON(): IdentityListingTally {
    return {
      candidates: this.candidates,
      eligible: this.eligible,
      skippedByReason: { ...this.skipped },
      oldest: this.heap.toJSON(),
      ...(this.newest !== undefined ? { newest: this.newest } : {}),
      recent: [...this.recent.entries()].map(([bucket, count]) => [bucket, count]),
    };
  }

  /**
   * The plan once every user has been added. `poolSize` is Cognito's estimate, so the plan uses
   * `max(poolSize, candidates)`.
   * @throws ValidationError `PURGE.INVALID_INPUT` for a pool size that is not a whole number ≥ 0.
   */
  finish(poolSize: number): PurgePlan {
    checkPoolSize(poolSize, "poolSize");
    const pool = Math.max(poolSize, this.candidates);
    const clockOnly = this.eligibleByClockOnly();
    const base = {
      cutoff: this.cutoff,
      dryRun: this.policy.dryRun,
      skippedByReason: Object.freeze({ ...this.skipped }),
      eligible: this.eligible,
      candidates: this.candidates,
      poolSize: pool,
      eligibleByClockOnly: clockOnly,
    };
    const refused = shareOfPoolRefusal({
      eligibleByClockOnly: clockOnly,
      poolSize: pool,
      policy: this.policy,
      population: IDENTITY_POPULATION,
    });
    if (refused) return Object.freeze({ ...base, toDelete: Object.freeze([]), deferred: 0, refused });
    const chosen = this.heap.sorted();
    const toDelete = chosen.map(([, id]) => id);
    const disabledAtListing = chosen.flatMap(([, , marked], i) => (marked === 1 ? [i] : []));
    return Object.freeze({
      ...base,
      toDelete: Object.freeze(toDelete),
      ...(disabledAtListing.length > 0 ? { disabledAtListing: Object.freeze(disabledAtListing) } : {}),
      deferred: this.eligible - toDelete.length,
    });
  }

  private advanceNewest(at: number): void {
    this.newest = at;
    const lowest = this.lowestRecentBucket();
    for (const bucket of [...this.recent.keys()]) if (bucket < lowest) this.recent.delete(bucket);
  }

  private lowestRecentBucket(): number {
    return this.newest === undefined ? Number.POSITIVE_INFINITY : this.bucketOf(this.newest - this.windowMs);
  }

  private bucketOf(at: number): number {
    return Math.floor(at / this.bucketMs);
  }
}

/**
 * Plans one purge of the identities in a pool from a whole listing (what the steps do page by page).
 *
 * - Candidates are checked with `checkEligibility` against `purgeCutoff(now, policy.minAgeMs)`; a
 *   repeated id is counted once.
 * - Eligible ids are ordered oldest first (ties by id, so a run is reproducible); the first
 *   `maxDeletionsPerRun` go to `toDelete`, the rest are `deferred`.
 * - Refused by {@link shareOfPoolRefusal}: nothing to delete, and the message gives the numbers and the
 *   config keys to check.
 *
 * @throws ValidationError `PURGE.INVALID_INPUT` for an invalid `now`, a negative or fractional `poolSize`,
 *   or a candidate whose id is not a non-empty string.
 */
export function planPurge(input: {
  candidates: Iterable<PurgeCandidate>;
  poolSize: number;
  policy: PurgePolicy;
  now: Date;
}): PurgePlan {
  const cutoff = purgeCutoff(input.now, input.policy.minAgeMs);
  checkPoolSize(input.poolSize, "poolSize");
  const builder = new IdentityPlanBuilder(cutoff, input.policy, EMPTY_IDENTITY_TALLY, {
    bytes: Number.POSITIVE_INFINITY,
  });
  const seen = new Set<string>();
  let index = 0;
  for (const candidate of input.candidates) {
    if (typeof candidate?.id !== "string" || candidate.id === "") {
      throw new ValidationError(
        "PURGE.INVALID_INPUT",
        `candidates[${index}].id`,
        "must be a non-empty string",
      );
    }
    index += 1;
    if (seen.has(candidate.id)) continue;
    seen.add(candidate.id);
    builder.add(candidate);
  }
  return builder.finish(input.poolSize);
}
