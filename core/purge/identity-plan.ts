/**
 * The plan of one identity purge, made while the pool is listed, in O(cap) memory whatever its size.
 *
 * **What is kept.** The oldest `maxDeletionsPerRun` eligible users (a bounded max-heap, {@link OldestHeap}),
 * counters, and a small histogram of the recent eligible users; never the whole listing. The tally is JSON,
 * so a listing can stop between two pages and go on in another invocation.
 *
 * **The refusal rule.** Cognito dates each user's creation with its own clock. A user created more than
 * `max(minAge, 24 h)` before the newest sign-up of the pool is therefore past its minimum age, and past the
 * 24-hour life of its confirmation code, whatever this run's clock says: such users (the backlog) are
 * purged, `maxDeletionsPerRun` per run, however many there are. The other eligible users are eligible only
 * by this run's clock and `minAge`; when they exceed `maxShareOfPool` of the pool — a clock running ahead,
 * a `minAge` set too short — the run refuses and deletes nothing.
 *
 * Why not the share of the whole eligible set, as before: with a cap below the daily inflow of
 * never-confirmed sign-ups, the backlog grows past any share and every later run refused, forever. The
 * users a wrong clock or `minAge` puts at risk are the recent ones, and those are still bounded by the share
 * exactly as before: a run never deletes more of them than the old rule allowed. The limit of the rule: a
 * pool where nobody has signed up for a long time looks the same as a clock running ahead (the newest
 * sign-up is old either way); there the share of the pool still bounds what a wrong clock can delete.
 */
import { ValidationError } from "../errors.js";
import { formatDuration } from "./duration.js";
import { type OldestEntry, OldestHeap, type OldestHeapLimits } from "./oldest-heap.js";
import {
  checkEligibility,
  checkPoolSize,
  type IneligibleReason,
  type PurgeCandidate,
  type PurgePlan,
  type PurgePolicy,
  type PurgeRefusal,
  purgeCutoff,
  refusalThreshold,
  timestampOf,
} from "./purge-policy.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** A sign-up confirmation code is valid for 24 hours (see `DEFAULT_PURGE_POLICY`). */
export const CONFIRMATION_CODE_LIFE_MS = DAY_MS;

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
 * How long before the newest sign-up a user must have been created to be past its minimum age (and its
 * confirmation code's life) by Cognito's own timestamps: `max(minAge, 24 h)`.
 */
export function provenAgeWindowMs(minAgeMs: number): number {
  return Math.max(minAgeMs, CONFIRMATION_CODE_LIFE_MS);
}

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
  /** The newest sign-up seen (ms), Cognito's clock. */
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
  }

  /** How many users the heap holds now (never more than the cap). */
  get heapSize(): number {
    return this.heap.size;
  }

  /** Takes one listed user into account. */
  add(candidate: PurgeCandidate): void {
    this.candidates += 1;
    const at = timestampOf(candidate);
    if (at !== undefined && (this.newest === undefined || at > this.newest)) this.advanceNewest(at);
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
    const refused = identityPurgeRefusal({
      eligibleByClockOnly: clockOnly,
      poolSize: pool,
      policy: this.policy,
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
 * The identity purge's refusal: more users eligible by this run's clock alone than `maxShareOfPool` of the
 * pool allows ({@link refusalThreshold}). The backlog past its minimum age by Cognito's own timestamps is
 * never counted. Undefined when the run may go on.
 */
export function identityPurgeRefusal(input: {
  eligibleByClockOnly: number;
  poolSize: number;
  policy: PurgePolicy;
}): PurgeRefusal | undefined {
  const { eligibleByClockOnly: recent, poolSize, policy } = input;
  const threshold = refusalThreshold(poolSize, policy.maxShareOfPool);
  if (recent <= threshold) return undefined;
  const percent = (n: number) => `${Number((n * 100).toFixed(2))}%`;
  return Object.freeze({
    reason: "SHARE_OF_POOL_EXCEEDED",
    message:
      `Refused: ${recent} of ${poolSize} users in the pool (${percent(recent / poolSize)}) are eligible by this ` +
      `run's clock and purge.minAge (${formatDuration(policy.minAgeMs)}) alone, created less than ` +
      `${formatDuration(provenAgeWindowMs(policy.minAgeMs))} before the newest sign-up; purge.maxShareOfPool ` +
      `allows ${percent(policy.maxShareOfPool)} (at most ${threshold}). Nothing was deleted. Check the clock ` +
      "and purge.minAge; if this many recent sign-ups are expected to go, raise purge.maxShareOfPool.",
  });
}

/**
 * Plans one purge of the identities in a pool from a whole listing (what the steps do page by page).
 *
 * - Candidates are checked with `checkEligibility` against `purgeCutoff(now, policy.minAgeMs)`; a
 *   repeated id is counted once.
 * - Eligible ids are ordered oldest first (ties by id, so a run is reproducible); the first
 *   `maxDeletionsPerRun` go to `toDelete`, the rest are `deferred`.
 * - Refused by {@link identityPurgeRefusal}: nothing to delete, and the message gives the numbers and the
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
