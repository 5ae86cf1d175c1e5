/**
 * Manual invoke: the erase job (jobs/erase). The function runs outside the VPC and has no access to the
 * application's accounts database: its report says the person's row there was not checked
 * (`NO_DATABASE_ACCESS`), and it takes no flag to delete it (the CLI's `erase --delete-account-row` does).
 */
import type { EraseReport } from "../core/use-cases/erase-user.js";
import { eraseFailed, eraseInputSchema, type EraseJobDeps, runErase } from "../jobs/erase/index.js";
import { parseEvent } from "../runtime/event.js";
import { type InvocationContext, runJob } from "../runtime/invocation.js";
import type { Observability } from "../runtime/observability.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { backupStore } from "../runtime/wiring/backups.js";
import { erasureLedger } from "../runtime/wiring/erasures.js";
import { restoreStateStore } from "../runtime/wiring/restores.js";
import { userDirectory } from "../runtime/wiring/cognito.js";
import { profileStore } from "../runtime/wiring/profiles.js";

export interface EraseHandlerDeps extends EraseJobDeps {
  readonly observability: Observability;
}

export function eraseHandler(deps: EraseHandlerDeps) {
  return (event: unknown, context?: InvocationContext): Promise<EraseReport> =>
    runJob(
      deps.observability,
      "Erase",
      context,
      () => runErase(deps, parseEvent(eraseInputSchema, event, "event")),
      // An erasure that left parts it could not scrub has not finished: the invocation fails, naming them.
      eraseFailed,
    );
}

/** What the function needs, built from the environment (see `runtime/wiring/`). */
export function eraseDependencies(container: Container): EraseHandlerDeps {
  return {
    directory: userDirectory(container),
    profiles: profileStore(container),
    backups: backupStore(container),
    erasures: erasureLedger(container),
    restores: restoreStateStore(container),
    clock: container.clock,
    observability: container.observability("erase"),
  };
}

/** The function built on a container: what its Lambda entry point runs, and the local stack too. */
export const build = (container: Container) => eraseHandler(eraseDependencies(container));

/** The Lambda entry point: the function built from the environment, once per container. */
export const handler = lambdaHandler(build);
