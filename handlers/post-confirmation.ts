/**
 * The Cognito Post Confirmation trigger: runs the sync job (jobs/sync), which records the confirmed user
 * (profile and backup, in parallel), and returns the event unchanged, well inside Cognito's five seconds. The
 * job reports; this handler maps the report to logs, metrics and the confirmation's answer.
 *
 * First, for a sign-up confirmation, it holds the trigger half of the identity purge's fence
 * (`core/purge/fence.ts`): it reads the user (AdminGetUser on the event's pool) and, when the user is disabled
 * or gone, fails the confirmation with the user-safe message and records nothing. The purge may be about to
 * delete that user; failing here means nobody is ever told "confirmed" and then deleted.
 *
 * A failed write does not, by default, fail the confirmation: the user is confirmed either way, and the
 * nightly reconcile writes what is missing (the failure is logged and counted, which alarms). A stack that
 * prefers to fail the confirmation sets `SYNC_FAILURE_MODE=fail`; the client then sees a generic message,
 * never the cause.
 */
import { errorCode, LifecycleError } from "../core/errors.js";
import { maskIdentifier } from "../core/user/mask.js";
import type { ConfirmationEvent } from "../core/user/post-confirmation.js";
import { hasIdentityConflict } from "../core/use-cases/sync-confirmed-user.js";
import {
  fenceReadBudgetMs,
  parseSyncInput,
  runSync,
  syncFailed,
  type SyncJobDeps,
  type SyncReport,
} from "../jobs/sync/index.js";
import {
  CONFIRMATION_FENCE_UNCHECKED_METRIC,
  CONFIRMATION_HELD_BY_FENCE_METRIC,
  IDENTITY_BINDING_CONFLICTS_METRIC,
  type Observability,
} from "../runtime/observability.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { backupStore } from "../runtime/wiring/backups.js";
import { triggerDirectory } from "../runtime/wiring/cognito.js";
import { erasureLedger } from "../runtime/wiring/erasures.js";
import { profileStore } from "../runtime/wiring/profiles.js";

export { fenceReadBudgetMs, type SyncFailureMode } from "../jobs/sync/index.js";

export interface PostConfirmationDeps extends SyncJobDeps {
  readonly observability: Observability;
}

/** What the end user may read when the confirmation is failed on purpose: nothing about the cause. */
export const USER_SAFE_FAILURE_MESSAGE =
  "Your account could not be set up just now. Please try again in a moment.";

export function postConfirmationHandler(deps: PostConfirmationDeps) {
  const { log, metrics } = deps.observability;
  return async (event: unknown, context?: { awsRequestId?: string }): Promise<unknown> => {
    deps.observability.startInvocation(context);
    try {
      let confirmation: ConfirmationEvent;
      try {
        // Strict: a malformed event writes nothing. The error names the field, never a value.
        confirmation = parseSyncInput(event);
      } catch (error) {
        metrics.count("InvalidEvent");
        log.error("Post Confirmation event rejected", { errorCode: errorCode(error) });
        throw error;
      }
      const report = await runSync(deps, confirmation);
      record(report, deps.observability);
      if (syncFailed(report)) {
        // The person sees the same message whatever the cause, which tells nothing about the account's state.
        const cause = report.fence.kind === "unchecked" ? report.fence.error : undefined;
        const failed = report.writes.kind === "failed" ? report.writes.error : cause;
        throw failed === undefined
          ? new Error(USER_SAFE_FAILURE_MESSAGE)
          : new Error(USER_SAFE_FAILURE_MESSAGE, { cause: failed });
      }
      return event;
    } finally {
      metrics.publish();
    }
  };
}

/** The report's logs and metrics: by code and outcome, never a value of the user's (the id masked). */
function record(report: SyncReport, observability: Observability): void {
  const { log, metrics } = observability;
  const { fence, writes, trigger, failureMode } = report;
  if (fence.kind === "unchecked") {
    metrics.count(CONFIRMATION_FENCE_UNCHECKED_METRIC);
    log.error("Confirmation fence not checked: the user could not be read", {
      trigger,
      errorCode: errorCode(fence.error),
      failureMode,
      durationMs: fence.durationMs,
    });
  }
  if (fence.kind === "held") {
    // Not an error of this system: the fence doing its work (or an operator's disable). Logged by code,
    // counted, never recorded.
    metrics.count(CONFIRMATION_HELD_BY_FENCE_METRIC);
    log.warn("Confirmation held by the purge's fence: failed, nothing recorded", {
      errorCode: "PURGE.CONFIRMATION_HELD",
      reason: fence.reason,
      trigger,
      durationMs: fence.durationMs,
    });
  }
  if (writes.kind === "recorded") {
    const { result } = writes;
    if (hasIdentityConflict(result)) {
      // Someone confirmed with a stable id another username holds: nothing of theirs was written over.
      metrics.count(IDENTITY_BINDING_CONFLICTS_METRIC);
      log.error("Stable user id bound to another username: not written over", {
        errorCode: "USER.IDENTITY_CONFLICT",
        trigger,
        profile: result.profile,
        backup: result.backup,
      });
    }
    if (result.profile === "created") metrics.count("ProfileCreated");
    if (result.profile === "existed") metrics.count("ProfileExisted");
    if (result.backup === "written") metrics.count("BackupWritten");
    if (result.profile === "erased") metrics.count("ErasedUserNotRecorded");
    log.info("Confirmed user recorded", {
      userId: maskIdentifier(result.userId),
      trigger,
      profile: result.profile,
      durationMs: writes.durationMs,
    });
  }
  if (writes.kind === "failed") {
    metrics.count("SyncFailed");
    log.error("Confirmed user not fully recorded; reconcile will repair it", {
      trigger,
      errorCode: errorCode(writes.error),
      failed: writes.error instanceof LifecycleError ? writes.error.details.failed : undefined,
      failureMode,
      durationMs: writes.durationMs,
    });
  }
}

/** What the function needs, built from the environment (see `wiring/`). */
export function postConfirmationDependencies(container: Container): PostConfirmationDeps {
  const deadlineMs = container.env.integer("SYNC_DEADLINE_MS", 3_000, 500, 4_500);
  return {
    profiles: profileStore(container),
    backups: backupStore(container),
    erasures: erasureLedger(container),
    clock: container.clock,
    observability: container.observability("post-confirmation"),
    failureMode: container.env.choice("SYNC_FAILURE_MODE", ["continue", "fail"], "continue"),
    deadlineMs,
    directoryOf: (userPoolId) =>
      triggerDirectory(container, userPoolId, { timeoutMs: fenceReadBudgetMs(deadlineMs) }),
  };
}

/** The function built on a container: what its Lambda entry point runs, and the local stack too. */
export const build = (container: Container) =>
  postConfirmationHandler(postConfirmationDependencies(container));

/** The Lambda entry point: the function built from the environment, once per container. */
export const handler = lambdaHandler(build);
