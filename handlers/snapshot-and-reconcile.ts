/**
 * Scheduled: a full snapshot of the pool (users, groups, memberships) to S3, then the repair of missing or
 * stale profiles and backups. Both always run: a failed snapshot does not stop the repair.
 *
 * The snapshot runs its durable steps in this invocation, one after another, and stops (SNAPSHOT.INCOMPLETE)
 * a reserve before the invocation's end so reconcile still runs; the next run cleans what it left.
 */
import { errorCode } from "../core/errors.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { Clock } from "../core/ports/clock.js";
import type { ErasureLedger } from "../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { type ReconcileReport, reconcile } from "../core/use-cases/reconcile.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import { noOptionsEventSchema, parseEvent } from "../runtime/event.js";
import { type InvocationContext, invocationDeadline, runJob } from "../runtime/invocation.js";
import { IDENTITY_BINDING_CONFLICTS_METRIC, type Observability } from "../runtime/observability.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { backupStore } from "../runtime/wiring/backups.js";
import { erasureLedger } from "../runtime/wiring/erasures.js";
import { userDirectory } from "../runtime/wiring/cognito.js";
import { profileStore } from "../runtime/wiring/profiles.js";

/** What the snapshot leaves of the invocation to reconcile, at least. */
const RECONCILE_RESERVE_MS = 2 * 60_000;

export interface SnapshotAndReconcileDeps {
  readonly directory: UserDirectory;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
  readonly observability: Observability;
  readonly userPoolId: string;
}

export interface SnapshotAndReconcileReport {
  readonly snapshot:
    | {
        readonly ok: true;
        readonly snapshotId: string;
        readonly users: number;
        readonly parts: number;
        /** Users left out because they cannot be backed up, by error code (never a username). */
        readonly skipped: number;
        readonly skipReasons: Readonly<Record<string, number>>;
        readonly erasedLeftOut: number;
      }
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
          const deadline = invocationDeadline(deps.clock, context, 14 * 60_000);
          const manifest = await snapshotUsers(deps, {
            userPoolId: deps.userPoolId,
            deadline: new Date(deadline.getTime() - RECONCILE_RESERVE_MS),
          });
          snapshot = {
            ok: true,
            snapshotId: manifest.snapshotId,
            users: manifest.userCount,
            parts: manifest.parts.length,
            skipped: manifest.skipped,
            skipReasons: manifest.skipReasons,
            erasedLeftOut: manifest.erasedLeftOut,
          };
          deps.observability.metrics.count("SnapshotUsers", manifest.userCount);
          deps.observability.metrics.count("SnapshotUsersSkipped", manifest.skipped);
          if (manifest.skipped > 0) {
            deps.observability.log.warn("Users left out of the snapshot", {
              skipReasons: manifest.skipReasons,
            });
          }
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
          deps.observability.metrics.count("ReconcileUsersSkipped", repaired.skipped);
          if (repaired.identityConflicts > 0) {
            deps.observability.metrics.count(IDENTITY_BINDING_CONFLICTS_METRIC, repaired.identityConflicts);
            deps.observability.log.error("Stable user ids bound to another username: not written over", {
              errorCode: "USER.IDENTITY_CONFLICT",
              count: repaired.identityConflicts,
            });
          }
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
    erasures: erasureLedger(container),
    clock: container.clock,
    observability: container.observability("snapshot-and-reconcile"),
    userPoolId: container.userPoolId,
  };
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) =>
  snapshotAndReconcileHandler(snapshotAndReconcileDependencies(container)),
);
