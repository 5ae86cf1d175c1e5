/**
 * Scheduled: deletes pool users still UNCONFIRMED after the policy's age (dry run, cap and report included).
 * The purge is a sequence of durable steps (`identityPurgeStep`); for now this function runs them one after
 * another within its own invocation, until the plan is carried out or the invocation's time is nearly up
 * (the report then says `time-budget` and defers the rest to the next run).
 */
import type { Clock } from "../core/ports/clock.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { checkIdentityPurgePolicy, type PurgePolicy, type PurgeReport } from "../core/purge/index.js";
import { purgeUnconfirmedIdentities } from "../core/use-cases/purge-unconfirmed-identities.js";
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
  const policy = purgePolicyOf(container.env);
  // A cap whose plan could not travel between the purge's steps fails at start, naming the setting.
  checkIdentityPurgePolicy(policy, "PURGE_POLICY");
  return {
    directory: userDirectory(container),
    clock: container.clock,
    observability: container.observability("purge-unconfirmed-identities"),
    policy,
  };
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) =>
  purgeUnconfirmedIdentitiesHandler(purgeUnconfirmedIdentitiesDependencies(container)),
);
