/**
 * The refusal rule of both purges: when a run must delete nothing, because too much of the pool (or table)
 * would go on the strength of its own clock and `minAge` alone.
 *
 * The pool dates each sign-up with its own clock (Cognito its users' creation, the application its rows'
 * `confirmation_sent_at`). A user whose sign-up is more than `max(minAge, 24 h)` older than the newest sign-up
 * is therefore past its minimum age, and past the 24-hour life of its confirmation code, whatever this run's
 * clock says: such users (the backlog) are purged, `maxDeletionsPerRun` per run, however many there are. The
 * other eligible users are eligible only by this run's clock and `minAge`; when they exceed `maxShareOfPool`
 * of the pool — a clock running ahead, a `minAge` set too short — the run refuses and deletes nothing.
 *
 * Why not the share of the whole eligible set, as before: with a cap below the daily inflow of never-confirmed
 * sign-ups, the backlog grows past any share and every later run refused, forever. The users a wrong clock or
 * `minAge` puts at risk are the recent ones, and those are still bounded by the share exactly as before. The
 * newest sign-up is the newest dated no later than the run's clock: a sign-up dated in the future (a row the
 * application wrote with a wrong date) cannot make the whole pool look old. The limits of the rule: a pool
 * where nobody has signed up for a long time looks the same as a clock running ahead (the newest sign-up is
 * old either way), and so does a clock running ahead past a row dated in the future; there the share of the
 * pool still bounds what a wrong clock can delete.
 */
import { formatDuration } from "./duration.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** A sign-up confirmation code is valid for 24 hours (see `DEFAULT_PURGE_POLICY`). */
export const CONFIRMATION_CODE_LIFE_MS = DAY_MS;

/**
 * How long before the newest sign-up a user must have signed up to be past its minimum age (and its
 * confirmation code's life) by the pool's own dates: `max(minAge, 24 h)`.
 */
export function provenAgeWindowMs(minAgeMs: number): number {
  return Math.max(minAgeMs, CONFIRMATION_CODE_LIFE_MS);
}

/**
 * The instant from which an eligible user counts as eligible by the run's clock alone: `max(minAge, 24 h)`
 * before `newest`, the newest sign-up dated no later than the run's clock. Undefined when there is none (then
 * no user is eligible either).
 */
export function clockOnlySince(newest: Date | undefined, minAgeMs: number): Date | undefined {
  return newest === undefined ? undefined : new Date(newest.getTime() - provenAgeWindowMs(minAgeMs));
}

/**
 * How many eligible users a run may face before it refuses: `maxShareOfPool × poolSize`, rounded down,
 * but never less than 1 in a non-empty pool. Without that floor a small pool (a new or a dev stack:
 * 3 users, share 0.05 → 0.15) could never be purged at all; with it the worst a wrong clock or config
 * can do to a small pool is one deletion per run, which the report shows. So a pool of 3 with 1 expired
 * user is purged; with 2 expired (67% of it) the run refuses.
 */
export function refusalThreshold(poolSize: number, maxShareOfPool: number): number {
  if (poolSize <= 0) return 0;
  // The epsilon absorbs binary rounding (0.29 × 100 = 28.999999999999996), which would otherwise cost one.
  return Math.max(1, Math.floor(maxShareOfPool * poolSize + 1e-9));
}

export interface PurgeRefusal {
  readonly reason: "SHARE_OF_POOL_EXCEEDED";
  readonly message: string;
}

/** What a purge counts its share against, as its refusal names it. */
export interface PurgePopulation {
  /** What the pool holds: `users in the pool`, `rows in the users table`. */
  readonly members: string;
  /** How a member's date is named: `created`, `sent their confirmation`. */
  readonly dated: string;
}

export const IDENTITY_POPULATION: PurgePopulation = { members: "users in the pool", dated: "created" };
export const ACCOUNT_POPULATION: PurgePopulation = {
  members: "rows in the users table",
  dated: "sent their confirmation",
};

/**
 * The refusal of both purges: more users eligible by this run's clock alone than `maxShareOfPool` of the pool
 * allows ({@link refusalThreshold}). The backlog past its minimum age by the pool's own dates is never
 * counted. Undefined when the run may go on.
 */
export function shareOfPoolRefusal(input: {
  readonly eligibleByClockOnly: number;
  readonly poolSize: number;
  readonly policy: { readonly minAgeMs: number; readonly maxShareOfPool: number };
  readonly population: PurgePopulation;
}): PurgeRefusal | undefined {
  const { eligibleByClockOnly: recent, poolSize, policy, population } = input;
  const threshold = refusalThreshold(poolSize, policy.maxShareOfPool);
  if (recent <= threshold) return undefined;
  const percent = (n: number) => `${Number((n * 100).toFixed(2))}%`;
  return Object.freeze({
    reason: "SHARE_OF_POOL_EXCEEDED",
    message:
      `Refused: ${recent} of ${poolSize} ${population.members} (${percent(recent / poolSize)}) are eligible by ` +
      `this run's clock and purge.minAge (${formatDuration(policy.minAgeMs)}) alone, ${population.dated} less ` +
      `than ${formatDuration(provenAgeWindowMs(policy.minAgeMs))} before the newest sign-up; ` +
      `purge.maxShareOfPool allows ${percent(policy.maxShareOfPool)} (at most ${threshold}). Nothing was ` +
      "deleted. Check the clock and purge.minAge; if this many recent sign-ups are expected to go, raise " +
      "purge.maxShareOfPool.",
  });
}
