/**
 * The identity purge as durable steps ({@link Step}): deletes users of the pool who never confirmed their
 * sign-up within the policy's age, on a pool of any size, in as many invocations as it takes.
 *
 * - **Listing** (UNCONFIRMED only: Cognito's ListUsers takes one filter). Page after page, the plan's builder
 *   keeps the oldest `maxDeletionsPerRun` eligible users and some counters ({@link IdentityPlanBuilder}):
 *   O(cap) memory whatever the pool's size. The page token and that tally are the state; a step stops between
 *   two pages before its deadline and the next one goes on. A page token Cognito no longer accepts (they
 *   expire) restarts the listing from the first page, counters and all.
 * - **Plan**: once the last page is read, the cutoff and the chosen usernames (at most the cap, see
 *   {@link MAX_IDENTITY_DELETIONS_PER_RUN}) go into the state, with the refusal rule's verdict. All candidates
 *   are chosen before anything is deleted, because deleting while paginating can invalidate the page token.
 * - **Deletion**: one fenced deletion after another ({@link fencedDelete}), the index of the next one and the
 *   report's counts in the state. Each deletion makes two UserUpdate calls (AdminDisableUser,
 *   AdminDeleteUser), three when the user is enabled again; the category (25 per second, shared with the
 *   restore) is paced by the directory adapter.
 *
 * A call throttled until the step's deadline (`QUOTA.DEADLINE_REACHED`, from the directory's pacing) is no
 * failure: the step yields where it is, with the pages it read or the deletions it made, and the next step
 * goes on from there.
 *
 * Crash safety: listing writes nothing; a deletion is fenced and re-checked, so running one again after a
 * crash finds the user gone (`ALREADY_DELETED`) or no longer eligible and deletes nobody twice; the report's
 * counts travel with the index, so each planned user is counted once. A user deleted just before a crash is
 * counted as `ALREADY_DELETED` by the step that runs again.
 */
import * as z from "zod/mini";
import "../validation.js";
import { errorCode, isQuotaDeadlineError, issuePath, LifecycleError, ValidationError } from "../errors.js";
import type { Clock } from "../ports/clock.js";
import type { UserDirectory } from "../ports/user-directory.js";
import {
  checkEligibility,
  checkIdentityPurgePolicy,
  EMPTY_IDENTITY_TALLY,
  finishPurgeReport,
  type IdentityListingTally,
  IdentityPlanBuilder,
  MAX_IDENTITY_DELETIONS_PER_RUN,
  newPurgeReport,
  type PurgePlan,
  type PurgePolicy,
  type PurgeReport,
  type PurgeReportDraft,
  purgeCutoff,
  recordDeleted,
  recordFailure,
  recordSkipped,
} from "../purge/index.js";
import { type Step, stepShouldYield } from "../steps/step.js";
import type { User } from "../user/user.js";

export interface PurgeIdentitiesDeps {
  readonly directory: UserDirectory;
  readonly clock: Clock;
}

/** A plan as it travels in the state: the cutoff as ISO 8601. */
export type StoredPurgePlan = Omit<PurgePlan, "cutoff"> & { readonly cutoff: string };

/** Where a purge of identities is, between two steps. Plain JSON. */
export interface PurgeState {
  readonly version: 1;
  /** ISO 8601: when the run began (its report's duration counts from here). */
  readonly startedAt: string;
  readonly policy: PurgePolicy;
  /** ISO 8601: users must have signed up strictly before it. */
  readonly cutoff: string;
  /** While listing: the next page's token (absent: the first page), and what the pages so far held. */
  readonly listing?: {
    readonly pageToken?: string;
    readonly pages: number;
    /** Listings begun again after Cognito refused a page token. */
    readonly restarts: number;
    readonly tally: IdentityListingTally;
  };
  /** Once listed (or previewed): what this run deletes. */
  readonly plan?: StoredPurgePlan;
  /** The index in `plan.toDelete` of the next user to fence. */
  readonly next: number;
  /** The report's counts so far, once there is a plan. */
  readonly report?: PurgeReportDraft;
}

const count = z.int().check(z.nonnegative());
const counts = z.record(z.string(), count);
const isoDate = z
  .string()
  .check(z.refine((text) => !Number.isNaN(Date.parse(text)), "must be an ISO 8601 date"));
