/**
 * The Cognito Post Confirmation trigger: records the confirmed user (profile and backup, in parallel) and
 * returns the event unchanged, well inside Cognito's five seconds.
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
import type { Clock } from "../core/ports/clock.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { ErasureLedger } from "../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import {
  checkConfirmationFence,
  type ConfirmationFenceVerdict,
} from "../core/use-cases/confirmation-fence.js";
import { hasIdentityConflict, syncConfirmedUser } from "../core/use-cases/sync-confirmed-user.js";
import { maskIdentifier } from "../core/user/mask.js";
import { type ConfirmationEvent, parsePostConfirmationEvent } from "../core/user/post-confirmation.js";
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

export type SyncFailureMode = "continue" | "fail";

export interface PostConfirmationDeps {
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
  readonly observability: Observability;
  /**
   * `continue` (default): a write that fails, or a fence that cannot be checked, is logged and counted and the
   * confirmation succeeds. `fail`: the confirmation fails.
   */
  readonly failureMode: SyncFailureMode;
  /**
   * The fence's read and the writes together end within this many milliseconds (Cognito gives a trigger five
   * seconds); the read may take {@link fenceReadBudgetMs} of it.
   */
  readonly deadlineMs: number;
  /**
   * The directory of the pool an event comes from (its `userPoolId`), where the fence reads the user. The
   * function cannot be given its pool's id in its environment (the pool names the function as its trigger:
   * the two would depend on each other), so the event says it; only that pool may invoke the function (the
   * invoke permission's source ARN), and the function's role may read that pool alone.
   */
  readonly directoryOf: (userPoolId: string) => UserDirectory;
}

/** The share of the deadline the fence's read may take: a third, so a hung read leaves time for the writes. */
export function fenceReadBudgetMs(deadlineMs: number): number {
  return Math.floor(deadlineMs / 3);
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
      const elapsed = () => Date.now() - started;

      let fence: ConfirmationFenceVerdict | undefined;
      try {
        fence = await withDeadline(
          checkConfirmationFence(confirmation, deps.directoryOf(confirmation.userPoolId)),
          fenceReadBudgetMs(deps.deadlineMs),
          (ms) => new LifecycleError("SYNC.FENCE_UNCHECKED", `The user could not be read within ${ms} ms`),
        );
      } catch (error) {
        metrics.count(CONFIRMATION_FENCE_UNCHECKED_METRIC);
        log.error("Confirmation fence not checked: the user could not be read", {
          trigger: confirmation.trigger,
          errorCode: errorCode(error),
          failureMode: deps.failureMode,
          durationMs: elapsed(),
        });
        // Fail open by default. Failing closed would fail every confirmation while Cognito cannot be read
        // (throttled, unreachable), and tell each person their confirmation failed although it committed. Failing
        // open can let a confirmed user be deleted only when an identity purge held this very user, disabled,
        // during this very failed read: the purge disables a user for one round trip, once, when it is over a day
        // unconfirmed. A stack that chose SYNC_FAILURE_MODE=fail prefers a failed confirmation to an unrecorded
        // one, and gets the same here: fail closed. Either way the metric alarms.
        if (deps.failureMode === "fail") throw new Error(USER_SAFE_FAILURE_MESSAGE, { cause: error });
      }
      if (fence?.kind === "held") {
        // Not an error of this system: the fence doing its work (or an operator's disable). Logged by code,
        // counted, never recorded; the person sees the same message as for any failure, which tells nothing
        // about the account's state.
        metrics.count(CONFIRMATION_HELD_BY_FENCE_METRIC);
        log.warn("Confirmation held by the purge's fence: failed, nothing recorded", {
          errorCode: "PURGE.CONFIRMATION_HELD",
          reason: fence.reason,
          trigger: confirmation.trigger,
          durationMs: elapsed(),
        });
        throw new Error(USER_SAFE_FAILURE_MESSAGE);
      }

      try {
        const writesMs = Math.max(0, deps.deadlineMs - elapsed());
        const result = await withDeadline(
          syncConfirmedUser(confirmation, deps),
          writesMs,
          (ms) =>
            new LifecycleError("SYNC.WRITE_FAILED", `The writes did not finish within ${ms} ms`, {
              details: { failed: { deadline: `${deps.deadlineMs}ms` } },
            }),
        );
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
          durationMs: elapsed(),
        });
      } catch (error) {
        metrics.count("SyncFailed");
        log.error("Confirmed user not fully recorded; reconcile will repair it", {
          trigger: confirmation.trigger,
          errorCode: errorCode(error),
          failed: error instanceof LifecycleError ? error.details.failed : undefined,
          failureMode: deps.failureMode,
          durationMs: elapsed(),
        });
        if (deps.failureMode === "fail") throw new Error(USER_SAFE_FAILURE_MESSAGE, { cause: error });
      }
      return event;
    } finally {
      metrics.publish();
    }
  };
}

/** Rejects with `timeout(ms)` when `work` has not settled within `ms`. */
async function withDeadline<T>(work: Promise<T>, ms: number, timeout: (ms: number) => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout(ms)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
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
