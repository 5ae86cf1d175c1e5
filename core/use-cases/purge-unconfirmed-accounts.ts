import { errorCode, ValidationError } from "../errors.js";
import type { AccountKeyBounds, AccountKeyRange, AccountStore } from "../ports/account-store.js";
import type { Clock } from "../ports/clock.js";
import {
  type AccountPurgePlan,
  clockOnlySince,
  finishPurgeReport,
  newPurgeReport,
  type PurgeReport,
  type PurgeReportDraft,
  planAccountPurge,
  purgeCutoff,
  recordDeleted,
  recordFailure,
} from "../purge/index.js";
import { maskEmail } from "../user/mask.js";
import type { PurgeRunOptions } from "./purge-unconfirmed-identities.js";

export interface PurgeAccountsDeps {
  readonly accounts: AccountStore;
  readonly clock: Clock;
}

export interface PurgeAccountsOptions extends PurgeRunOptions {
  /**
   * Rows per delete statement when the oldest go first, and the size the first statements of a key-range walk
   * aim at: small enough that each statement holds its locks only briefly. Default 500.
   */
  readonly batchSize?: number;
  /** Statements a key-range walk runs side by side, on as many connections. Default 2; 1 runs them in turn. */
  readonly lanes?: number;
  /** How long a key-range statement should take: its stretch of keys grows or shrinks toward it. Default 30 ms. */
  readonly statementTargetMs?: number;
}

export const DEFAULT_PURGE_BATCH_SIZE = 500;
/** The largest batch a deployment may configure (`PURGE_BATCH_SIZE`, `purgeBatchSize`). */
export const MAX_PURGE_BATCH_SIZE = 10_000;
export const DEFAULT_PURGE_LANES = 2;
/** The most lanes a deployment may configure: the accounts pool holds this many connections. */
export const MAX_PURGE_LANES = 2;
export const DEFAULT_STATEMENT_TARGET_MS = 30;

/**
 * From this share of expired rows in the table on, the purge walks the table by primary key instead of the
 * purge index. Through the index each row costs a jump to wherever it sits in the table; walking the keys reads
 * every row but in order. On MariaDB 10.11 with 1,000,000 rows in memory, a deleted row cost about 9 µs through
 * the index, and the key walk about 0.7 µs per row read plus 3.5 µs per row deleted: cheaper from about one
 * expired row in eight on.
 */
export const KEY_RANGE_MIN_SHARE = 1 / 8;

/** How a purge goes through the expired rows. */
export type AccountPurgeWalk = "oldest-first" | "key-range";

/**
 * Picks the walk: oldest first through the purge index, unless every expired row is to go (no cap cuts the
 * run short, so the order does not matter), there is more than one statement's worth of them, and they are at
 * least {@link KEY_RANGE_MIN_SHARE} of the table — a mass purge, where reading the table in key order is
 * cheaper than a jump per row.
 */
export function chooseAccountPurgeWalk(input: {
  readonly expired: number;
  readonly total: number;
  readonly limit: number;
  readonly batchSize: number;
}): AccountPurgeWalk {
  const everyExpiredRow = input.limit >= input.expired;
  const moreThanOneStatement = input.expired > input.batchSize;
  const dense = input.expired >= input.total * KEY_RANGE_MIN_SHARE;
  return everyExpiredRow && moreThanOneStatement && dense ? "key-range" : "oldest-first";
}

/**
 * Deletes the application's account rows that were never confirmed, in short statements (never one unbounded
 * DELETE that locks the table for the whole run), until none are left, the cap is reached or the time budget
 * is spent. Each statement re-evaluates the condition, so a row confirmed meanwhile is never deleted.
 *
 * Usually the oldest go first, `batchSize` rows per statement through the purge index. When most of the table
 * is to go (see {@link chooseAccountPurgeWalk}), the table is walked by primary key in stretches, `lanes` at a
 * time, each stretch sized so that its statement takes about `statementTargetMs`.
 *
 * A failing statement stops the run and is reported (counted by error code): the caller fails the invocation.
 * @throws ValidationError `PURGE.INVALID_INPUT` naming the option when `batchSize`, `lanes` or
 * `statementTargetMs` is not a whole number of at least 1; nothing is read or deleted then.
 */
