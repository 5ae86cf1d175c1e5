/**
 * The restore job: restores users from backups into the same pool or another one, in steps that each fit in
 * one invocation. The Lambda function (handlers/restore.ts) and the CLI (`restore`) both run it.
 *
 * - `{"action":"plan"}` works out what would happen and changes nothing.
 * - `{"action":"start"}` plans, stores the plan (its id is in the answer), and advances the restore until
 *   the deadline: import jobs by default, or AdminCreateUser with messages suppressed; then groups,
 *   memberships and disabled flags. `restore` is the same as `start` (its older name).
 * - `{"action":"resume","planId":…}` advances a started restore again; `state` says `running` (resume
 *   again) or `finished`.
 * - `{"action":"status","planId":…}` reads where a restore is and changes nothing.
 *
 * The answer is a summary (counts, skipped users with reasons, what is missing); the full plan never goes
 * into it.
 */
import * as z from "zod/mini";
import "../../core/validation.js";
import { RESTORE_PLAN_ID } from "../../core/backup/restore-state.js";
import { LifecycleError } from "../../core/errors.js";
import type { BackupReader } from "../../core/ports/backup-store.js";
import type { Clock, Sleeper } from "../../core/ports/clock.js";
import type { ErasureLedger } from "../../core/ports/erasure-ledger.js";
import type { RestoreStateStore } from "../../core/ports/restore-state-store.js";
import type { UserDirectory } from "../../core/ports/user-directory.js";
import type { UserImportService } from "../../core/ports/user-import.js";
import {
  advanceRestore,
  findUnfinishedRestore,
  type LoadedRestore,
  loadRestore,
  plannedDisabled,
  plannedMemberships,
  planRestore,
  type RestoreReport,
  type RestoreSource,
  type RestoreStatus,
  type RestoreStrategy,
  restoreStatus,
  startRestore,
} from "../../core/use-cases/restore-users.js";

const nonEmpty = z.string().check(z.minLength(1));
const planFields = {
  source: z._default(
    z.union([z.enum(["latest", "user-backups"]), z.strictObject({ snapshotId: nonEmpty })]),
    "latest",
  ),
  strategy: z._default(z.enum(["import-job", "admin-create"]), "import-job"),
  usernames: z.optional(z.array(nonEmpty).check(z.minLength(1))),
  /** Another pool to restore into; the stack's own pool when absent. */
  targetUserPoolId: z.optional(
    z.string().check(z.regex(/^[\w-]+_[0-9a-zA-Z]+$/, "must be a user pool id like eu-west-1_AbC123xyz")),
  ),
};
const planId = z
  .string()
  .check(z.regex(RESTORE_PLAN_ID, "must be a restore plan id like restore-2026-06-10T12-00-00-000Z"));

/** Requests without `action` plan. Each action takes its own fields only: a stray field is refused. */
export const restoreInputSchema = z.pipe(
  z.transform((event: unknown) =>
    typeof event === "object" && event !== null && !Array.isArray(event) && !("action" in event)
      ? { ...event, action: "plan" }
      : event,
  ),
  z.discriminatedUnion("action", [
    z.strictObject({ action: z.literal("plan"), ...planFields }),
    z.strictObject({ action: z.literal("start"), ...planFields }),
    z.strictObject({ action: z.literal("restore"), ...planFields }),
    z.strictObject({ action: z.literal("resume"), planId }),
    z.strictObject({ action: z.literal("status"), planId }),
  ]),
);

export type RestoreInput = z.infer<typeof restoreInputSchema>;
type PlanFields = Extract<RestoreInput, { action: "plan" }>;

export interface RestoreTarget {
  readonly directory: UserDirectory;
  /** Needed by the `import-job` strategy only. */
  readonly importer?: UserImportService;
}

export interface RestoreJobDeps {
  /** Read only: a restore never writes or erases a backup. */
  readonly backups: BackupReader;
  /** Where the restore keeps its plan and progress between steps. */
  readonly restores: RestoreStateStore;
  /** The erasure ledger: erased people are never planned or restored, even by a restore that was running. */
  readonly erasures: ErasureLedger;
  /** The directory and import service of a pool (the stack's own when `userPoolId` is undefined). */
  readonly target: (userPoolId: string | undefined, strategy: RestoreStrategy) => RestoreTarget;
  readonly clock: Clock;
  readonly sleeper: Sleeper;
}

export interface RestoreRunOptions {
  /** When this run stops starting new work (a `start` or `resume` answers `running` then). */
  readonly deadline: Date;
  /** Told the plan id the moment the plan is stored, before any user is restored. */
  readonly onPlanStored?: (planId: string) => void;
  /** Told when a started restore stops on an error: it can be resumed by this plan id. */
  readonly onStopped?: (planId: string, error: unknown) => void;
}

export interface RestoreSummary {
  readonly action: RestoreInput["action"];
  readonly planId: string;
  /** `planned` (plan: nothing stored), `running` (resume again) or `finished`. */
  readonly state: "planned" | RestoreStatus["state"];
  /** Chunks (import files or AdminCreateUser slices) done, and users finalized, so far. */
  readonly progress?: RestoreStatus["progress"];
  readonly targetUserPoolId?: string;
  readonly strategy: string;
  readonly source: RestoreReport["plan"]["source"];
  readonly planned: number;
  readonly existing: number;
  readonly skipped: readonly { username: string; reason: string }[];
  readonly notFound: readonly string[];
  readonly malformedBackups: readonly string[];
  /** Users created or imported so far. */
  readonly created?: number;
  readonly restored?: number;
  readonly missing?: readonly string[];
  readonly groupsCreated?: number;
  readonly membershipsAdded?: number;
  readonly disabled?: number;
  /** Memberships and disabled flags the backups hold for the planned users, and how many are in place. */
  readonly memberships?: { readonly planned: number; readonly inPlace: number };
  readonly disabledFlags?: { readonly planned: number; readonly inPlace: number };
  readonly failed?: number;
  readonly failureCodes?: Readonly<Record<string, number>>;
  readonly complete: boolean;
}

