import type { RestoreProgress, StoredRestorePlan } from "../backup/restore-state.js";
import { LifecycleError } from "../errors.js";

/**
 * Where a restore keeps its state between the invocations that run it: its plan, written once, and its
 * progress, rewritten after every step. Both hold users' data (usernames, import rows): never logged.
 */
export interface RestoreStateStore {
  /**
   * Stores a started restore's plan under its `plan.planId`. Written once per restore; writing it again
   * replaces it.
   *
   * @throws ValidationError `RESTORE.STATE_MALFORMED` when the plan cannot be serialized (nothing is written).
   */
  putRestorePlan(stored: StoredRestorePlan): Promise<void>;

  /**
   * The restore's plan, as stored.
   *
   * @throws LifecycleError `RESTORE.NOT_FOUND` (naming the plan id) when no restore has that id;
   *   ValidationError `RESTORE.STATE_MALFORMED` when the stored plan cannot be read.
   */
  getRestorePlan(planId: string): Promise<StoredRestorePlan>;

  /**
   * Stores the restore's progress under its `planId`, replacing the previous progress (older versions are
   * not kept). Whole-document writes: a reader sees the old progress or the new one, never a mix.
   *
   * With a `condition`, the write is a compare-and-swap: `{ ifVersion }` replaces only the progress of that
   * version (as {@link getVersionedRestoreProgress} or an earlier put answered), `{ ifAbsent: true }` writes
   * only when the restore has no progress yet. Of two runs writing from the same version, one wins.
   *
   * @returns the version of the progress written (opaque; an S3 ETag).
   * @throws LifecycleError `RESTORE.CONFLICT` (naming the plan id) when the condition does not hold: another
   *   run wrote the progress meanwhile; nothing is written. ValidationError `RESTORE.STATE_MALFORMED` when the
   *   progress cannot be serialized (nothing is written).
   */
  putRestoreProgress(progress: RestoreProgress, condition?: ProgressCondition): Promise<string>;

  /**
   * The restore's latest progress. Reads only.
   *
   * @throws LifecycleError `RESTORE.NOT_FOUND` (naming the plan id) when the restore has no progress;
   *   ValidationError `RESTORE.STATE_MALFORMED` when it cannot be read.
   */
  getRestoreProgress(planId: string): Promise<RestoreProgress>;

  /** {@link getRestoreProgress}, with the version a conditional put must name to replace it. */
  getVersionedRestoreProgress(planId: string): Promise<VersionedRestoreProgress>;

  /** The ids of every stored restore (finished or not), sorted. Reads only. */
  listRestores(): Promise<string[]>;
}

/** A condition on a progress write: see {@link RestoreStateStore.putRestoreProgress}. */
export type ProgressCondition = { readonly ifVersion: string } | { readonly ifAbsent: true };

export interface VersionedRestoreProgress {
  readonly progress: RestoreProgress;
  readonly version: string;
}

/** What a conditional progress write that lost throws: another run wrote the progress first. */
export function restoreConflict(planId: string, cause?: unknown): LifecycleError {
  return new LifecycleError(
    "RESTORE.CONFLICT",
    `Restore ${planId} was advanced by another run meanwhile; this run stopped without writing`,
    { details: { planId }, ...(cause === undefined ? {} : { cause }) },
  );
}
