/**
 * Manual invoke: the restore job (jobs/restore), one request per invocation, advancing until the
 * invocation's end minus a margin. See jobs/restore for the actions.
 *
 * The answer is the job's summary; the log gets counts only (usernames can be emails), and the full plan
 * never goes into either.
 */
import { errorCode } from "../core/errors.js";
import {
  loggableRestoreSummary,
  restoreFailed,
  type RestoreJobDeps,
  type RestoreSummary,
  restoreInputSchema,
  runRestore,
} from "../jobs/restore/index.js";
import { parseEvent } from "../runtime/event.js";
import { type InvocationContext, invocationDeadline, runJob } from "../runtime/invocation.js";
import type { Observability } from "../runtime/observability.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { backupReader } from "../runtime/wiring/backups.js";
import { erasureLedger } from "../runtime/wiring/erasures.js";
import { restoreStateStore } from "../runtime/wiring/restores.js";
import { userDirectory, userImporter } from "../runtime/wiring/cognito.js";

export interface RestoreHandlerDeps extends RestoreJobDeps {
  readonly observability: Observability;
}

/** How long a run without a Lambda context (tests) may advance before it answers. */
export const RESTORE_FALLBACK_MS = 10 * 60_000;

export function restoreHandler(deps: RestoreHandlerDeps) {
  const { log } = deps.observability;
  return (event: unknown, context?: InvocationContext): Promise<RestoreSummary> =>
    runJob(
      deps.observability,
      "Restore",
      context,
      () => {
        const request = parseEvent(restoreInputSchema, event, "event");
        // Taken before any work, so the whole invocation counts against it.
        const deadline = invocationDeadline(deps.clock, context, RESTORE_FALLBACK_MS);
        return runRestore(deps, request, {
          deadline,
          // The plan id is not personal data: it goes to the log the moment the plan is stored.
          onPlanStored: (planId) => log.info("Restore plan stored", { planId }),
          onStopped: (planId, error) =>
            log.error("Restore stopped: resume it by its plan id", { planId, errorCode: errorCode(error) }),
        });
      },
      // A restore that ended short of complete fails the invocation (the alarm fires).
      restoreFailed,
      loggableRestoreSummary,
    );
}

/** What the function needs, built from the environment (see `runtime/wiring/`). */
export function restoreDependencies(container: Container): RestoreHandlerDeps {
  return {
    backups: backupReader(container),
    restores: restoreStateStore(container),
    erasures: erasureLedger(container),
    // The import service (and its role variable) only when the restore uses import jobs.
    target: (userPoolId, strategy) => ({
      directory: userDirectory(container, userPoolId),
      ...(strategy === "import-job" ? { importer: userImporter(container, userPoolId) } : {}),
    }),
    clock: container.clock,
    sleeper: container.sleeper,
    observability: container.observability("restore"),
  };
}

/** The function built on a container: what its Lambda entry point runs, and the local stack too. */
export const build = (container: Container) => restoreHandler(restoreDependencies(container));

/** The Lambda entry point: the function built from the environment, once per container. */
export const handler = lambdaHandler(build);