const planSchema = z.strictObject({
  cutoff: isoDate,
  dryRun: z.boolean(),
  toDelete: z.array(z.string().check(z.minLength(1))),
  disabledAtListing: z.optional(z.array(count)),
  deferred: count,
  skippedByReason: counts,
  eligible: count,
  candidates: count,
  poolSize: count,
  eligibleByClockOnly: z.optional(count),
  refused: z.optional(z.strictObject({ reason: z.literal("SHARE_OF_POOL_EXCEEDED"), message: z.string() })),
});
const stateSchema = z.strictObject({
  version: z.literal(1),
  startedAt: isoDate,
  policy: z.strictObject({
    minAgeMs: z.int().check(z.positive()),
    maxDeletionsPerRun: z.int().check(z.positive(), z.maximum(MAX_IDENTITY_DELETIONS_PER_RUN)),
    maxShareOfPool: z.number().check(z.positive(), z.maximum(1)),
    dryRun: z.boolean(),
  }),
  cutoff: isoDate,
  listing: z.optional(
    z.strictObject({
      pageToken: z.optional(z.string()),
      pages: count,
      restarts: count,
      tally: z.strictObject({
        candidates: count,
        eligible: count,
        skippedByReason: counts,
        oldest: z.array(
          z.union([z.tuple([z.number(), z.string()]), z.tuple([z.number(), z.string(), z.literal(1)])]),
        ),
        newest: z.optional(z.number()),
        recent: z.array(z.tuple([z.int(), count])),
      }),
    }),
  ),
  plan: z.optional(planSchema),
  next: count,
  report: z.optional(
    z.strictObject({
      target: z.literal("identities"),
      dryRun: z.boolean(),
      cutoff: isoDate,
      candidates: count,
      eligible: count,
      planned: count,
      planDeferred: count,
      deleted: count,
      skippedByReason: counts,
      skippedAtRun: count,
      failed: count,
      failureCodes: counts,
      refused: z.optional(z.string()),
    }),
  ),
});

/**
 * A purge state handed back by a state machine or an operator (to resume a failed run), checked strictly.
 * @throws ValidationError `STEP.STATE_INVALID` naming the first bad field.
 */
export function parsePurgeState(value: unknown): PurgeState {
  const result = stateSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issuePath(issue?.path ?? []);
    throw new ValidationError(
      "STEP.STATE_INVALID",
      path === "" ? "state" : `state.${path}`,
      `${issue?.message ?? "is invalid"}: not the state of an identity purge`,
    );
  }
  const state = result.data as PurgeState;
  if (state.plan !== undefined && state.next > state.plan.toDelete.length) {
    throw new ValidationError("STEP.STATE_INVALID", "state.next", "is past the end of the plan");
  }
  const outside = state.plan?.disabledAtListing?.findIndex((i) => i >= (state.plan?.toDelete.length ?? 0));
  if (outside !== undefined && outside >= 0) {
    throw new ValidationError(
      "STEP.STATE_INVALID",
      `state.plan.disabledAtListing.${outside}`,
      "is past the end of the plan",
    );
  }
  return state;
}

export interface StartPurgeOptions {
  readonly policy: PurgePolicy;
  /**
   * The plan a preview (a dry run) showed, to carry out as it is: its cutoff and its users, never a new
   * listing, so what is deleted is what was confirmed. Each user is still fenced and re-checked against the
   * preview's cutoff; one who confirmed since is spared.
   */
  readonly previewed?: PurgePlan;
}

/** Listings begun again (expired page tokens) before the run gives up, failing. */
const MAX_LISTING_RESTARTS = 3;

/**
 * The first state of a run.
 * @throws ValidationError `CONFIG.INVALID_POLICY` naming `purge.maxDeletionsPerRun` for a cap whose plan could
 *   not travel in the state; `PURGE.INVALID_INPUT` for a clock or policy that gives no valid cutoff.
 */
export function startIdentityPurge(clock: Clock, options: StartPurgeOptions): PurgeState {
  const { policy, previewed } = options;
  checkIdentityPurgePolicy(policy);
  const now = clock.now();
  const startedAt = now.toISOString();
  const plain: PurgePolicy = {
    minAgeMs: policy.minAgeMs,
    maxDeletionsPerRun: policy.maxDeletionsPerRun,
    maxShareOfPool: policy.maxShareOfPool,
    dryRun: policy.dryRun,
  };
  if (previewed) {
    if (previewed.toDelete.length > MAX_IDENTITY_DELETIONS_PER_RUN) {
      throw new LifecycleError(
        "STEP.STATE_INVALID",
        "The previewed plan holds more users than a run may delete",
      );
    }
    const plan = storePlan({ ...previewed, dryRun: policy.dryRun });
    return {
      version: 1,
      startedAt,
      policy: plain,
      cutoff: plan.cutoff,
      plan,
      next: 0,
      report: newPurgeReport(loadPlan(plan), "identities"),
    };
  }
  return {
    version: 1,
    startedAt,
    policy: plain,
    cutoff: purgeCutoff(now, policy.minAgeMs).toISOString(),
    listing: { pages: 0, restarts: 0, tally: EMPTY_IDENTITY_TALLY },
    next: 0,
  };
}

