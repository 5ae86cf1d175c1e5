/**
 * Scheduled: deletes pool users still UNCONFIRMED after the policy's age (dry run, cap and report included).
 * The purge is a sequence of durable steps (`identityPurgeStep`) behind the step-invocation protocol
 * (`stepped.ts`): the scheduler's `{}` or `{"dryRun":true}` runs the steps one after another within this
 * invocation, until the plan is carried out or the invocation's time is nearly up (the report then says
 * `time-budget` and defers the rest to the next run); a state machine's step event takes one step.
 */
import type { Clock } from "../core/ports/clock.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { checkIdentityPurgePolicy, type PurgePolicy, type PurgeReport } from "../core/purge/index.js";
import {
  identityPurgeReport,
  identityPurgeStep,
  type PurgeState,
  parsePurgeState,
  startIdentityPurge,
} from "../core/use-cases/purge-unconfirmed-identities.js";
import { purgeEventSchema } from "../runtime/event.js";
import type { InvocationContext } from "../runtime/invocation.js";
import type { Observability } from "../runtime/observability.js";
import { purgeMetrics } from "./purge-metrics.js";
import { steppedHandler } from "../runtime/stepped.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { userDirectory } from "../runtime/wiring/cognito.js";
import { purgePolicyOf } from "../runtime/purge-policy.js";

export interface PurgeIdentitiesHandlerDeps {
  readonly directory: UserDirectory;
  readonly clock: Clock;
  readonly observability: Observability;
  readonly policy: PurgePolicy;
}

export function purgeUnconfirmedIdentitiesHandler(
  deps: PurgeIdentitiesHandlerDeps,
): (event: unknown, context?: InvocationContext) => Promise<PurgeReport> {
  const handler = steppedHandler<PurgeState, { dryRun?: boolean | undefined }, PurgeReport>(deps, {
    job: "PurgeUnconfirmedIdentities",
    options: purgeEventSchema,
    start: ({ dryRun }) =>
      startIdentityPurge(deps.clock, { policy: dryRun ? { ...deps.policy, dryRun } : deps.policy }),
    parseState: parsePurgeState,
    step: identityPurgeStep(deps),
    report: (state) => identityPurgeReport(deps.clock, state),
    failed: (report) => report.failed > 0,
    publish: (report) => purgeMetrics(deps.observability, report),
  });
  // A scheduled event runs the whole purge and answers its report; a step event answers the step.
  return handler as (event: unknown, context?: InvocationContext) => Promise<PurgeReport>;
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

/** The function built on a container: what its Lambda entry point runs, and the local stack too. */
export const build = (container: Container) =>
  purgeUnconfirmedIdentitiesHandler(purgeUnconfirmedIdentitiesDependencies(container));

/** The Lambda entry point: the function built from the environment, once per container. */
export const handler = lambdaHandler(build);
