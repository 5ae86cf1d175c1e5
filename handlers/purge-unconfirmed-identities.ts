/** Scheduled: deletes pool users still UNCONFIRMED after the policy's age (dry run, cap and report included). */
import type { Clock } from "../core/ports/clock.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { PurgePolicy, PurgeReport } from "../core/purge/index.js";
import { purgeUnconfirmedIdentities } from "../core/use-cases/purge-unconfirmed-identities.js";
import { type InvocationContext, invocationDeadline, runJob } from "./invocation.js";
import type { Observability } from "./observability.js";
import { purgeMetrics } from "./purge-metrics.js";
import { dependencies, lambdaHandler } from "./composition-root.js";

export interface PurgeIdentitiesHandlerDeps {
  readonly directory: UserDirectory;
  readonly clock: Clock;
  readonly observability: Observability;
  readonly policy: PurgePolicy;
}

export function purgeUnconfirmedIdentitiesHandler(deps: PurgeIdentitiesHandlerDeps) {
  return (_event: unknown, context?: InvocationContext): Promise<PurgeReport> =>
    runJob(
      deps.observability,
      "PurgeUnconfirmedIdentities",
      context,
      async () => {
        const report = await purgeUnconfirmedIdentities(deps, {
          policy: deps.policy,
          deadline: invocationDeadline(deps.clock, context, 14 * 60_000),
        });
        purgeMetrics(deps.observability, report);
        return report;
      },
      (report) => report.failed > 0,
    );
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) =>
  purgeUnconfirmedIdentitiesHandler(dependencies.purgeUnconfirmedIdentities(container)),
);
