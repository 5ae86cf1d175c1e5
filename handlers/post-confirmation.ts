/**
 * The Cognito Post Confirmation trigger: records the confirmed user (profile and backup, in parallel) and
 * returns the event unchanged, well inside Cognito's five seconds.
 *
 * A failed write does not, by default, fail the confirmation: the user is confirmed either way, and the
 * nightly reconcile writes what is missing (the failure is logged and counted, which alarms). A stack that
 * prefers to fail the confirmation sets `SYNC_FAILURE_MODE=fail`; the client then sees a generic message,
 * never the cause.
 */
import { errorCode, LifecycleError } from "../core/errors.js";
import type { Clock } from "../core/ports/clock.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { ErasureLedger } from "../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import { hasIdentityConflict, syncConfirmedUser } from "../core/use-cases/sync-confirmed-user.js";
import { maskIdentifier } from "../core/user/mask.js";
import { type ConfirmationEvent, parsePostConfirmationEvent } from "../core/user/post-confirmation.js";
import { IDENTITY_BINDING_CONFLICTS_METRIC, type Observability } from "./observability.js";
import { type Container, lambdaHandler } from "./container.js";
import { backupStore } from "./wiring/backups.js";
import { erasureLedger } from "./wiring/erasures.js";
import { profileStore } from "./wiring/profiles.js";

export type SyncFailureMode = "continue" | "fail";

export interface PostConfirmationDeps {
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
  readonly observability: Observability;
  /** `continue` (default): log, count and let the confirmation succeed. `fail`: fail it. */
  readonly failureMode: SyncFailureMode;
  /** The whole sync must end within this many milliseconds (Cognito gives a trigger five seconds). */
  readonly deadlineMs: number;
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
        confirmation = parsePostConfirmationEvent(event);
      } catch (error) {
        metrics.count("InvalidEvent");
        log.error("Post Confirmation event rejected", { errorCode: errorCode(error) });
        throw error;
      }
      const started = Date.now();
      try {
        const result = await withDeadline(syncConfirmedUser(confirmation, deps), deps.deadlineMs);
        if (hasIdentityConflict(result)) {
          // Someone confirmed with a stable id another username holds: nothing of theirs was written over.
          metrics.count(IDENTITY_BINDING_CONFLICTS_METRIC);
          log.error("Stable user id bound to another username: not written over", {
            errorCode: "USER.IDENTITY_CONFLICT",
            trigger: confirmation.trigger,
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
          trigger: confirmation.trigger,
          profile: result.profile,
          durationMs: Date.now() - started,
        });
      } catch (error) {
        metrics.count("SyncFailed");
        log.error("Confirmed user not fully recorded; reconcile will repair it", {
          trigger: confirmation.trigger,
          errorCode: errorCode(error),
          failed: error instanceof LifecycleError ? error.details.failed : undefined,
          failureMode: deps.failureMode,
          durationMs: Date.now() - started,
        });
        if (deps.failureMode === "fail") throw new Error(USER_SAFE_FAILURE_MESSAGE, { cause: error });
      }
      return event;
    } finally {
      metrics.publish();
    }
  };
}

/** Rejects with `SYNC.WRITE_FAILED` (reason `deadline`) when `work` has not settled within `ms`. */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LifecycleError("SYNC.WRITE_FAILED", `The writes did not finish within ${ms} ms`, {
            details: { failed: { deadline: `${ms}ms` } },
          }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the function needs, built from the environment (see `wiring/`). */
export function postConfirmationDependencies(container: Container): PostConfirmationDeps {
  return {
    profiles: profileStore(container),
    backups: backupStore(container),
    erasures: erasureLedger(container),
    clock: container.clock,
    observability: container.observability("post-confirmation"),
    failureMode: container.env.choice("SYNC_FAILURE_MODE", ["continue", "fail"], "continue"),
    deadlineMs: container.env.integer("SYNC_DEADLINE_MS", 3_000, 500, 4_500),
  };
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) =>
  postConfirmationHandler(postConfirmationDependencies(container)),
);
