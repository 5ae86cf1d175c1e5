/**
 * Scheduled: a full snapshot of the pool (users, groups, memberships) to S3, with the repair of missing or
 * stale profiles and backups on the snapshot's own pages. A stepped job (`runtime/stepped.ts`), run by its
 * Step Functions state machine: each invocation takes one step from the state the execution carries, and
 * stops a margin before its end.
 *
 * The job's steps are the snapshot's own durable steps (`snapshotStep`, core/use-cases/snapshot-users.ts,
 * with `reconcile: true`), as many invocations as the pool needs: each page it lists is reconciled
 * (`reconcile-page.ts`: one batch read of profiles, a backup read only for a user whose digest says it
 * drifted), so reconcile covers the whole pool every run and resumes where a step stopped. The step that
 * finishes reads the manifest once for the report.
 *
 * A step that fails (S3 or Cognito unreachable) fails the invocation, hence the execution, which alarms; the
 * same step again (a redrive, or a new execution with `{"resumeFrom": <state>}`) carries on, losing and
 * doubling nothing (the snapshot's effects are written under deterministic keys before the state that
 * records them; reconcile only writes what is missing or differs). The metrics are counted once, when the
 * last step is done.
 */
import * as z from "zod/mini";
import "../core/validation.js";
import { ValidationError } from "../core/errors.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { Clock } from "../core/ports/clock.js";
import type { ErasureLedger } from "../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { Step } from "../core/steps/step.js";
import type { ReconcileCounts } from "../core/use-cases/reconcile-page.js";
import {
  SNAPSHOT_PHASES,
  type SnapshotState,
  snapshotReport,
  snapshotStep,
  startSnapshot,
} from "../core/use-cases/snapshot-users.js";
import { noOptionsEventSchema } from "../runtime/event.js";
import type { InvocationContext } from "../runtime/invocation.js";
import { IDENTITY_BINDING_CONFLICTS_METRIC, type Observability } from "../runtime/observability.js";
import { steppedHandler } from "../runtime/stepped.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { backupStore } from "../runtime/wiring/backups.js";
import { erasureLedger } from "../runtime/wiring/erasures.js";
import { userDirectory } from "../runtime/wiring/cognito.js";
import { profileStore } from "../runtime/wiring/profiles.js";

export interface SnapshotAndReconcileDeps {
  readonly directory: UserDirectory;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
  readonly observability: Observability;
  readonly userPoolId: string;
}

/** A finished snapshot as the report shows it: counts only (no usernames). */
export interface SnapshotSummary {
  readonly snapshotId: string;
  readonly users: number;
  readonly parts: number;
  readonly memberships: number;
  /** Users left out because they cannot be backed up, by error code (never a username). */
  readonly skipped: number;
  readonly skipReasons: Readonly<Record<string, number>>;
  readonly erasedLeftOut: number;
}

export interface SnapshotAndReconcileReport {
  readonly snapshot:
    ({ readonly ok: true } & SnapshotSummary) | { readonly ok: false; readonly errorCode: string };
  /** What reconcile did over the run, summed over its steps (`backupsRead`: its S3 GETs of backups). */
  readonly reconcile: ReconcileCounts | { readonly ok: false; readonly errorCode: string };
}

/** Where a run is, between two steps: small JSON carried by the execution. */
export interface SnapshotAndReconcileState {
  readonly job: "snapshot-and-reconcile";
  readonly phase: "snapshot" | "done";
  /** The snapshot's own state (core/use-cases/snapshot-users.ts). */
  readonly snapshot: SnapshotState;
  /** Once the snapshot is finished. */
  readonly snapshotSummary?: SnapshotSummary;
  /** Once the snapshot (and the reconcile on its pages) is finished. */
  readonly reconcile?: ReconcileCounts;
}

const counts = z.record(z.string(), z.number().check(z.int(), z.gte(0)));
const count = z.number().check(z.int(), z.gte(0));
const summarySchema = z.strictObject({
  snapshotId: z.string(),
  users: count,
  parts: count,
  memberships: count,
  skipped: count,
  skipReasons: counts,
  erasedLeftOut: count,
});
const reconcileSchema = z.strictObject({
  checked: count,
  profilesCreated: count,
  backupsWritten: count,
  backupsCurrent: count,
  backupsRead: count,
  digestsRecorded: count,
  failed: count,
  failureCodes: counts,
  skipped: count,
  skipReasons: counts,
  identityConflicts: count,
});
/**
 * The snapshot's own state is checked by what identifies it (its job, id, pool and phase); its cursors are
 * the snapshot use case's to read.
 */
const snapshotStateSchema = z.looseObject({
  job: z.literal("snapshot"),
  snapshotId: z.string().check(z.minLength(1)),
  userPoolId: z.string(),
  startedAt: z.iso.datetime(),
  phase: z.enum(SNAPSHOT_PHASES),
  groups: z.looseObject({}),
  partitions: z.array(z.looseObject({ prefix: z.string() })),
});
const stateSchema = z.strictObject({
  job: z.literal("snapshot-and-reconcile"),
  phase: z.enum(["snapshot", "done"]),
  snapshot: snapshotStateSchema,
  snapshotSummary: z.optional(summarySchema),
  reconcile: z.optional(reconcileSchema),
});

/**
 * A state handed back by the state machine or an operator (`resumeFrom`), checked: this job's, of this pool.
 *
 * @throws ValidationError `STEP.STATE_INVALID` naming what is wrong.
 */
