/**
 * Restoring users from backups into the same pool or another one. A restore is planned
 * ({@link planRestore}), started ({@link startRestore}: the plan is stored) and advanced step by step
 * ({@link advanceRestore}) until it is finished; {@link restoreUsers} does all of it in one call, on the same
 * steps.
 */
import { planRestore } from "./restore-plan.js";
import {
  advanceRestore,
  findUnfinishedRestore,
  type RestoreReport,
  type RestoreRunDeps,
  startRestore,
  type StartRestoreOptions,
} from "./restore-steps.js";

export type {
  RestoreChunk,
  RestoreFinalization,
  RestorePlan,
  RestoreProgress,
  RestoreStrategy,
  StoredRestorePlan,
  SubMapping,
} from "../backup/restore-state.js";
export { planRestore, type RestoreDeps, type RestoreOptions, type RestoreSource } from "./restore-plan.js";
export {
  type AdvanceOptions,
  advanceRestore,
  findUnfinishedRestore,
  listUnfinishedRestores,
  plannedDisabled,
  plannedMemberships,
  type RestoreScope,
  type LoadedRestore,
  loadRestore,
  type RestoreExecution,
  type RestoreReport,
  type RestoreRunDeps,
  type RestoreState,
  type RestoreStatus,
  restoreStatus,
  type StartRestoreOptions,
  startRestore,
} from "./restore-steps.js";

export interface ExecuteOptions {
  /** How long to wait between two looks at a running import job. Default 5 s. */
  readonly pollIntervalMs?: number;
}

/**
 * Plan, then (unless `dryRun`) start and advance to the end: a whole restore in one call, with no deadline.
 * The restore is stored like any other, so an interrupted one can be resumed with {@link advanceRestore} —
 * and the same call made again resumes it ({@link findUnfinishedRestore}) instead of planning anew.
 */
export async function restoreUsers(
  deps: RestoreRunDeps,
  options: StartRestoreOptions & ExecuteOptions & { readonly dryRun?: boolean } = {},
): Promise<RestoreReport> {
  if (options.dryRun) return { plan: await planRestore(deps, options), complete: false };
  // The same request run again after an interruption carries the unfinished restore on.
  const started =
    (await findUnfinishedRestore(deps.restores, options)) ?? (await startRestore(deps, options));
  let status = await advanceRestore(deps, started, options);
  // Without a deadline one advance runs to the end; the loop only guards that promise.
  while (status.state === "running") status = await advanceRestore(deps, status.plan.planId, options);
  return status;
}