/**
 * Runs one restore request (already parsed with {@link restoreInputSchema}).
 * @throws LifecycleError `RESTORE.UNFINISHED` naming the plan id when a `start` repeats an unfinished
 * restore's request, `RESTORE.NOT_FOUND` for an unknown plan id, and whatever a store or Cognito throws.
 */
export async function runRestore(
  deps: RestoreJobDeps,
  request: RestoreInput,
  options: RestoreRunOptions,
): Promise<RestoreSummary> {
  const common = {
    backups: deps.backups,
    restores: deps.restores,
    erasures: deps.erasures,
    clock: deps.clock,
    sleeper: deps.sleeper,
  };
  const { deadline } = options;
  if (request.action === "status") {
    return summarize(request.action, restoreStatus(await loadRestore(deps.restores, request.planId)));
  }
  if (request.action === "resume") {
    const loaded = await loadRestore(deps.restores, request.planId);
    const { targetUserPoolId, plan } = loaded.stored;
    const target = deps.target(targetUserPoolId, plan.strategy);
    try {
      return summarize(request.action, await advanceRestore({ ...target, ...common }, loaded, { deadline }));
    } catch (error) {
      options.onStopped?.(request.planId, error);
      throw error;
    }
  }
  const target = deps.target(request.targetUserPoolId, request.strategy);
  const source = toSource(request.source);
  const planOptions = {
    source,
    strategy: request.strategy,
    ...(request.usernames ? { usernames: request.usernames } : {}),
  };
  if (request.action === "plan") {
    const plan = await planRestore({ ...target, ...common }, planOptions);
    return summarize(request.action, { plan, complete: false });
  }
  const scope = {
    ...planOptions,
    ...(request.targetUserPoolId === undefined ? {} : { targetUserPoolId: request.targetUserPoolId }),
  };
  // The same request made again after an interruption must carry the unfinished restore on: a new plan
  // would take the users it brought back as already there and leave their groups and flags undone.
  const unfinished = await findUnfinishedRestore(deps.restores, scope);
  if (unfinished) {
    const id = unfinished.stored.plan.planId;
    throw new LifecycleError(
      "RESTORE.UNFINISHED",
      `Restore ${id} of the same request is unfinished: resume it ({"action":"resume","planId":"${id}"})`,
      { details: { planId: id } },
    );
  }
  let stored: string | undefined;
  const onPlanStored = (id: string) => {
    stored = id;
    options.onPlanStored?.(id);
  };
  try {
    const started: LoadedRestore = await startRestore({ ...target, ...common, onPlanStored }, scope);
    return summarize(request.action, await advanceRestore({ ...target, ...common }, started, { deadline }));
  } catch (error) {
    if (stored !== undefined) options.onStopped?.(stored, error);
    throw error;
  }
}

/** A restore that ended short of complete has failed; one still running has not, and neither has a status read. */
export function restoreFailed(summary: RestoreSummary): boolean {
  return summary.action !== "status" && summary.state === "finished" && !summary.complete;
}

/** What of a summary may be logged: usernames can be emails, so counts only (users left out, by reason). */
export function loggableRestoreSummary(summary: RestoreSummary) {
  return {
    ...summary,
    skipped: summary.skipped.length,
    skippedByReason: countBy(summary.skipped.map((entry) => entry.reason)),
    notFound: summary.notFound.length,
    missing: summary.missing?.length,
  };
}

/** The source of a request, as the use cases name it. */
export function toSource(source: PlanFields["source"]): RestoreSource {
  return typeof source === "string" ? { kind: source } : { kind: "snapshot", snapshotId: source.snapshotId };
}

function summarize(action: RestoreInput["action"], report: RestoreReport | RestoreStatus): RestoreSummary {
  const { plan, execution, finalization } = report;
  const status = "state" in report ? report : undefined;
  return {
    action,
    planId: plan.planId,
    state: status?.state ?? "planned",
    ...(status ? { progress: status.progress } : {}),
    ...(status?.targetUserPoolId === undefined ? {} : { targetUserPoolId: status.targetUserPoolId }),
    strategy: plan.strategy,
    source: plan.source,
    planned: plan.users.length,
    existing: plan.existing.length,
    skipped: plan.skipped.map(({ username, reason }) => ({ username, reason })),
    notFound: plan.notFound,
    malformedBackups: plan.malformedBackups,
    ...(execution && !finalization ? { created: execution.created } : {}),
    ...(finalization
      ? {
          created: execution?.created ?? 0,
          restored: finalization.restored,
          missing: finalization.missing,
          groupsCreated: finalization.groupsCreated,
          membershipsAdded: finalization.membershipsAdded,
          disabled: finalization.disabled,
          memberships: { planned: plannedMemberships(plan), inPlace: finalization.membershipsInPlace },
          disabledFlags: { planned: plannedDisabled(plan), inPlace: finalization.disabledInPlace },
          failed: finalization.failed + (execution?.failed ?? 0),
          failureCodes: mergeCounts(execution?.failureCodes ?? {}, finalization.failureCodes),
        }
      : {}),
    complete: report.complete,
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function mergeCounts(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const merged: Record<string, number> = { ...a };
  for (const [code, count] of Object.entries(b)) merged[code] = (merged[code] ?? 0) + count;
  return merged;
}