export interface PurgeStepOptions {
  /** Stop starting new work this long before a step's deadline (default `DEFAULT_STEP_MARGIN_MS`). */
  readonly marginMs?: number;
  /** Told the plan once it is made (a preview keeps it to carry it out after a confirmation). */
  readonly onPlan?: (plan: PurgePlan) => void;
  /** Told each user deleted, by username (the CLI names them, masked; logs never do). */
  readonly onDeleted?: (username: string) => void;
  /** Told how many users the plan's heap holds after each page (it never holds more than the cap). */
  readonly onPage?: (heapSize: number) => void;
}

/**
 * One step of the purge: lists (page by page) until the plan is made, and returns it; later steps delete
 * (user by user) until the plan is carried out. Each stops a margin before `deadline`, having done at least
 * one page or one deletion, so every step makes progress. Done when the plan is carried out, refused, or a
 * dry run.
 */
export function identityPurgeStep(
  deps: PurgeIdentitiesDeps,
  options: PurgeStepOptions = {},
): Step<PurgeState> {
  const shouldYield = (deadline: Date) => stepShouldYield(deps.clock, deadline, options.marginMs);
  return async (initial, deadline) => {
    checkVersion(initial);
    let state = initial;
    if (state.plan === undefined) {
      state = await listSome(deps, state, deadline, shouldYield, options.onPage);
      if (state.plan === undefined) return { state, done: false };
      options.onPlan?.(loadPlan(state.plan));
      // The plan is recorded before its first deletion: a crash during the deletions then carries out this
      // plan, never a new listing that no longer sees who was deleted (which would delete past the cap).
      return { state, done: state.plan.refused !== undefined || state.plan.dryRun };
    }
    const plan = state.plan;
    if (plan.refused || plan.dryRun) return { state, done: true };
    let report = state.report ?? newPurgeReport(loadPlan(plan), "identities");
    const disabledAtListing = new Set(plan.disabledAtListing ?? []);
    let next = state.next;
    let first = true;
    while (next < plan.toDelete.length) {
      if (!first && shouldYield(deadline)) return { state: { ...state, next, report }, done: false };
      first = false;
      const username = plan.toDelete[next] as string;
      let outcome: FenceOutcome;
      try {
        outcome = await fencedDelete(deps.directory, username, new Date(plan.cutoff), {
          enabledAtListing: !disabledAtListing.has(next),
        });
      } catch (error) {
        // Throttled until this step's deadline: no failure of this user's, only of the time left. The step
        // yields where it is and the next one fences this user again (found disabled if the fence had got that
        // far, and carried on as after a crash).
        if (isQuotaDeadlineError(error)) return { state: { ...state, next, report }, done: false };
        throw error;
      }
      if (outcome.kind === "deleted") {
        report = recordDeleted(report);
        options.onDeleted?.(username);
      } else if (outcome.kind === "skipped") report = recordSkipped(report, outcome.reason);
      else report = recordFailure(report, outcome.code);
      if (outcome.leftDisabled) report = recordFailure(report, "PURGE.FENCE_LEFT_DISABLED");
      next += 1;
    }
    return { state: { ...state, next, report }, done: true };
  };
}

