/**
 * Manual invoke: erases one person — a tombstone in the erasure ledger first, then the pool, the profile
 * table, every backup version and every snapshot part. The function runs outside the VPC and has no access to
 * the application's accounts database: its report says the person's row there was not checked
 * (`NO_DATABASE_ACCESS`), and it takes no flag to delete it (the CLI's `erase --delete-account-row` does).
 */
import * as z from "zod/mini";
import "../core/validation.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { Clock } from "../core/ports/clock.js";
import type { ErasureLedger } from "../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { RestoreStateStore } from "../core/ports/restore-state-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { type EraseReport, eraseUser } from "../core/use-cases/erase-user.js";
import { parseEvent } from "../runtime/event.js";
import { type InvocationContext, runJob } from "../runtime/invocation.js";
import type { Observability } from "../runtime/observability.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { backupStore } from "../runtime/wiring/backups.js";
import { erasureLedger } from "../runtime/wiring/erasures.js";
import { restoreStateStore } from "../runtime/wiring/restores.js";
import { userDirectory } from "../runtime/wiring/cognito.js";
import { profileStore } from "../runtime/wiring/profiles.js";

export const eraseEventSchema = z
  .strictObject({
    username: z.optional(z.string().check(z.minLength(1))),
    userId: z.optional(z.string().check(z.minLength(1))),
  })
  .check(
    z.refine((event) => event.username !== undefined || event.userId !== undefined, {
      message: "give a username, a userId, or both",
    }),
  );

export interface EraseHandlerDeps {
  readonly directory: UserDirectory;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly erasures: ErasureLedger;
  readonly restores: RestoreStateStore;
  readonly clock: Clock;
  readonly observability: Observability;
}

export function eraseHandler(deps: EraseHandlerDeps) {
  return (event: unknown, context?: InvocationContext): Promise<EraseReport> =>
    runJob(
      deps.observability,
      "Erase",
      context,
      () =>
        eraseUser(
          // Exactly these: no accounts table, whatever else the caller's object holds.
          {
            directory: deps.directory,
            profiles: deps.profiles,
            backups: deps.backups,
            erasures: deps.erasures,
            restores: deps.restores,
            clock: deps.clock,
          },
          parseEvent(eraseEventSchema, event, "event"),
        ),
      // An erasure that left parts it could not scrub has not finished: the invocation fails, naming them.
      (report) => !report.complete,
    );
}

/** What the function needs, built from the environment (see `wiring/`). */
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

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) => eraseHandler(eraseDependencies(container)));
