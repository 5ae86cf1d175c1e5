import type { RestoreProgress, StoredRestorePlan } from "../backup/restore-state.js";

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
   * @throws ValidationError `RESTORE.STATE_MALFORMED` when the progress cannot be serialized (nothing is
   *   written).
   */
  putRestoreProgress(progress: RestoreProgress): Promise<void>;

  /**
   * The restore's latest progress. Reads only.
   *
   * @throws LifecycleError `RESTORE.NOT_FOUND` (naming the plan id) when the restore has no progress;
   *   ValidationError `RESTORE.STATE_MALFORMED` when it cannot be read.
   */
  getRestoreProgress(planId: string): Promise<RestoreProgress>;
}
