/** Scheduled: deletes pool users still UNCONFIRMED after the policy's age (dry run, cap and report included). */
import type { Clock } from "../core/ports/clock.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { PurgePolicy, PurgeReport } from "../core/purge/index.js";
import {
  purgeUnconfirmedIdentities,
  type PurgeRunOptions,
} from "../core/use-cases/purge-unconfirmed-identities.js";
import { parseEvent, purgeEventSchema } from "./event.js";
import { type InvocationContext, invocationDeadline, runJob } from "./invocation.js";
import type { Observability } from "./observability.js";
import { purgeMetrics } from "./purge-metrics.js";
import { type Container, lambdaHandler } from "./container.js";
import { userDirectory } from "./wiring/cognito.js";
import { purgePolicyOf } from "./purge-policy.js";

export interface PurgeIdentitiesHandlerDeps {
  readonly directory: UserDirectory;
  readonly clock: Clock;
  readonly observability: Observability;
  readonly policy: PurgePolicy;
  /** The CLI's hooks: carry out a preview's plan, keep the plan, hear of each deletion. */
  readonly run?: Pick<PurgeRunOptions, "previewed" | "onPlan" | "onDeleted">;
}

export function purgeUnconfirmedIdentitiesHandler(deps: PurgeIdentitiesHandlerDeps) {
  return (event: unknown, context?: InvocationContext): Promise<PurgeReport> =>
    runJob(
      deps.observability,
      "PurgeUnconfirmedIdentities",
      context,
      async () => {
        const { dryRun } = parseEvent(purgeEventSchema, event, "event");
        const report = await purgeUnconfirmedIdentities(deps, {
          ...deps.run,
          policy: dryRun ? { ...deps.policy, dryRun } : deps.policy,
          deadline: invocationDeadline(deps.clock, context, 14 * 60_000),
        });
        purgeMetrics(deps.observability, report);
        return report;
      },
      (report) => report.failed > 0,
    );
}

/** What the function needs, built from the environment (see `wiring/`). */
export function purgeUnconfirmedIdentitiesDependencies(container: Container): PurgeIdentitiesHandlerDeps {
  return {
    directory: userDirectory(container),
    clock: container.clock,
    observability: container.observability("purge-unconfirmed-identities"),
    policy: purgePolicyOf(container.env),
  };
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) =>
  purgeUnconfirmedIdentitiesHandler(purgeUnconfirmedIdentitiesDependencies(container)),
);
