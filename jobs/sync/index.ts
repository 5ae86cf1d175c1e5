/**
 * The sync job: records a confirmed user (profile and backup, in parallel) for the Cognito Post Confirmation
 * trigger (handlers/post-confirmation.ts), inside the trigger's budget.
 *
 * First, for a sign-up confirmation, it checks the trigger half of the identity purge's fence
 * (`core/purge/fence.ts`): it reads the user (AdminGetUser on the event's pool) and, when the user is disabled
 * or gone, records nothing and reports the confirmation held. The purge may be about to delete that user;
 * failing the confirmation means nobody is ever told "confirmed" and then deleted.
 *
 * Every outcome is a report: held, fence unchecked, recorded, not recorded. Whether the report fails the
 * confirmation ({@link syncFailed}) follows the failure mode: by default a failed write or an unread fence
 * lets the confirmation through (the nightly reconcile writes what is missing); `fail` fails it.
 */
import * as z from "zod/mini";
import "../../core/validation.js";
import { LifecycleError } from "../../core/errors.js";
import type { BackupStore } from "../../core/ports/backup-store.js";
import type { Clock } from "../../core/ports/clock.js";
import type { ErasureLedger } from "../../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../../core/ports/profile-store.js";
import type { UserDirectory } from "../../core/ports/user-directory.js";
import { checkConfirmationFence } from "../../core/use-cases/confirmation-fence.js";
import { type SyncResult, syncConfirmedUser } from "../../core/use-cases/sync-confirmed-user.js";
import {
  type ConfirmationEvent,
  type ConfirmationTrigger,
  parsePostConfirmationEvent,
} from "../../core/user/post-confirmation.js";
import { parseEvent } from "../../runtime/event.js";

/** Present or not: {@link parsePostConfirmationEvent} says which are required and what each must be. */
const any = z.optional(z.unknown());

/**
 * The fields Cognito sends to a Post Confirmation trigger (Cognito developer guide, "Post confirmation Lambda
 * trigger" and the common trigger parameters), and no other: an unknown field at any of these levels is
 * refused, naming it. The values are checked by {@link parsePostConfirmationEvent}, whose errors never echo
 * one (the message of an exception thrown here can reach the end user).
 */
export const syncInputSchema = z.strictObject({
  version: any,
  triggerSource: any,
  region: any,
  userPoolId: any,
  userName: any,
  callerContext: z.strictObject({ awsSdkVersion: any, clientId: any }),
  request: z.strictObject({ userAttributes: any, clientMetadata: any }),
  // A Post Confirmation trigger's response has no field.
  response: z.optional(z.strictObject({})),
});

/**
 * Parses a Post Confirmation event: each value checked first (the same errors as the trigger always gave),
 * then any unknown field refused (`EVENT.INVALID` naming its place).
 */
export function parseSyncInput(event: unknown): ConfirmationEvent {
  const confirmation = parsePostConfirmationEvent(event);
  parseEvent(syncInputSchema, event, "event");
  return confirmation;
}

export type SyncFailureMode = "continue" | "fail";

export interface SyncJobDeps {
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
  /**
   * `continue` (default): a write that fails, or a fence that cannot be checked, is reported and the
   * confirmation succeeds. `fail`: the confirmation fails (and an unchecked fence writes nothing).
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

/** What the fence said: checked (clear, held, or not a sign-up), or not read in time (with why). */
export type SyncFenceOutcome =
  | { readonly kind: "clear" }
  | { readonly kind: "not-fenced" }
  | { readonly kind: "held"; readonly reason: "DISABLED" | "GONE"; readonly durationMs: number }
  | { readonly kind: "unchecked"; readonly error: unknown; readonly durationMs: number };

/** What the writes did: recorded (with each store's outcome), failed (with why), or not tried. */
export type SyncWritesOutcome =
  | { readonly kind: "recorded"; readonly result: SyncResult; readonly durationMs: number }
  | { readonly kind: "failed"; readonly error: unknown; readonly durationMs: number }
  | { readonly kind: "not-attempted" };

export interface SyncReport {
  readonly trigger: ConfirmationTrigger;
  readonly failureMode: SyncFailureMode;
  readonly fence: SyncFenceOutcome;
  readonly writes: SyncWritesOutcome;
}

/** Checks the fence, then records the confirmed user; never throws for an outcome (see {@link SyncReport}). */
export async function runSync(deps: SyncJobDeps, confirmation: ConfirmationEvent): Promise<SyncReport> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const report = (fence: SyncFenceOutcome, writes: SyncWritesOutcome): SyncReport => ({
    trigger: confirmation.trigger,
    failureMode: deps.failureMode,
    fence,
    writes,
  });

  let fence: SyncFenceOutcome;
  try {
    const verdict = await withDeadline(
      checkConfirmationFence(confirmation, deps.directoryOf(confirmation.userPoolId)),
      fenceReadBudgetMs(deps.deadlineMs),
      (ms) => new LifecycleError("SYNC.FENCE_UNCHECKED", `The user could not be read within ${ms} ms`),
    );
    fence = verdict.kind === "held" ? { ...verdict, durationMs: elapsed() } : verdict;
  } catch (error) {
    fence = { kind: "unchecked", error, durationMs: elapsed() };
  }
  // Held: the fence doing its work (or an operator's disable); nothing is recorded.
  if (fence.kind === "held") return report(fence, { kind: "not-attempted" });
  // Unchecked: fail open by default. Failing closed would fail every confirmation while Cognito cannot be read
  // (throttled, unreachable), and tell each person their confirmation failed although it committed. Failing
  // open can let a confirmed user be deleted only when an identity purge held this very user, disabled,
  // during this very failed read: the purge disables a user for one round trip, once, when it is over a day
  // unconfirmed. A stack that chose SYNC_FAILURE_MODE=fail prefers a failed confirmation to an unrecorded
  // one, and gets the same here: fail closed, nothing written.
  if (fence.kind === "unchecked" && deps.failureMode === "fail")
    return report(fence, { kind: "not-attempted" });

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
    return report(fence, { kind: "recorded", result, durationMs: elapsed() });
  } catch (error) {
    return report(fence, { kind: "failed", error, durationMs: elapsed() });
  }
}

/**
 * Whether the report fails the confirmation: held by the fence always; an unchecked fence or failed writes
 * only in `fail` mode.
 */
export function syncFailed(report: SyncReport): boolean {
  if (report.fence.kind === "held") return true;
  if (report.failureMode !== "fail") return false;
  return report.fence.kind === "unchecked" || report.writes.kind === "failed";
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
