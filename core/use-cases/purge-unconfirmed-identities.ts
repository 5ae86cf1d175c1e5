import { errorCode } from "../errors.js";
import type { Clock } from "../ports/clock.js";
import { allUsers, type UserDirectory } from "../ports/user-directory.js";
import {
  checkEligibility,
  finishPurgeReport,
  newPurgeReport,
  type PurgeCandidate,
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
}

/**
 * Deletes users of the pool who never confirmed their sign-up within the policy's age.
 *
 * All candidates are collected before anything is deleted, because deleting while paginating can invalidate
 * the page token. Each planned user is read again right before its deletion and spared if it confirmed (or
 * was deleted) in the meantime. A failure to delete one user is counted and the run goes on; the report says
 * how many failed so the caller can fail the invocation.
 */
export async function purgeUnconfirmedIdentities(
  deps: PurgeIdentitiesDeps,
  options: PurgeRunOptions,
): Promise<PurgeReport> {
  const started = deps.clock.now();
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
  const plan = planPurge({ candidates, poolSize, policy: options.policy, now: started });
  let report = newPurgeReport(plan, "identities");
  let timedOut = false;

  if (!plan.refused && !plan.dryRun) {
    for (const username of plan.toDelete) {
      if (options.deadline && deps.clock.now().getTime() >= options.deadline.getTime()) {
        timedOut = true;
        break;
      }
      try {
        const current = await deps.directory.getUser(username);
        if (!current) {
          report = recordSkipped(report, "ALREADY_DELETED");
          continue;
        }
        const recheck = checkEligibility(
          {
            id: username,
            confirmed: current.status !== "UNCONFIRMED",
            ...(current.createdAt ? { createdAt: current.createdAt } : {}),
          },
          plan.cutoff,
        );
        if (!recheck.eligible) {
          report = recordSkipped(report, "NO_LONGER_ELIGIBLE");
          continue;
        }
        if (await deps.directory.deleteUser(username)) report = recordDeleted(report);
        else report = recordSkipped(report, "ALREADY_DELETED");
      } catch (error) {
        report = recordFailure(report, errorCode(error));
      }
    }
  }
  return finishPurgeReport(report, { durationMs: deps.clock.now().getTime() - started.getTime(), timedOut });
}