export async function purgeUnconfirmedAccounts(
  deps: PurgeAccountsDeps,
  options: PurgeAccountsOptions,
): Promise<PurgeReport> {
  const batchSize = wholeAtLeastOne(options.batchSize ?? DEFAULT_PURGE_BATCH_SIZE, "batchSize");
  const lanes = wholeAtLeastOne(options.lanes ?? DEFAULT_PURGE_LANES, "lanes");
  const targetMs = wholeAtLeastOne(
    options.statementTargetMs ?? DEFAULT_STATEMENT_TARGET_MS,
    "statementTargetMs",
  );
  const started = deps.clock.now();
  const previewed = options.previewed && "limit" in options.previewed ? options.previewed : undefined;
  // A previewed plan is carried out as it is: its cutoff, and at most the rows it counted.
  const plan: AccountPurgePlan = previewed
    ? { ...(previewed as AccountPurgePlan), dryRun: options.policy.dryRun }
    : await planFromCounts(deps.accounts, options.policy, started);
  const total = plan.poolSize;
  const expired = plan.eligible;
  options.onPlan?.(plan);
  const run = new PurgeRun(deps.clock, newPurgeReport(plan, "accounts"), options.deadline);

  if (!plan.refused && !plan.dryRun && plan.limit > 0) {
    const walk = chooseAccountPurgeWalk({ expired, total, limit: plan.limit, batchSize });
    if (walk === "key-range") {
      const bounds = await run.attempt(() => deps.accounts.keyBounds());
      if (bounds) {
        await walkKeyRanges(deps, run, plan, bounds, { expired, total, batchSize, lanes, targetMs });
      }
    } else {
      await walkOldestFirst(deps.accounts, run, plan, batchSize);
    }
  }
  return finishPurgeReport(run.report, {
    durationMs: deps.clock.now().getTime() - started.getTime(),
    timedOut: run.timedOut,
  });
}

/**
 * Counts what the plan needs, one statement after the other, not in parallel: they read the same index, and on
 * a small database server run side by side they slowed each other down (on MariaDB with 1,000,000 rows and 2
 * cores, COUNT(*) took 110-140 ms alone and up to 253 ms next to the expired count). The total is exact, not the
 * server's estimate: an estimate (information_schema TABLE_ROWS) can be stale high right after a mass deletion,
 * which would let the share rule pass exactly when it should refuse.
 *
 * The refusal rule is the identity purge's (see `core/purge/refusal.ts`): only the expired rows sent within
 * `max(minAge, 24 h)` of the newest unconfirmed row's date (one read of the end of the purge index) are held to
 * the share of the table; an older backlog drains, the cap per run.
 */
async function planFromCounts(
  accounts: AccountStore,
  policy: PurgeAccountsOptions["policy"],
  now: Date,
): Promise<AccountPurgePlan> {
  const cutoff = purgeCutoff(now, policy.minAgeMs);
  const total = await accounts.countAll();
  const expired = await accounts.countExpiredUnconfirmed(cutoff);
  const since = clockOnlySince(await accounts.newestUnconfirmedSentAt(now), policy.minAgeMs);
  const recent =
    expired === 0 || since === undefined || since.getTime() >= cutoff.getTime()
      ? 0
      : await accounts.countExpiredUnconfirmed(cutoff, since);
  // Counted a moment after the expired rows: never more of them (a row written meanwhile with an old date).
  const eligibleByClockOnly = Math.min(recent, expired);
  return planAccountPurge({ expired, eligibleByClockOnly, total, policy, now });
}

/** The report of a run being carried out, and whether it must stop (a failure, the time budget). */
class PurgeRun {
  timedOut = false;
  private failed = false;

  constructor(
    private readonly clock: Clock,
    public report: PurgeReportDraft,
    private readonly deadline: Date | undefined,
  ) {}

  /** False once a statement failed or the time budget is spent: no statement starts after that. */
  mayGoOn(): boolean {
    if (this.failed || this.timedOut) return false;
    if (this.deadline && this.clock.now().getTime() >= this.deadline.getTime()) this.timedOut = true;
    return !this.timedOut;
  }

  deleted(rows: number): void {
    if (rows > 0) this.report = recordDeleted(this.report, rows);
  }

  /** Runs one statement; a failure is recorded, stops the run and gives `undefined`. */
  async attempt<T>(statement: () => Promise<T>): Promise<T | undefined> {
    try {
      return await statement();
    } catch (error) {
      this.report = recordFailure(this.report, errorCode(error));
      this.failed = true;
      return undefined;
    }
  }
}

async function walkOldestFirst(
  accounts: AccountStore,
  run: PurgeRun,
  plan: AccountPurgePlan,
  batchSize: number,
): Promise<void> {
  let remaining = plan.limit;
  while (remaining > 0 && run.mayGoOn()) {
    const deleted = await run.attempt(() =>
      accounts.deleteExpiredUnconfirmed(plan.cutoff, Math.min(batchSize, remaining)),
    );
    if (deleted === undefined || deleted === 0) return;
    run.deleted(deleted);
    remaining -= deleted;
  }
}

