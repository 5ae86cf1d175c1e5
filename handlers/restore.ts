/**
 * Manual invoke: restores users from backups into the same pool or another one.
 *
 * `{"action":"plan"}` works out what would happen and changes nothing; `{"action":"restore"}` plans, brings
 * the users back (import jobs by default, or AdminCreateUser with messages suppressed) and puts back groups,
 * memberships and disabled flags. The answer is a summary (counts, skipped users with reasons, what is
 * missing); the full plan never goes into the log.
 */
import { z } from "zod";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { Clock, Sleeper } from "../core/ports/clock.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { UserImportService } from "../core/ports/user-import.js";
import {
  type RestoreReport,
  type RestoreSource,
  type RestoreStrategy,
  restoreUsers,
} from "../core/use-cases/restore-users.js";
import { parseEvent } from "./event.js";
import { type InvocationContext, runJob } from "./invocation.js";
import type { Observability } from "./observability.js";
import { dependencies, lambdaHandler } from "./composition-root.js";

export const restoreEventSchema = z.strictObject({
  action: z.enum(["plan", "restore"]).default("plan"),
  source: z
    .union([z.enum(["latest", "user-backups"]), z.strictObject({ snapshotId: z.string().min(1) })])
    .default("latest"),
  strategy: z.enum(["import-job", "admin-create"]).default("import-job"),
  usernames: z.array(z.string().min(1)).min(1).optional(),
  /** Another pool to restore into; the stack's own pool when absent. */
  targetUserPoolId: z
    .string()
    .regex(/^[\w-]+_[0-9a-zA-Z]+$/, "must be a user pool id like eu-west-1_AbC123xyz")
    .optional(),
});

export type RestoreEvent = z.infer<typeof restoreEventSchema>;

export interface RestoreTarget {
  readonly directory: UserDirectory;
  /** Needed by the `import-job` strategy only. */
  readonly importer?: UserImportService;
}

export interface RestoreHandlerDeps {
  readonly backups: BackupStore;
  /** The directory and import service of a pool (the stack's own when `userPoolId` is undefined). */
  readonly target: (userPoolId: string | undefined, strategy: RestoreStrategy) => RestoreTarget;
  readonly clock: Clock;
  readonly sleeper: Sleeper;
  readonly observability: Observability;
}

export interface RestoreSummary {
  readonly action: RestoreEvent["action"];
  readonly planId: string;
  readonly strategy: string;
  readonly source: RestoreReport["plan"]["source"];
  readonly planned: number;
  readonly existing: number;
  readonly skipped: readonly { username: string; reason: string }[];
  readonly notFound: readonly string[];
  readonly malformedBackups: readonly string[];
  readonly restored?: number;
  readonly missing?: readonly string[];
  readonly groupsCreated?: number;
  readonly membershipsAdded?: number;
  readonly disabled?: number;
  readonly failed?: number;
  readonly failureCodes?: Readonly<Record<string, number>>;
  readonly complete: boolean;
}

export function restoreHandler(deps: RestoreHandlerDeps) {
  return (event: unknown, context?: InvocationContext): Promise<RestoreSummary> =>
    runJob(
      deps.observability,
      "Restore",
      context,
      async () => {
        const request = parseEvent(restoreEventSchema, event, "event");
        const target = deps.target(request.targetUserPoolId, request.strategy);
        const report = await restoreUsers(
          { ...target, backups: deps.backups, clock: deps.clock, sleeper: deps.sleeper },
          {
            source: toSource(request.source),
            strategy: request.strategy,
            ...(request.usernames ? { usernames: request.usernames } : {}),
            dryRun: request.action === "plan",
          },
        );
        return summarize(request.action, report);
      },
      (summary) => summary.action === "restore" && !summary.complete,
      // Usernames can be emails: the log gets counts only.
      (summary) => ({
        ...summary,
        skipped: summary.skipped.length,
        notFound: summary.notFound.length,
        missing: summary.missing?.length,
      }),
    );
}

function toSource(source: RestoreEvent["source"]): RestoreSource {
  return typeof source === "string" ? { kind: source } : { kind: "snapshot", snapshotId: source.snapshotId };
}

function summarize(action: RestoreEvent["action"], report: RestoreReport): RestoreSummary {
  const { plan, execution, finalization } = report;
  return {
    action,
    planId: plan.planId,
    strategy: plan.strategy,
    source: plan.source,
    planned: plan.users.length,
    existing: plan.existing.length,
    skipped: plan.skipped.map(({ username, reason }) => ({ username, reason })),
    notFound: plan.notFound,
    malformedBackups: plan.malformedBackups,
    ...(finalization
      ? {
          restored: finalization.restored,
          missing: finalization.missing,
          groupsCreated: finalization.groupsCreated,
          membershipsAdded: finalization.membershipsAdded,
          disabled: finalization.disabled,
          failed: finalization.failed + (execution?.failed ?? 0),
          failureCodes: mergeCounts(execution?.failureCodes ?? {}, finalization.failureCodes),
        }
      : {}),
    complete: report.complete,
  };
}

function mergeCounts(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const merged: Record<string, number> = { ...a };
  for (const [code, count] of Object.entries(b)) merged[code] = (merged[code] ?? 0) + count;
  return merged;
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) => restoreHandler(dependencies.restore(container)));
