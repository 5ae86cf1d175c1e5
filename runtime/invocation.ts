import { withCallDeadline } from "../adapters/shared/call-deadline.js";
import { systemClock } from "../adapters/shared/time.js";
import { errorCode } from "../core/errors.js";
import type { Clock } from "../core/ports/clock.js";
import type { Observability } from "./observability.js";

/** The part of the Lambda context the handlers use. */
export interface InvocationContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

/** Time kept back from the Lambda timeout to log the report and return. */
export const DEADLINE_MARGIN_MS = 30_000;

/**
 * The instant a long run must stop starting new work: the invocation's end minus a margin, or `fallbackMs`
 * from now when there is no Lambda context (the CLI, tests).
 */
export function invocationDeadline(
  clock: Clock,
  context: InvocationContext | undefined,
  fallbackMs: number,
): Date {
  const remaining = context?.getRemainingTimeInMillis?.() ?? fallbackMs;
  return new Date(clock.now().getTime() + Math.max(0, remaining - DEADLINE_MARGIN_MS));
}

/** Thrown to fail an invocation whose run reported failures, so the function's error alarm fires. */
export class RunFailedError extends Error {
  override name = "RunFailedError";
  constructor(
    readonly job: string,
    readonly report: unknown,
  ) {
    super(`${job} finished with failures; see the report in the log`);
  }
}

/**
 * Runs one scheduled or manual job: tags the logs with the request id, logs the report (counts and codes
 * only), publishes metrics, and fails the invocation — never swallows — when the job threw or `failed` says
 * the report holds failures.
 */
export async function runJob<R>(
  observability: Observability,
  job: string,
  context: InvocationContext | undefined,
  work: () => Promise<R>,
  failed: (report: R) => boolean,
  /** What of the report goes to the log, when not all of it may (e.g. an erased user's id). */
  loggable: (report: R) => unknown = (report) => report,
): Promise<R> {
  const { log, metrics } = observability;
  observability.startInvocation(context);
  const remaining = context?.getRemainingTimeInMillis?.();
  try {
    // The invocation's end is every call's deadline: a call Cognito throttles until then fails with
    // QUOTA.DEADLINE_REACHED before Lambda stops the function, rather than being cut off by the timeout.
    const report =
      remaining === undefined
        ? await work()
        : await withCallDeadline(new Date(systemClock.now().getTime() + remaining), work);
    if (failed(report)) {
      metrics.count(`${job}Failed`);
      log.error(`${job} finished with failures`, { report: loggable(report) });
      throw new RunFailedError(job, report);
    }
    metrics.count(`${job}Succeeded`);
    log.info(`${job} finished`, { report: loggable(report) });
    return report;
  } catch (error) {
    if (!(error instanceof RunFailedError)) {
      metrics.count(`${job}Failed`);
      log.error(`${job} failed`, { errorCode: errorCode(error) });
    }
    throw error;
  } finally {
    metrics.publish();
  }
}