async function listSome(
  deps: PurgeIdentitiesDeps,
  state: PurgeState,
  deadline: Date,
  shouldYield: (deadline: Date) => boolean,
  onPage?: (heapSize: number) => void,
): Promise<PurgeState> {
  const listing = state.listing ?? { pages: 0, restarts: 0, tally: EMPTY_IDENTITY_TALLY };
  const cutoff = new Date(state.cutoff);
  let builder = new IdentityPlanBuilder(cutoff, state.policy, listing.tally);
  let token = listing.pageToken;
  let { pages, restarts } = listing;
  let first = true;
  const listingState = (): PurgeState => ({
    ...state,
    listing: {
      ...(token !== undefined ? { pageToken: token } : {}),
      pages,
      restarts,
      tally: builder.toJSON(),
    },
  });
  for (;;) {
    if (!first && shouldYield(deadline)) return listingState();
    first = false;
    let page;
    try {
      page = await deps.directory.listUsers({
        status: "UNCONFIRMED",
        ...(token !== undefined ? { pageToken: token } : {}),
      });
    } catch (error) {
      // Throttled until the deadline: the step yields with the pages it has read, the next reads this one.
      if (isQuotaDeadlineError(error)) return listingState();
      if (token === undefined || errorCode(error) !== "DIRECTORY.PAGE_TOKEN_INVALID") throw error;
      if (restarts >= MAX_LISTING_RESTARTS) {
        throw new LifecycleError(
          "DIRECTORY.PAGE_TOKEN_INVALID",
          `The listing's page token was refused ${restarts + 1} times; the purge gives up`,
          { cause: error, details: { restarts } },
        );
      }
      // Counters and heap describe the pages read with the old token: start over, all of it.
      builder = new IdentityPlanBuilder(cutoff, state.policy);
      token = undefined;
      pages = 0;
      restarts += 1;
      continue;
    }
    // Cognito does not expose when the confirmation code was sent; sign-up (creation) is when it first was.
    for (const user of page.items) builder.add(candidateOf(user));
    onPage?.(builder.heapSize);
    token = page.nextToken;
    pages += 1;
    if (token === undefined) break;
  }
  const plan = builder.finish(await deps.directory.estimatedUserCount());
  const stored = storePlan(plan);
  const { listing: _done, ...rest } = state;
  return { ...rest, plan: stored, next: 0, report: newPurgeReport(plan, "identities") };
}

function candidateOf(user: User) {
  return {
    id: user.username,
    confirmed: user.status !== "UNCONFIRMED",
    ...(user.createdAt ? { createdAt: user.createdAt } : {}),
    enabled: user.enabled,
  };
}

/** Whether a run in this state has nothing left to do. */
export function identityPurgeDone(state: PurgeState): boolean {
  const plan = state.plan;
  if (plan === undefined) return false;
  return plan.refused !== undefined || plan.dryRun || state.next >= plan.toDelete.length;
}

/**
 * The report of a run from its last state. A run stopped before it was done (an invocation out of time)
 * reports `time-budget`, and the users it did not reach are deferred.
 */
export function identityPurgeReport(clock: Clock, state: PurgeState): PurgeReport {
  const durationMs = Math.max(0, clock.now().getTime() - new Date(state.startedAt).getTime());
  const timedOut = !identityPurgeDone(state);
  if (state.plan !== undefined && state.report !== undefined) {
    return finishPurgeReport(state.report, { durationMs, timedOut });
  }
  // Stopped while listing: nothing was planned, so nothing was deleted; what was seen so far is deferred.
  const tally = state.listing?.tally ?? EMPTY_IDENTITY_TALLY;
  const draft = newPurgeReport(
    {
      cutoff: new Date(state.cutoff),
      dryRun: state.policy.dryRun,
      toDelete: [],
      deferred: tally.eligible,
      skippedByReason: tally.skippedByReason,
      eligible: tally.eligible,
      candidates: tally.candidates,
      poolSize: tally.candidates,
    },
    "identities",
  );
  return finishPurgeReport(draft, { durationMs, timedOut });
}

/** The plan a state carries, once listed. */
export function identityPurgePlan(state: PurgeState): PurgePlan | undefined {
  return state.plan === undefined ? undefined : loadPlan(state.plan);
}

export interface PurgeRunOptions extends StartPurgeOptions, Pick<PurgeStepOptions, "onPlan" | "onDeleted"> {
  /**
   * Stop starting new work at this instant (an invocation's budget, its own margin already taken). Absent:
   * run to the end.
   */
  readonly deadline?: Date;
}

/**
 * Runs the whole purge in this process, step after step, until it is done or `deadline` comes: what a Lambda
 * invocation does until the steps run on Step Functions. A run cut short by the deadline reports
 * `time-budget` and defers the users it did not reach.
 */
export async function purgeUnconfirmedIdentities(
  deps: PurgeIdentitiesDeps,
  options: PurgeRunOptions,
): Promise<PurgeReport> {
  let state = startIdentityPurge(deps.clock, options);
  const step = identityPurgeStep(deps, {
    // The caller's deadline already keeps its own margin.
    marginMs: 0,
    ...(options.onPlan ? { onPlan: options.onPlan } : {}),
    ...(options.onDeleted ? { onDeleted: options.onDeleted } : {}),
  });
  if (options.previewed) options.onPlan?.(loadPlan(state.plan as StoredPurgePlan));
  const deadline = options.deadline ?? new Date(8.64e15);
  for (;;) {
    const outcome = await step(state, deadline);
    // A step that gives its state back as it was met a deadline it could do nothing before (a call throttled
    // until then): the run is out of time.
    const stuck = !outcome.done && JSON.stringify(outcome.state) === JSON.stringify(state);
    state = outcome.state;
    if (outcome.done || stuck || deps.clock.now().getTime() >= deadline.getTime()) {
      return identityPurgeReport(deps.clock, state);
    }
  }
}

