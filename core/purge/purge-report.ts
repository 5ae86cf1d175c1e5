/**
 * What a purge run did, as both purges return and log it. Counts and codes only — never ids, emails or
 * error messages — so a report can go to logs, metrics and alarm notifications as it is.
 *
 * Built in two steps with pure functions: {@link newPurgeReport} starts a draft from the plan, the
 * `record*` functions return a new draft per outcome, and {@link finishPurgeReport} seals it.
 */
import { ValidationError } from "../errors.js";
import type { AccountPurgePlan, PurgePlan } from "./purge-policy.js";

export type PurgeTarget = "identities" | "accounts";
export type PurgeStop = "completed" | "time-budget" | "refused" | "dry-run";

export interface PurgeReport {
  readonly target: PurgeTarget;
  readonly dryRun: boolean;
  /** ISO 8601. */
  readonly cutoff: string;
  readonly candidates: number;
  readonly eligible: number;
  readonly deleted: number;
  /** Eligible users left for a later run: beyond the cap, plus planned ones a time budget cut off. */
  readonly deferred: number;
  /** Plan-time reasons (`CONFIRMED`, `TOO_YOUNG`, `NO_TIMESTAMP`) and run-time ones (`NO_LONGER_ELIGIBLE`). */
  readonly skippedByReason: Readonly<Record<string, number>>;
  readonly failed: number;
  /** Failures by error code (`DIRECTORY.THROTTLED`, `UserNotFoundException`), never by message. */
  readonly failureCodes: Readonly<Record<string, number>>;
  /** The refusal message, when the plan was refused. */
  readonly refused?: string;
  readonly stoppedBy: PurgeStop;
  readonly durationMs: number;
}

/** A report being filled in while a plan is carried out. */
export interface PurgeReportDraft {
  readonly target: PurgeTarget;
  readonly dryRun: boolean;
  readonly cutoff: string;
  readonly candidates: number;
  readonly eligible: number;
  /** How many deletions the plan allows this run (`toDelete.length`, or `limit` for accounts). */
  readonly planned: number;
  readonly planDeferred: number;
  readonly deleted: number;
  readonly skippedByReason: Readonly<Record<string, number>>;
  /** Planned users skipped when re-checked just before deletion. */
  readonly skippedAtRun: number;
  readonly failed: number;
  readonly failureCodes: Readonly<Record<string, number>>;
  readonly refused?: string;
}

/** Starts a report for carrying out `plan` against `target`. */
export function newPurgeReport(plan: PurgePlan | AccountPurgePlan, target: PurgeTarget): PurgeReportDraft {
  const skipped: Record<string, number> = {};
  for (const [reason, count] of Object.entries(plan.skippedByReason)) {
    if (count !== undefined && count > 0) skipped[reason] = count;
  }
  const planned = plan.refused ? 0 : "limit" in plan ? plan.limit : plan.toDelete.length;
  return Object.freeze({
    target,
    dryRun: plan.dryRun,
    cutoff: plan.cutoff.toISOString(),
    candidates: plan.candidates,
    eligible: plan.eligible,
    planned,
    planDeferred: plan.deferred,
    deleted: 0,
    skippedByReason: Object.freeze(skipped),
    skippedAtRun: 0,
    failed: 0,
    failureCodes: Object.freeze({}),
    ...(plan.refused ? { refused: plan.refused.message } : {}),
  });
}

/**
 * Counts `count` deletions (default 1; the accounts purge deletes in batches).
 * @throws ValidationError `PURGE.INVALID_INPUT` when `count` is not a whole number ≥ 0.
 */
export function recordDeleted(draft: PurgeReportDraft, count = 1): PurgeReportDraft {
  checkCount(count);
  return Object.freeze({ ...draft, deleted: draft.deleted + count });
}

/**
 * Counts a planned user that was not deleted because a re-check just before deletion found it no longer
 * eligible (`NO_LONGER_ELIGIBLE`: it confirmed meanwhile) or gone (`ALREADY_DELETED`).
 * @throws ValidationError `PURGE.INVALID_INPUT` for an empty reason or a bad `count`.
 */
export function recordSkipped(draft: PurgeReportDraft, reason: string, count = 1): PurgeReportDraft {
  return countUnder(
    draft,
    { total: "skippedAtRun", byLabel: "skippedByReason", field: "reason" },
    reason,
    count,
  );
}

/**
 * Counts a failed deletion by its error code (use `errorCode(error)` from core/errors, never the message).
 * @throws ValidationError `PURGE.INVALID_INPUT` for an empty code or a bad `count`.
 */
export function recordFailure(draft: PurgeReportDraft, code: string, count = 1): PurgeReportDraft {
  return countUnder(draft, { total: "failed", byLabel: "failureCodes", field: "code" }, code, count);
}

/** Adds `count` to one of the draft's totals and to its `label` in the matching breakdown. */
function countUnder(
  draft: PurgeReportDraft,
  where: {
    readonly total: "skippedAtRun" | "failed";
    readonly byLabel: "skippedByReason" | "failureCodes";
    readonly field: string;
  },
  label: string,
  count: number,
): PurgeReportDraft {
  checkCount(count);
  checkLabel(label, where.field);
  return Object.freeze({
    ...draft,
    [where.total]: draft[where.total] + count,
    [where.byLabel]: Object.freeze(increment(draft[where.byLabel], label, count)),
  });
}

/**
 * Seals the report. `stoppedBy` is decided here, in this order: a refused plan → `refused`; a dry run →
 * `dry-run`; `timedOut` → `time-budget`, and planned users not reached are added to `deferred`;
 * otherwise `completed`.
 * @throws ValidationError `PURGE.INVALID_INPUT` when `durationMs` is negative or not finite.
 */
export function finishPurgeReport(
  draft: PurgeReportDraft,
  run: { readonly durationMs: number; readonly timedOut?: boolean },
): PurgeReport {
  if (!Number.isFinite(run.durationMs) || run.durationMs < 0) {
    throw new ValidationError("PURGE.INVALID_INPUT", "durationMs", "must be a finite number of at least 0");
  }
  const stoppedBy: PurgeStop =
    draft.refused !== undefined
      ? "refused"
      : draft.dryRun
        ? "dry-run"
        : run.timedOut
          ? "time-budget"
          : "completed";
  const reached = draft.deleted + draft.failed + draft.skippedAtRun;
  const notReached = stoppedBy === "time-budget" ? Math.max(0, draft.planned - reached) : 0;
  return Object.freeze({
    target: draft.target,
    dryRun: draft.dryRun,
    cutoff: draft.cutoff,
    candidates: draft.candidates,
    eligible: draft.eligible,
    deleted: draft.deleted,
    deferred: draft.planDeferred + notReached,
    skippedByReason: draft.skippedByReason,
    failed: draft.failed,
    failureCodes: draft.failureCodes,
    ...(draft.refused !== undefined ? { refused: draft.refused } : {}),
    stoppedBy,
    durationMs: Math.round(run.durationMs),
  });
}

function increment(
  counts: Readonly<Record<string, number>>,
  key: string,
  by: number,
): Record<string, number> {
  return { ...counts, [key]: (counts[key] ?? 0) + by };
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new ValidationError("PURGE.INVALID_INPUT", "count", "must be a whole number of at least 0");
  }
}

function checkLabel(value: string, field: string): void {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ValidationError("PURGE.INVALID_INPUT", field, "must be a non-empty string");
  }
}
