/**
 * Scheduled, inside the VPC: the accounts purge job (jobs/purge-accounts), within the invocation. The
 * database credentials come from Secrets Manager.
 */
import type { PurgeReport } from "../core/purge/index.js";
import {
  purgeAccountsFailed,
  purgeAccountsInputSchema,
  type PurgeAccountsJobDeps,
  runPurgeAccounts,
} from "../jobs/purge-accounts/index.js";
import { parseEvent } from "../runtime/event.js";
import { type InvocationContext, invocationDeadline, runJob } from "../runtime/invocation.js";
import type { Observability } from "../runtime/observability.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { accountStore } from "../runtime/wiring/accounts.js";
import { accountsPurgeSizesOf, purgePolicyOf } from "../runtime/purge-policy.js";
import { purgeMetrics } from "./purge-metrics.js";

export interface PurgeAccountsHandlerDeps extends PurgeAccountsJobDeps {
  readonly observability: Observability;
}

export function purgeUnconfirmedAccountsHandler(deps: PurgeAccountsHandlerDeps) {
  return (event: unknown, context?: InvocationContext): Promise<PurgeReport> =>
    runJob(
      deps.observability,
      "PurgeUnconfirmedAccounts",
      context,
      async () => {
        const input = parseEvent(purgeAccountsInputSchema, event, "event");
        const report = await runPurgeAccounts(deps, input, {
          deadline: invocationDeadline(deps.clock, context, 14 * 60_000),
          onLoginRefused: () =>
            deps.observability.log.warn("Database login refused; reading the secret again", {
              errorCode: "DATABASE.AUTH_FAILED",
            }),
        });
        purgeMetrics(deps.observability, report);
        return report;
      },
      purgeAccountsFailed,
    );
}

/** What the function needs, built from the environment (see `runtime/wiring/`). */
export function purgeUnconfirmedAccountsDependencies(container: Container): PurgeAccountsHandlerDeps {
  return {
    accounts: (options) => accountStore(container, options),
    clock: container.clock,
    observability: container.observability("purge-unconfirmed-accounts"),
    policy: purgePolicyOf(container.env),
    ...accountsPurgeSizesOf(container.env),
  };
}

/** The function built on a container: what its Lambda entry point runs, and the local stack too. */
export const build = (container: Container) =>
  purgeUnconfirmedAccountsHandler(purgeUnconfirmedAccountsDependencies(container));

/** The Lambda entry point: the function built from the environment, once per container. */
export const handler = lambdaHandler(build);
