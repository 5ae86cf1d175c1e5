/**
 * Removing a person from restores' state (`restores/<planId>/`): the plan's line for them is replaced, in
 * place, by a placeholder that holds nothing of theirs — so every index, chunk and count of the plan and its
 * progress stays true and an unfinished restore can still be resumed — and their username leaves the plan's
 * lists and the progress. The placeholder keeps their (tombstoned) stable id, which every restore step leaves
 * out.
 */
import type { PlannedUser, RestoreProgress, StoredRestorePlan } from "../backup/restore-state.js";
import { errorCode, LifecycleError, ValidationError } from "../errors.js";
import type { RestoreStateStore } from "../ports/restore-state-store.js";
import { makeUser } from "../user/user.js";
import { type ErasedPerson, isPersonsPlannedUser } from "./person.js";

export interface RestoreScrubReport {
  /** Restores whose plan or progress named the person, rewritten without them. */
  readonly restoresRewritten: number;
  /** Restores whose state could not be read, by plan id, with the error code. */
  readonly unscrubbedRestores: readonly { readonly planId: string; readonly code: string }[];
}

export async function scrubRestores(
  restores: RestoreStateStore,
  person: ErasedPerson,
  options: { readonly dryRun?: boolean } = {},
): Promise<RestoreScrubReport> {
  const unscrubbedRestores: { planId: string; code: string }[] = [];
  let restoresRewritten = 0;
  // Without a trusted id the plan's lines cannot be told apart safely (another person may share the id).
  const { userId } = person;
  if (userId === undefined) return { restoresRewritten, unscrubbedRestores };
  for (const planId of await restores.listRestores()) {
    try {
      const stored = await restores.getRestorePlan(planId);
      let progress: RestoreProgress | undefined;
      let version: string | undefined;
      try {
        ({ progress, version } = await restores.getVersionedRestoreProgress(planId));
      } catch (error) {
        if (!(error instanceof LifecycleError && error.code === "RESTORE.NOT_FOUND")) throw error;
      }
      const begun = begunChunkOf(stored, progress);
      const names = new Set<string>(person.poolUser ? [person.poolUser.username] : []);
      const users = stored.plan.users.map((planned, index) => {
        if (!isPersonsPlannedUser(person, planned)) return planned;
        // An import job may already hold their row: the username stays, so the restore's finalization can
        // find them in the pool and delete them again. Everything else of theirs goes.
        const keepUsername = stored.plan.strategy === "import-job" && begun(index);
        if (!keepUsername) names.add(planned.username);
        return placeholder(planned, keepUsername ? planned.username : `erased-${index + 1}`, stored);
      });
      const keep = (username: string) => !names.has(username);
      const plan = {
        ...stored.plan,
        users,
        existing: stored.plan.existing.filter(keep),
        skipped: stored.plan.skipped.filter((entry) => keep(entry.username)),
        notFound: stored.plan.notFound.filter(keep),
      };
      const planChanged =
        users.some((planned, i) => planned !== stored.plan.users[i]) ||
        plan.existing.length !== stored.plan.existing.length ||
        plan.skipped.length !== stored.plan.skipped.length ||
        plan.notFound.length !== stored.plan.notFound.length;
      const f = progress?.finalization;
      const finalization = f && {
        ...f,
        subMapping: f.subMapping.filter((entry) => keep(entry.username) && entry.oldSub !== userId),
        missing: f.missing.filter(keep),
      };
      const progressChanged =
        f !== undefined &&
        finalization !== undefined &&
        (finalization.subMapping.length !== f.subMapping.length ||
          finalization.missing.length !== f.missing.length);
      if (!planChanged && !progressChanged) continue;
      restoresRewritten += 1;
      if (options.dryRun) continue;
      if (planChanged) await restores.putRestorePlan({ ...stored, plan });
      // Conditional on the version read: a restore that advanced meanwhile makes this a RESTORE.CONFLICT,
      // reported (erase again by id), never a progress written over.
      if (progressChanged && progress && finalization) {
        await restores.putRestoreProgress(
          { ...progress, finalization },
          version === undefined ? { ifAbsent: true } : { ifVersion: version },
        );
      }
    } catch (error) {
      if (
        !(error instanceof ValidationError) &&
        !(error instanceof LifecycleError && error.code.startsWith("RESTORE."))
      ) {
        throw error;
      }
      unscrubbedRestores.push({ planId, code: errorCode(error) });
    }
  }
  return { restoresRewritten, unscrubbedRestores };
}

/** Whether the chunk holding the plan's user at `index` has begun (a job created for it, or users created). */
function begunChunkOf(stored: StoredRestorePlan, progress: RestoreProgress | undefined) {
  return (index: number): boolean => {
    let end = 0;
    for (const [i, chunk] of stored.chunks.entries()) {
      end += chunk.users;
      if (index < end) return (progress?.chunks[i]?.status ?? "pending") !== "pending";
    }
    return false;
  };
}

/** A plan line holding nothing of the person but (see above) maybe the username, and their tombstoned id. */
function placeholder(planned: PlannedUser, username: string, stored: StoredRestorePlan): PlannedUser {
  const base = { username, sub: planned.sub, groups: [], enabled: true };
  if (stored.plan.strategy === "import-job") return { ...base, row: "erased\n" };
  return { ...base, user: makeUser({ username, sub: planned.sub }) };
}
