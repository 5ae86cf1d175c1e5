/**
 * The whole-pool reconcile on its own: every group's members into one map, then every user, page by page,
 * through {@link reconcilePage}. What the scheduled job runs is the snapshot's reconcile (on the snapshot's
 * own pages and partitions, `snapshot-users.ts`), which needs no whole-pool map and resumes where it
 * stopped; this one keeps the map in memory (about 205 bytes per membership) and starts at the first user
 * each run, so it is for small pools and for comparison (the bench's baseline).
 */
import { errorCode } from "../errors.js";
import {
  allUsers,
  groupMemberships,
  MAX_USERS_PAGE_SIZE,
  type UserDirectory,
} from "../ports/user-directory.js";
import { normalizeGroups, stableUserId } from "../user/user.js";
import {
  addReconcileCounts,
  NO_RECONCILE_COUNTS,
  type PageUser,
  type ReconcileCounts,
  type ReconcilePageDeps,
  reconcilePage,
  skippedCounts,
} from "./reconcile-page.js";

export interface ReconcileDeps extends ReconcilePageDeps {
  readonly directory: UserDirectory;
}

export interface ReconcileOptions {
  readonly userPoolId: string;
  /** Stop at this instant; the next run starts again from the first user. */
  readonly deadline?: Date;
}

export interface ReconcileReport extends ReconcileCounts {
  readonly stoppedBy: "completed" | "time-budget";
}

/** Reconciles every confirmed user of the pool (see {@link reconcilePage}), until done or `deadline`. */
export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const { membership } = await groupMemberships(deps.directory);
  const erased = await deps.erasures.erasedIds();
  let counts = NO_RECONCILE_COUNTS;
  const skippedBefore: Record<string, number> = {};
  let batch: PageUser[] = [];
  let stoppedBy: ReconcileReport["stoppedBy"] = "completed";
  const flush = async () => {
    counts = addReconcileCounts(counts, await reconcilePage(deps, batch, options.userPoolId));
    batch = [];
  };
  for await (const listed of allUsers(deps.directory)) {
    if (listed.status === "UNCONFIRMED") continue;
    let id: string;
    try {
      id = stableUserId(listed);
    } catch (error) {
      skippedBefore[errorCode(error)] = (skippedBefore[errorCode(error)] ?? 0) + 1;
      continue;
    }
    if (erased.has(id)) {
      skippedBefore["USER.ERASED"] = (skippedBefore["USER.ERASED"] ?? 0) + 1;
      continue;
    }
    batch.push({ user: { ...listed, groups: normalizeGroups(membership.get(listed.username) ?? []) }, id });
    if (batch.length >= MAX_USERS_PAGE_SIZE) {
      await flush();
      if (options.deadline && deps.clock.now().getTime() >= options.deadline.getTime()) {
        stoppedBy = "time-budget";
        break;
      }
    }
  }
  if (batch.length > 0) await flush();
  return { ...addReconcileCounts(counts, skippedCounts(skippedBefore)), stoppedBy };
}
