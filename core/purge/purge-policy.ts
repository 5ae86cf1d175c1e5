/**
 * The purge policy: which unconfirmed users may be deleted, how many per run, and when a run must refuse
 * to delete anything. One policy serves both purges — the Cognito pool ("identities") and the
 * application's `users` table ("accounts") — so both follow the same rules.
 */
import { ValidationError } from "../errors.js";
import { formatDuration, parseDuration } from "./duration.js";
import { ACCOUNT_POPULATION, type PurgeRefusal, shareOfPoolRefusal } from "./refusal.js";

export type { PurgeRefusal } from "./refusal.js";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

// Far beyond any sensible policy, yet small enough that `now - minAge` is always a valid Date.
const MAX_MIN_AGE_MS = 3650 * DAY_MS;

export interface PurgePolicy {
  /** How long after the confirmation message (or creation) a user may stay unconfirmed. */
  readonly minAgeMs: number;
  /** Upper bound on deletions in one run; eligible users beyond it wait for the next run. */
  readonly maxDeletionsPerRun: number;
  /** 0 < x ≤ 1. A run whose eligible users exceed this share of the pool deletes nothing. */
  readonly maxShareOfPool: number;
  /** Plan and report, delete nothing. */
  readonly dryRun: boolean;
}

/**
 * 24 hours because Amazon Cognito never deletes unconfirmed users by itself and a sign-up confirmation
 * code is valid for 24 hours: a younger user may still confirm with the code already sent.
 * 1000 per run keeps a run well inside a Lambda's time budget at AdminDeleteUser's 25 requests per second.
 * 5% of the pool: a normal day's unconfirmed sign-ups are far below it, a wrong clock or config is not.
 */
export const DEFAULT_PURGE_POLICY: PurgePolicy = Object.freeze({
  minAgeMs: DAY_MS,
  maxDeletionsPerRun: 1000,
  maxShareOfPool: 0.05,
  dryRun: false,
});

const POLICY_KEYS = ["minAge", "maxDeletionsPerRun", "maxShareOfPool", "dryRun"] as const;

/**
 * Reads a purge policy from stack config or environment. Every key is optional and falls back to
 * {@link DEFAULT_PURGE_POLICY}; `undefined` or `null` input means "all defaults".
 *
 * Accepted: `{ minAge: "24h" | "PT24H", maxDeletionsPerRun: 500, maxShareOfPool: 0.1, dryRun: true }`.
 * Numbers and booleans may also be given as strings ("500", "0.1", "true") because environment
 * variables carry nothing else.
 *
 * @param key the config path of the object, used to name fields in errors (default `purge`).
 * @throws ValidationError `CONFIG.INVALID_POLICY` naming the field (`purge.maxShareOfPool`) for an unknown
 *   key, a wrong type or an out-of-range value; `CONFIG.INVALID_DURATION` for a bad `minAge`.
 */
export function parsePurgePolicy(input: unknown, key = "purge"): PurgePolicy {
  if (input === undefined || input === null) return DEFAULT_PURGE_POLICY;
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new ValidationError(
      "CONFIG.INVALID_POLICY",
      key,
      `must be an object with any of ${POLICY_KEYS.join(", ")}`,
    );
  }
  const record = input as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (!(POLICY_KEYS as readonly string[]).includes(name)) {
      throw new ValidationError(
        "CONFIG.INVALID_POLICY",
        `${key}.${name}`,
        `is not a purge policy setting (known: ${POLICY_KEYS.join(", ")})`,
      );
    }
  }

  const minAgeMs =
    record.minAge === undefined ? DEFAULT_PURGE_POLICY.minAgeMs : readMinAge(record.minAge, `${key}.minAge`);
  const maxDeletionsPerRun =
    record.maxDeletionsPerRun === undefined
      ? DEFAULT_PURGE_POLICY.maxDeletionsPerRun
      : readPositiveInteger(record.maxDeletionsPerRun, `${key}.maxDeletionsPerRun`);
  const maxShareOfPool =
    record.maxShareOfPool === undefined
      ? DEFAULT_PURGE_POLICY.maxShareOfPool
      : readShare(record.maxShareOfPool, `${key}.maxShareOfPool`);
  const dryRun =
    record.dryRun === undefined ? DEFAULT_PURGE_POLICY.dryRun : readBoolean(record.dryRun, `${key}.dryRun`);

  return Object.freeze({ minAgeMs, maxDeletionsPerRun, maxShareOfPool, dryRun });
}

