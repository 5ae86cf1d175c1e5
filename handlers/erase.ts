/** Manual invoke: erases one person from the pool, the profile table, every backup version and every snapshot. */
import { z } from "zod";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { type EraseReport, eraseUser } from "../core/use-cases/erase-user.js";
import { parseEvent } from "./event.js";
import { type InvocationContext, runJob } from "./invocation.js";
import type { Observability } from "./observability.js";
import { dependencies, lambdaHandler } from "./composition-root.js";

export const eraseEventSchema = z
  .strictObject({
    username: z.string().min(1).optional(),
    userId: z.string().min(1).optional(),
  })
  .refine((event) => event.username !== undefined || event.userId !== undefined, {
    message: "give a username, a userId, or both",
  });

export interface EraseHandlerDeps {
  readonly directory: UserDirectory;
  readonly profiles: ProfileStore;
  readonly backups: BackupStore;
  readonly observability: Observability;
}

export function eraseHandler(deps: EraseHandlerDeps) {
  return (event: unknown, context?: InvocationContext): Promise<EraseReport> =>
    runJob(
      deps.observability,
      "Erase",
      context,
      () => eraseUser(deps, parseEvent(eraseEventSchema, event, "event")),
      () => false,
    );
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) => eraseHandler(dependencies.erase(container)));
