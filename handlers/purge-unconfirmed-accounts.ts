/**
 * Scheduled, inside the VPC: deletes the application's `users` rows never confirmed within the policy's age,
 * in short batches. The database credentials come from Secrets Manager; a refused login is retried once
 * with the secret read again, in case the password was just rotated.
 */
import { errorCode } from "../core/errors.js";
import type { AccountStore } from "../core/ports/account-store.js";
import type { Clock } from "../core/ports/clock.js";
import type { PurgePolicy, PurgeReport } from "../core/purge/index.js";
import { purgeUnconfirmedAccounts } from "../core/use-cases/purge-unconfirmed-accounts.js";
import type { PurgeRunOptions } from "../core/use-cases/purge-unconfirmed-identities.js";
import { parseEvent, purgeEventSchema } from "../runtime/event.js";
import { type InvocationContext, invocationDeadline, runJob } from "../runtime/invocation.js";
import type { Observability } from "../runtime/observability.js";
import { purgeMetrics } from "./purge-metrics.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { accountStore } from "../runtime/wiring/accounts.js";
import { type AccountsPurgeSizes, accountsPurgeSizesOf, purgePolicyOf } from "../runtime/purge-policy.js";

export interface PurgeAccountsHandlerDeps extends AccountsPurgeSizes {
  /** Opens the store; `refreshCredentials` asks for the secret to be read again. */
  readonly accounts: (options: { refreshCredentials: boolean }) => Promise<AccountStore>;
  readonly clock: Clock;
  readonly observability: Observability;
  readonly policy: PurgePolicy;
  /** The CLI's hooks: carry out a preview's plan, keep the plan. */
  readonly run?: Pick<PurgeRunOptions, "previewed" | "onPlan">;
}

export function purgeUnconfirmedAccountsHandler(deps: PurgeAccountsHandlerDeps) {
  const run = async (accounts: AccountStore, policy: PurgePolicy, context?: InvocationContext) =>
    purgeUnconfirmedAccounts(
      { accounts, clock: deps.clock },
      {
        ...deps.run,
        policy,
        batchSize: deps.batchSize,
        lanes: deps.lanes,
        deadline: invocationDeadline(deps.clock, context, 14 * 60_000),
      },
    );
  return (event: unknown, context?: InvocationContext): Promise<PurgeReport> =>
    runJob(
      deps.observability,
      "PurgeUnconfirmedAccounts",
      context,
      async () => {
        const { dryRun } = parseEvent(purgeEventSchema, event, "event");
        const policy = dryRun ? { ...deps.policy, dryRun } : deps.policy;
        let report: PurgeReport;
        try {
          report = await run(await deps.accounts({ refreshCredentials: false }), policy, context);
        } catch (error) {
          if (errorCode(error) !== "DATABASE.AUTH_FAILED") throw error;
          deps.observability.log.warn("Database login refused; reading the secret again", {
            errorCode: "DATABASE.AUTH_FAILED",
          });
          report = await run(await deps.accounts({ refreshCredentials: true }), policy, context);
        }
        purgeMetrics(deps.observability, report);
        return report;
      },
      (report) => report.failed > 0,
    );
}

/** What the function needs, built from the environment (see `wiring/`). */
export function purgeUnconfirmedAccountsDependencies(container: Container): PurgeAccountsHandlerDeps {
  return {
    accounts: (options) => accountStore(container, options),
    clock: container.clock,
    observability: container.observability("purge-unconfirmed-accounts"),
    policy: purgePolicyOf(container.env),
    ...accountsPurgeSizesOf(container.env),
  };
}

/** The Lambda entry point: the handler built from the environment, once per container. */
export const handler = lambdaHandler((container) =>
  purgeUnconfirmedAccountsHandler(purgeUnconfirmedAccountsDependencies(container)),
);