function readMinAge(value: unknown, field: string): number {
  if (typeof value !== "string") {
    throw new ValidationError(
      "CONFIG.INVALID_POLICY",
      field,
      'must be a duration string such as "24h" or "P1D"',
    );
  }
  const ms = parseDuration(value, field);
  if (ms > MAX_MIN_AGE_MS) {
    throw new ValidationError(
      "CONFIG.INVALID_POLICY",
      field,
      `must be at most ${formatDuration(MAX_MIN_AGE_MS)}`,
    );
  }
  return ms;
}

function readPositiveInteger(value: unknown, field: string): number {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    throw new ValidationError("CONFIG.INVALID_POLICY", field, "must be a whole number of at least 1");
  }
  return n;
}

function readShare(value: unknown, field: string): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0 || n > 1) {
    throw new ValidationError(
      "CONFIG.INVALID_POLICY",
      field,
      "must be a number greater than 0 and at most 1 (0.05 means 5% of the pool)",
    );
  }
  return n;
}

function readBoolean(value: unknown, field: string): boolean {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ValidationError("CONFIG.INVALID_POLICY", field, "must be true or false");
}

/**
 * The instant before which a user's timestamp must lie for the user to be purged: `now - minAgeMs`.
 *
 * @throws ValidationError `PURGE.INVALID_INPUT` when `now` is not a valid date, `minAgeMs` is not a
 *   positive safe integer, or the cutoff falls outside the range of dates.
 */
export function purgeCutoff(now: Date, minAgeMs: number): Date {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new ValidationError("PURGE.INVALID_INPUT", "now", "must be a valid date");
  }
  if (!Number.isSafeInteger(minAgeMs) || minAgeMs <= 0) {
    throw new ValidationError(
      "PURGE.INVALID_INPUT",
      "policy.minAgeMs",
      "must be a positive whole number of ms",
    );
  }
  const cutoff = new Date(now.getTime() - minAgeMs);
  if (Number.isNaN(cutoff.getTime())) {
    throw new ValidationError(
      "PURGE.INVALID_INPUT",
      "policy.minAgeMs",
      "puts the cutoff before the earliest date",
    );
  }
  return cutoff;
}

/** A user (identity or account) as the purge sees it: only what decides eligibility. */
export interface PurgeCandidate {
  readonly id: string;
  readonly confirmed: boolean;
  /** When the confirmation message was last sent; preferred over `createdAt` when known. */
  readonly confirmationSentAt?: Date;
  readonly createdAt?: Date;
  /**
   * Identities: whether sign-in was enabled when listed (absent: enabled). The fence enables again, when it
   * does not delete, only a user that was enabled when listed: never one an operator had disabled.
   */
  readonly enabled?: boolean;
}

export type IneligibleReason = "CONFIRMED" | "TOO_YOUNG" | "NO_TIMESTAMP";

export type Eligibility =
  { readonly eligible: true } | { readonly eligible: false; readonly reason: IneligibleReason };

/**
 * Decides whether one candidate may be purged. Eligible iff not confirmed AND its timestamp
 * (`confirmationSentAt`, else `createdAt`) is known, valid and strictly before `cutoff`.
 * Checked in that order, so a confirmed user is always reported as `CONFIRMED`.
 * An invalid Date counts as no timestamp: a user of unknown age is never deleted.
 */
export function checkEligibility(candidate: PurgeCandidate, cutoff: Date): Eligibility {
  if (candidate.confirmed) return { eligible: false, reason: "CONFIRMED" };
  const at = timestampOf(candidate);
  if (at === undefined) return { eligible: false, reason: "NO_TIMESTAMP" };
  if (!(at < cutoff.getTime())) return { eligible: false, reason: "TOO_YOUNG" };
  return { eligible: true };
}