export function parseSnapshotAndReconcileState(
  value: unknown,
  userPoolId: string,
): SnapshotAndReconcileState {
  const parsed = stateSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? []).map(String).join(".");
    throw new ValidationError(
      "STEP.STATE_INVALID",
      path === "" ? "state" : `state.${path}`,
      `is not a state of snapshot-and-reconcile (${issue?.message ?? "invalid"})`,
    );
  }
  if (parsed.data.snapshot.userPoolId !== userPoolId) {
    throw new ValidationError(
      "STEP.STATE_INVALID",
      "state.snapshot.userPoolId",
      `is another pool's (${parsed.data.snapshot.userPoolId}), not ${userPoolId}`,
    );
  }
  return parsed.data as unknown as SnapshotAndReconcileState;
}

/** The first state of a run. */
export function startSnapshotAndReconcile(deps: Pick<SnapshotAndReconcileDeps, "clock" | "userPoolId">) {
  return {
    job: "snapshot-and-reconcile",
    phase: "snapshot",
    snapshot: startSnapshot({ userPoolId: deps.userPoolId }, deps.clock),
  } satisfies SnapshotAndReconcileState;
}

/** The job's step: the snapshot's steps, reconciling every page they list. */
export function snapshotAndReconcileStep(deps: SnapshotAndReconcileDeps): Step<SnapshotAndReconcileState> {
  const snapshot = snapshotStep(deps, { userPoolId: deps.userPoolId, reconcile: true });
  return async (state, deadline) => {
    switch (state.phase) {
      case "snapshot": {
        const outcome = await snapshot(state.snapshot, deadline);
        if (!outcome.done) return { state: { ...state, snapshot: outcome.state }, done: false };
        const result = await snapshotReport(deps.backups, outcome.state);
        const snapshotSummary: SnapshotSummary = {
          snapshotId: result.snapshotId,
          users: result.userCount,
          parts: result.parts.length,
          memberships: result.memberships,
          skipped: result.skipped,
          skipReasons: result.skipReasons,
          erasedLeftOut: result.erasedLeftOut,
        };
        return {
          state: {
            ...state,
            phase: "done",
            snapshot: outcome.state,
            snapshotSummary,
            reconcile: result.reconcile,
          },
          done: true,
        };
      }
      case "done":
        return { state, done: true };
    }
  };
}

/** The report of a run from its state: a snapshot or reconcile not reached is reported as such. */
export function snapshotAndReconcileReport(state: SnapshotAndReconcileState): SnapshotAndReconcileReport {
  return {
    snapshot: state.snapshotSummary
      ? { ok: true, ...state.snapshotSummary }
      : { ok: false, errorCode: "SNAPSHOT.INCOMPLETE" },
    // A run that did not finish reconciled part of the pool; the next run goes over all of it again.
    reconcile: state.reconcile ?? { ok: false, errorCode: "RECONCILE.INCOMPLETE" },
  };
}

/** The metrics of a finished run, counted once. */
function publish(observability: Observability, report: SnapshotAndReconcileReport): void {
  const { metrics, log } = observability;
  if (report.snapshot.ok) {
    metrics.count("SnapshotUsers", report.snapshot.users);
    metrics.count("SnapshotUsersSkipped", report.snapshot.skipped);
    if (report.snapshot.skipped > 0) {
      log.warn("Users left out of the snapshot", { skipReasons: report.snapshot.skipReasons });
    }
  }
  if (!("ok" in report.reconcile)) {
    const repaired = report.reconcile;
    metrics.count("ReconcileProfilesCreated", repaired.profilesCreated);
    metrics.count("ReconcileBackupsWritten", repaired.backupsWritten);
    metrics.count("ReconcileUsersSkipped", repaired.skipped);
    if (repaired.identityConflicts > 0) {
      metrics.count(IDENTITY_BINDING_CONFLICTS_METRIC, repaired.identityConflicts);
      log.error("Stable user ids bound to another username: not written over", {
        errorCode: "USER.IDENTITY_CONFLICT",
        count: repaired.identityConflicts,
      });
    }
  }
}

/**
 * The function: a state machine's step event takes one step; a direct invocation with `{}` runs the steps
 * one after another until done or the invocation's end (a snapshot not finished by then is reported
 * `SNAPSHOT.INCOMPLETE`, reconcile `RECONCILE.INCOMPLETE`; the next run cleans what it left).
 */
export function snapshotAndReconcileHandler(deps: SnapshotAndReconcileDeps) {
  const handler = steppedHandler<
    SnapshotAndReconcileState,
    Record<string, never>,
    SnapshotAndReconcileReport
  >(deps, {
    job: "SnapshotAndReconcile",
    options: noOptionsEventSchema as z.ZodMiniType<Record<string, never>>,
    start: () => startSnapshotAndReconcile(deps),
    parseState: (value) => parseSnapshotAndReconcileState(value, deps.userPoolId),
    step: snapshotAndReconcileStep(deps),
    report: snapshotAndReconcileReport,
    failed: (report) => !report.snapshot.ok || "ok" in report.reconcile || report.reconcile.failed > 0,
    publish: (report) => publish(deps.observability, report),
  });
  // A direct invocation answers the report; a step event answers the step (StepAnswer).
  return handler as (event: unknown, context?: InvocationContext) => Promise<SnapshotAndReconcileReport>;
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

/** The function built on a container: what its Lambda entry point runs, and the local stack too. */
export const build = (container: Container) =>
  snapshotAndReconcileHandler(snapshotAndReconcileDependencies(container));

/** The Lambda entry point: the function built from the environment, once per container. */
export const handler = lambdaHandler(build);