function storePlan(plan: PurgePlan): StoredPurgePlan {
  return {
    ...plan,
    cutoff: plan.cutoff.toISOString(),
    toDelete: [...plan.toDelete],
    ...(plan.disabledAtListing ? { disabledAtListing: [...plan.disabledAtListing] } : {}),
    skippedByReason: { ...plan.skippedByReason },
  };
}

function loadPlan(plan: StoredPurgePlan): PurgePlan {
  return { ...plan, cutoff: new Date(plan.cutoff) };
}

function checkVersion(state: PurgeState): void {
  if (state?.version !== 1) {
    throw new LifecycleError("STEP.STATE_INVALID", "Not the state of an identity purge (version 1)");
  }
}

type FenceOutcome = (
  | { readonly kind: "deleted" }
  | { readonly kind: "skipped"; readonly reason: string }
  | { readonly kind: "failed"; readonly code: string }
) & {
  /** The fence disabled the user, did not delete it, and could not enable it again. */
  readonly leftDisabled?: boolean;
};

/**
 * Deletes one planned user behind the fence: read it, disable it (unless it already is), read it again,
 * delete it only if it is still UNCONFIRMED and eligible, otherwise enable it again — a user an operator had
 * disabled before the listing stays disabled. A failure after the disable enables the user again before it
 * is reported, so a failed fence never leaves a person locked out; if even that fails, `leftDisabled` says
 * so (the next run finds an UNCONFIRMED user again and carries on).
 *
 * Run again after a crash between its disable and its delete, the fence finds the user disabled. If the
 * person confirmed meanwhile (a disabled user's ConfirmSignUp may commit; its trigger holds it), the user is
 * no longer eligible and must not stay locked out: a user listed enabled and found disabled is enabled again
 * when it is not deleted. Only the user the listing saw: one created before the plan's cutoff (whoever took
 * the username since was created after the run began, so after its cutoff, and keeps whatever it has). An
 * operator's disable between the listing and the rerun of a user who then confirmed looks the same, and is
 * undone: the price of never leaving a confirmed person locked out by a crash.
 */
async function fencedDelete(
  directory: UserDirectory,
  username: string,
  cutoff: Date,
  listed: { readonly enabledAtListing: boolean },
): Promise<FenceOutcome> {
  const eligible = (user: User) =>
    checkEligibility(
      {
        id: username,
        confirmed: user.status !== "UNCONFIRMED",
        ...(user.createdAt ? { createdAt: user.createdAt } : {}),
      },
      cutoff,
    ).eligible;
  const sameAsListed = (user: User) => user.createdAt !== undefined && user.createdAt < cutoff;
  // Whether the user must be enabled again unless deleted: this fence disabled it, or a run of it that crashed
  // did (listed enabled, found disabled).
  let restore = false;
  try {
    const current = await directory.getUser(username);
    if (!current) return { kind: "skipped", reason: "ALREADY_DELETED" };
    restore = listed.enabledAtListing && !current.enabled && sameAsListed(current);
    if (!eligible(current)) {
      if (restore) await directory.enableUser(username);
      return { kind: "skipped", reason: "NO_LONGER_ELIGIBLE" };
    }
    if (current.enabled) {
      await directory.disableUser(username);
      restore = true;
    }
    // From here on, a confirmation either cannot commit (disabled users refused) or its trigger finds the
    // user disabled and fails it: what this read says is final for every confirmation that succeeds.
    const fenced = await directory.getUser(username);
    if (!fenced) return { kind: "skipped", reason: "ALREADY_DELETED" };
    if (!eligible(fenced)) {
      if (restore) await directory.enableUser(username);
      return { kind: "skipped", reason: "CONFIRMED_DURING_PURGE" };
    }
    if (await directory.deleteUser(username)) return { kind: "deleted" };
    return { kind: "skipped", reason: "ALREADY_DELETED" };
  } catch (error) {
    // Not this user's failure: the step yields, and the user is fenced again by the next one.
    if (isQuotaDeadlineError(error)) throw error;
    const code = errorCode(error);
    if (!restore) return { kind: "failed", code };
    try {
      await directory.enableUser(username);
      return { kind: "failed", code };
    } catch (enableError) {
      if (errorCode(enableError) === "USER.NOT_FOUND") return { kind: "failed", code };
      return { kind: "failed", code, leftDisabled: true };
    }
  }
}
