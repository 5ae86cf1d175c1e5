import { errorCode } from "../errors.js";
import type { Clock } from "../ports/clock.js";
import { allUsers, type UserDirectory } from "../ports/user-directory.js";
import type { User } from "../user/user.js";
import {
  checkEligibility,
  finishPurgeReport,
  newPurgeReport,
  type PurgeCandidate,
  type PurgePlan,
  type PurgePolicy,
  type PurgeReport,
  planPurge,
  recordDeleted,
  recordFailure,
  recordSkipped,
} from "../purge/index.js";

export interface PurgeIdentitiesDeps {
  readonly directory: UserDirectory;
  readonly clock: Clock;
}

export interface PurgeRunOptions {
  readonly policy: PurgePolicy;
  /** Stop starting new deletions at this instant (the invocation's time budget). */
  readonly deadline?: Date;
  /**
   * The plan a preview (a dry run) showed, to carry out as it is: its cutoff and its users, never a new
   * listing, so what is deleted is what was confirmed. Each user is still fenced and re-checked against the
   * preview's cutoff; one who confirmed since is spared.
   */
  readonly previewed?: PurgePlan;
  /** Told the plan once it is made (a preview keeps it to carry it out after a confirmation). */
  readonly onPlan?: (plan: PurgePlan) => void;
  /** Told each user deleted, by id (the CLI names them, masked; logs never do). */
  readonly onDeleted?: (id: string) => void;
}

/**
 * Deletes users of the pool who never confirmed their sign-up within the policy's age.
 *
 * All candidates are collected before anything is deleted, because deleting while paginating can invalidate
 * the page token. Each planned user's deletion is fenced ({@link fencedDelete}, see `core/purge/fence.ts`):
 * a user who confirms at any moment of the run is never deleted after its confirmation succeeded. A failure
 * on one user is counted and the run goes on; the report says how many failed so the caller can fail the
 * invocation.
 *
 * Quota: each deletion makes two UserUpdate calls (AdminDisableUser, AdminDeleteUser), three when the user is
 * enabled again; the category (25 per second, shared with AdminAddUserToGroup and the restore) is paced by
 * the directory adapter.
 */
export async function purgeUnconfirmedIdentities(
  deps: PurgeIdentitiesDeps,
  options: PurgeRunOptions,
): Promise<PurgeReport> {
  const started = deps.clock.now();
  const plan = options.previewed
    ? { ...options.previewed, dryRun: options.policy.dryRun }
    : await planFromListing(deps, options.policy, started);
  options.onPlan?.(plan);
  let report = newPurgeReport(plan, "identities");
  let timedOut = false;

  if (!plan.refused && !plan.dryRun) {
    for (const username of plan.toDelete) {
      if (options.deadline && deps.clock.now().getTime() >= options.deadline.getTime()) {
        timedOut = true;
        break;
      }
      const outcome = await fencedDelete(deps.directory, username, plan.cutoff);
      if (outcome.kind === "deleted") {
        report = recordDeleted(report);
        options.onDeleted?.(username);
      } else if (outcome.kind === "skipped") report = recordSkipped(report, outcome.reason);
      else report = recordFailure(report, outcome.code);
      if (outcome.leftDisabled) report = recordFailure(report, "PURGE.FENCE_LEFT_DISABLED");
    }
  }
  return finishPurgeReport(report, { durationMs: deps.clock.now().getTime() - started.getTime(), timedOut });
}

async function planFromListing(
  deps: PurgeIdentitiesDeps,
  policy: PurgePolicy,
  now: Date,
): Promise<PurgePlan> {
  const candidates: PurgeCandidate[] = [];
  for await (const user of allUsers(deps.directory, { status: "UNCONFIRMED" })) {
    // Cognito does not expose when the confirmation code was sent; sign-up (creation) is when it first was.
    candidates.push({
      id: user.username,
      confirmed: user.status !== "UNCONFIRMED",
      ...(user.createdAt ? { createdAt: user.createdAt } : {}),
    });
  }
  const poolSize = await deps.directory.estimatedUserCount();
  return planPurge({ candidates, poolSize, policy, now });
}

type FenceOutcome = (
  | { readonly kind: "deleted" }
  | { readonly kind: "skipped"; readonly reason: string }
  | { readonly kind: "failed"; readonly code: string }
) & {
  /** The fence disabled the user, did not delete it, and could not enable it again. */
  readonly leftDisabled?: boolean;
};

/**
 * Deletes one planned user behind the fence: read it, disable it (unless it already is), read it again,
 * delete it only if it is still UNCONFIRMED and eligible, otherwise enable it again — only when this fence
 * disabled it (a user an operator disabled stays disabled). A failure after the disable enables the user
 * again before it is reported, so a failed fence never leaves a person locked out; if even that fails,
 * `leftDisabled` says so (the next run finds an UNCONFIRMED user again and carries on).
 */
async function fencedDelete(directory: UserDirectory, username: string, cutoff: Date): Promise<FenceOutcome> {
  const eligible = (user: User) =>
    checkEligibility(
      {
        id: username,
        confirmed: user.status !== "UNCONFIRMED",
        ...(user.createdAt ? { createdAt: user.createdAt } : {}),
      },
      cutoff,
    ).eligible;
  let disabledHere = false;
  try {
    const current = await directory.getUser(username);
    if (!current) return { kind: "skipped", reason: "ALREADY_DELETED" };
    if (!eligible(current)) return { kind: "skipped", reason: "NO_LONGER_ELIGIBLE" };
    if (current.enabled) {
      await directory.disableUser(username);
      disabledHere = true;
    }
    // From here on, a confirmation either cannot commit (disabled users refused) or its trigger finds the
    // user disabled and fails it: what this read says is final for every confirmation that succeeds.
    const fenced = await directory.getUser(username);
    if (!fenced) return { kind: "skipped", reason: "ALREADY_DELETED" };
    if (!eligible(fenced)) {
      if (disabledHere) await directory.enableUser(username);
      return { kind: "skipped", reason: "CONFIRMED_DURING_PURGE" };
    }
    if (await directory.deleteUser(username)) return { kind: "deleted" };
    return { kind: "skipped", reason: "ALREADY_DELETED" };
  } catch (error) {
    const code = errorCode(error);
    if (!disabledHere) return { kind: "failed", code };
    try {
      await directory.enableUser(username);
      return { kind: "failed", code };
    } catch (enableError) {
      if (errorCode(enableError) === "USER.NOT_FOUND") return { kind: "failed", code };
      return { kind: "failed", code, leftDisabled: true };
    }
  }
}
