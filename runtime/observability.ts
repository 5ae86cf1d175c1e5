/**
 * What a handler reports: structured logs and counters. Handlers depend on these two small interfaces;
 * production uses Powertools (JSON logs with the Lambda request id, metrics as CloudWatch EMF), tests pass a
 * recorder. Nothing logged here carries an email or a phone number: handlers log ids, counts and error codes.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

export type LogAttributes = Readonly<Record<string, unknown>>;

export interface HandlerLog {
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  error(message: string, attributes?: LogAttributes): void;
}

export interface HandlerMetrics {
  /** Adds `value` (default 1) to the counter `name` of this invocation. */
  count(name: string, value?: number): void;
  /** Flushes this invocation's counters (one EMF document). */
  publish(): void;
}

export interface Observability {
  readonly log: HandlerLog;
  readonly metrics: HandlerMetrics;
  /** Tags the logs of one invocation with its request id (the correlation id across a run's lines). */
  startInvocation(context?: { awsRequestId?: string; functionName?: string }): void;
}

/** The metrics namespace every function publishes to. */
export const METRICS_NAMESPACE = "CognitoUserLifecycle";

/**
 * Counted (with the function's `service` dimension) whenever a write met a stable user id bound to another
 * username and was refused: someone set `custom:legacy_sub` to another person's id. An alarm watches it.
 */
export const IDENTITY_BINDING_CONFLICTS_METRIC = "IdentityBindingConflicts";

/**
 * Counted by the Post Confirmation trigger when it failed a sign-up confirmation because the user is disabled
 * or gone: the trigger half of the identity purge's fence (`core/purge/fence.ts`). Expected, never a fault:
 * it has no alarm of its own, and the trigger's errors alarm leaves these failures out.
 */
export const CONFIRMATION_HELD_BY_FENCE_METRIC = "ConfirmationHeldByFence";

/**
 * Counted by the Post Confirmation trigger when it could not read the confirming user to check the fence
 * (Cognito throttled or unreachable, or the read passed its budget). An alarm watches it.
 */
export const CONFIRMATION_FENCE_UNCHECKED_METRIC = "ConfirmationFenceUnchecked";

/** Powertools-backed observability for one function. */
export function powertoolsObservability(serviceName: string): Observability {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const attributes = (extra?: LogAttributes) => (extra ? { ...extra } : {});
  return {
    log: {
      info: (message, extra) => logger.info(message, attributes(extra)),
      warn: (message, extra) => logger.warn(message, attributes(extra)),
      error: (message, extra) => logger.error(message, attributes(extra)),
    },
    metrics: {
      count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
      publish: () => metrics.publishStoredMetrics(),
    },
    startInvocation: (context) => {
      logger.resetKeys();
      if (context?.awsRequestId) logger.appendKeys({ correlation_id: context.awsRequestId });
    },
  };
}