/** The instant eligibility is judged on: `confirmationSentAt`, else `createdAt`; undefined when unknown or invalid. */
export function timestampOf(candidate: PurgeCandidate): number | undefined {
  const date = candidate.confirmationSentAt ?? candidate.createdAt;
  if (!(date instanceof Date)) return undefined;
  const ms = date.getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

export interface PurgePlan {
  readonly cutoff: Date;
  readonly dryRun: boolean;
  /** Ids to delete, oldest first, at most `maxDeletionsPerRun`; empty when refused. */
  readonly toDelete: readonly string[];
  /**
   * Identities: the positions in `toDelete` of the users that were disabled when listed (absent: none). The
   * others were enabled, so a fence that finds one of them disabled and no longer eligible — confirmed after
   * a crash between the fence's disable and its delete — enables it again.
   */
  readonly disabledAtListing?: readonly number[];
  /** Eligible beyond the per-run cap, left for the next run (0 when refused). */
  readonly deferred: number;
  readonly skippedByReason: Readonly<Partial<Record<IneligibleReason, number>>>;
  readonly eligible: number;
  readonly candidates: number;
  /** The pool size the share rule was checked against (never below `candidates`). */
  readonly poolSize: number;
  /**
   * The eligible users whose eligibility rests on this run's clock and `minAge` alone — signed up less than
   * `provenAgeWindowMs` before the newest sign-up — which the share rule counts. The others are past their
   * minimum age by the pool's own dates (see `refusal.ts`).
   */
  readonly eligibleByClockOnly?: number;
  readonly refused?: PurgeRefusal;
}

/**
 * The plan for the accounts table, where the store deletes by query (`confirmed_at IS NULL AND
 * confirmation_sent_at < cutoff`, `LIMIT limit`) rather than by id: `toDelete` is always empty and
 * `limit` says how many rows this run may delete.
 */
export interface AccountPurgePlan extends PurgePlan {
  /** `min(eligible, maxDeletionsPerRun)`, or 0 when refused. */
  readonly limit: number;
}

/**
 * Plans one purge of the accounts table from counts the store gives: the `expired` rows (unconfirmed,
 * confirmation sent before the cutoff), those of them sent within `max(minAge, 24 h)` of the newest
 * unconfirmed row's date (`eligibleByClockOnly`, see `refusal.ts`), and the `total` rows of the table. The
 * run refuses when `eligibleByClockOnly` exceeds `maxShareOfPool` of the table; otherwise the store deletes at
 * most `limit` rows (the per-run cap), oldest first, by query: an older backlog drains, the cap per run.
 *
 * @throws ValidationError `PURGE.INVALID_INPUT` for an invalid `now` or counts that are not whole numbers ≥ 0,
 *   or more rows eligible by the clock alone than expired.
 */
export function planAccountPurge(input: {
  expired: number;
  eligibleByClockOnly: number;
  total: number;
  policy: PurgePolicy;
  now: Date;
}): AccountPurgePlan {
  const { policy } = input;
  const cutoff = purgeCutoff(input.now, policy.minAgeMs);
  checkPoolSize(input.expired, "expired");
  checkPoolSize(input.total, "total");
  checkPoolSize(input.eligibleByClockOnly, "eligibleByClockOnly");
  if (input.eligibleByClockOnly > input.expired) {
    throw new ValidationError(
      "PURGE.INVALID_INPUT",
      "eligibleByClockOnly",
      "must be at most the expired rows",
    );
  }

  const poolSize = Math.max(input.total, input.expired);
  const base = {
    cutoff,
    dryRun: policy.dryRun,
    toDelete: Object.freeze([]) as readonly string[],
    skippedByReason: Object.freeze({}),
    eligible: input.expired,
    candidates: input.expired,
    poolSize,
    eligibleByClockOnly: input.eligibleByClockOnly,
  };
  const refused = shareOfPoolRefusal({
    eligibleByClockOnly: input.eligibleByClockOnly,
    poolSize,
    policy,
    population: ACCOUNT_POPULATION,
  });
  if (refused) return Object.freeze({ ...base, deferred: 0, limit: 0, refused });

  const limit = Math.min(input.expired, policy.maxDeletionsPerRun);
  return Object.freeze({ ...base, deferred: input.expired - limit, limit });
}

export function checkPoolSize(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError("PURGE.INVALID_INPUT", field, "must be a whole number of at least 0");
  }
}
