/**
 * Scheduled: a full snapshot of the pool (users, groups, memberships) to S3, then the repair of missing or
 * stale profiles and backups. Both always run: a failed snapshot does not stop the repair.
 */
import { errorCode } from "../core/errors.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { Clock } from "../core/ports/clock.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { type ReconcileReport, reconcile } from "../core/use-cases/reconcile.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import { noOptionsEventSchema, parseEvent } from "./event.js";
import { type InvocationContext, invocationDeadline, runJob } from "./invocation.js";
import type { Observability } from "./observability.js";
import { type Container, lambdaHandler } from "./container.js";
import { backupStore } from "./wiring/backups.js";
import { userDirectory } from "./wiring/cognito.js";
import { profileStore } from "./wiring/profiles.js";

export interface SnapshotAndReconcileDeps {
  readonly directory: UserDirectory;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly clock: Clock;
  readonly observability: Observability;
  readonly userPoolId: string;
}

export interface SnapshotAndReconcileReport {
  readonly snapshot:
    | { readonly ok: true; readonly snapshotId: string; readonly users: number; readonly parts: number }
    | { readonly ok: false; readonly errorCode: string };
  readonly reconcile: ReconcileReport | { readonly ok: false; readonly errorCode: string };
}

export function snapshotAndReconcileHandler(deps: SnapshotAndReconcileDeps) {
  return (event: unknown, context?: InvocationContext): Promise<SnapshotAndReconcileReport> =>
    runJob(
      deps.observability,
      "SnapshotAndReconcile",
      context,
      async () => {
        parseEvent(noOptionsEventSchema, event, "event");
        let snapshot: SnapshotAndReconcileReport["snapshot"];
        try {
          const manifest = await snapshotUsers(deps, { userPoolId: deps.userPoolId });
          snapshot = {
            ok: true,
            snapshotId: manifest.snapshotId,
            users: manifest.userCount,
            parts: manifest.parts.length,
          };
          deps.observability.metrics.count("SnapshotUsers", manifest.userCount);
        } catch (error) {
          snapshot = { ok: false, errorCode: errorCode(error) };
        }
        let repaired: SnapshotAndReconcileReport["reconcile"];
        try {
          repaired = await reconcile(deps, {
            userPoolId: deps.userPoolId,
            deadline: invocationDeadline(deps.clock, context, 14 * 60_000),
          });
          deps.observability.metrics.count("ReconcileProfilesCreated", repaired.profilesCreated);
          deps.observability.metrics.count("ReconcileBackupsWritten", repaired.backupsWritten);
        } catch (error) {
          repaired = { ok: false, errorCode: errorCode(error) };
        }
        return { snapshot, reconcile: repaired };
      },
      (report) => !report.snapshot.ok || "ok" in report.reconcile || report.reconcile.failed > 0,
    );
}

/** What the function needs, built from the environment (see `wiring/`). */
export function snapshotAndReconcileDependencies(container: Container): SnapshotAndReconcileDeps {
  return {
    directory: userDirectory(container),
    profiles: profileStore(container),
    backups: backupStore(container),
    clock: container.clock,
    observability: container.observability("snapshot-and-reconcile"),
    userPoolId: container.userPoolId,
  };
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) =>
  snapshotAndReconcileHandler(snapshotAndReconcileDependencies(container)),
);