/**
 * Walks the table's keys from `bounds.first` to `bounds.last` in stretches, `lanes` statements at a time, each
 * stretch deleted by one statement. Rows added during the walk get keys past `bounds.last` and are too young to
 * be expired. The first stretches hold about `batchSize` expired rows at the table's share of them; then each
 * stretch is resized after a statement by how long it took against `targetMs` (at most ×1.5 larger, ×0.5
 * smaller at a time). Each statement's LIMIT is reserved from the plan's limit before it runs, so the lanes
 * together never delete more than the plan allows; a stretch whose statement stopped at its LIMIT is walked again.
 */
async function walkKeyRanges(
  { accounts, clock }: PurgeAccountsDeps,
  run: PurgeRun,
  plan: AccountPurgePlan,
  bounds: AccountKeyBounds,
  sizes: {
    readonly expired: number;
    readonly total: number;
    readonly batchSize: number;
    readonly lanes: number;
    readonly targetMs: number;
  },
): Promise<void> {
  const stretch = new StretchSizer(
    Math.ceil((sizes.batchSize * sizes.total) / sizes.expired),
    sizes.targetMs,
  );
  const end = bounds.last + 1;
  let next = bounds.first;
  // The most rows one statement may delete: twice what a stretch holds at the table's share of expired rows, so
  // the lanes' reservations leave room for each other; a stretch with more is walked again.
  const share = sizes.expired / sizes.total;
  const rowsFor = (keys: AccountKeyRange) =>
    Math.min(keys.to - keys.from, Math.max(1, Math.ceil(2 * share * (keys.to - keys.from))));
  const again: AccountKeyRange[] = [];
  let unreserved = plan.limit;

  const takeStretch = (): AccountKeyRange | undefined => {
    const retried = again.shift();
    if (retried) return retried;
    if (next >= end) return undefined;
    const from = next;
    next = Math.min(from + stretch.keys, end);
    return { from, to: next };
  };

  const lane = async (): Promise<void> => {
    while (run.mayGoOn()) {
      const keys = takeStretch();
      if (!keys) return;
      const take = Math.min(unreserved, rowsFor(keys));
      if (take === 0) {
        again.unshift(keys);
        return;
      }
      unreserved -= take;
      const startedAt = clock.now().getTime();
      const deleted = await run.attempt(() => accounts.deleteExpiredUnconfirmed(plan.cutoff, take, keys));
      unreserved += take - (deleted ?? 0);
      if (deleted === undefined) return;
      stretch.took(clock.now().getTime() - startedAt);
      run.deleted(deleted);
      // Stopped at its limit before the end of the stretch: rows of it may be left.
      if (deleted === take && take < keys.to - keys.from) again.unshift(keys);
    }
  };
  await Promise.all(Array.from({ length: sizes.lanes }, lane));
}

/**
 * The number of keys of the next stretch: resized after each statement by how long it took against the target,
 * never more than ×1.5 at a time (one slow statement must not follow a fast one that happened to be lucky) nor
 * below half, and kept between 1/8 and 64 times the first size.
 */
class StretchSizer {
  keys: number;
  private readonly smallest: number;
  private readonly largest: number;

  constructor(
    first: number,
    private readonly targetMs: number,
  ) {
    this.keys = first;
    this.smallest = Math.max(1, Math.floor(first / 8));
    this.largest = first * 64;
  }

  took(ms: number): void {
    const factor = Math.min(1.5, Math.max(0.5, this.targetMs / Math.max(ms, 1)));
    this.keys = Math.min(this.largest, Math.max(this.smallest, Math.round(this.keys * factor)));
  }
}

/** How many of the rows a preview deletes it names, oldest first. */
export const PREVIEW_NAMED_ROWS = 20;

/** Whom an accounts purge plan deletes, as a preview shows it: the oldest rows' emails, masked. */
export interface AccountPurgeNames {
  /** The emails of the first rows the run deletes (oldest first), masked (`a***@e***.com`), at most `max`. */
  readonly masked: readonly string[];
  /** How many more rows the plan may delete beyond those named. */
  readonly more: number;
}

/**
 * Names, masked, the rows a plan deletes: the oldest `max` of them (the run deletes the oldest first, or every
 * expired row in a mass purge, so these go either way unless confirmed meanwhile). Reads emails only for an
 * operator's preview; nothing here logs them, and only their masks leave this function.
 */
export async function nameAccountPurge(
  accounts: AccountStore,
  plan: AccountPurgePlan,
  max: number = PREVIEW_NAMED_ROWS,
): Promise<AccountPurgeNames> {
  if (plan.refused || plan.limit === 0) return { masked: [], more: 0 };
  const emails = await accounts.oldestExpiredUnconfirmedEmails(plan.cutoff, Math.min(max, plan.limit));
  return { masked: emails.map(maskEmail), more: Math.max(0, plan.limit - emails.length) };
}

function wholeAtLeastOne(value: number, option: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(
      "PURGE.INVALID_INPUT",
      option,
      `must be a whole number of at least 1 (got ${value})`,
    );
  }
  return value;
}
