import {
  CognitoIdentityProviderClient,
  type CognitoIdentityProviderClientConfig,
} from "@aws-sdk/client-cognito-identity-provider";
import type { Clock, Sleeper } from "../../core/ports/clock.js";
import { asUnreachable } from "../shared/network-errors.js";
import { callDeadline } from "../shared/call-deadline.js";
import { AdaptiveRateLimiter } from "../shared/rate-limiter.js";
import { retryThrottled } from "../shared/retry.js";
import { systemClock, timerSleeper } from "../shared/time.js";
import {
  COGNITO_OPERATION_CATEGORY,
  type CognitoOperation,
  type CognitoQuotaCategory,
  COGNITO_QUOTAS,
} from "./quotas.js";

export interface CognitoClientSettings {
  readonly region: string;
  /** A local stand-in's URL; AWS's regional endpoint when absent. */
  readonly endpoint?: string;
  /** Leave out to use the default provider chain (the Lambda role); never put keys in code. */
  readonly credentials?: CognitoIdentityProviderClientConfig["credentials"];
  /** How long to wait for a TCP connection. Default 3000 ms. */
  readonly connectionTimeoutMs?: number;
  /** How long a request may go without an answer. Default 10000 ms. */
  readonly requestTimeoutMs?: number;
}

/**
 * The Cognito client the adapters expect: the SDK's own retries are off (`maxAttempts: 1`). The adapters
 * pace and retry throttling themselves ({@link CognitoCalls}); with the SDK's standard mode on top, every
 * attempt of theirs would become up to three requests, and an unreachable endpoint would be retried before
 * it is reported. Connections and requests time out, so a wrong endpoint fails in seconds, not minutes.
 */
export function createCognitoClient(settings: CognitoClientSettings): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: settings.connectionTimeoutMs ?? 3000,
      requestTimeout: settings.requestTimeoutMs ?? 10_000,
      // Without it the handler only logs a warning when the request timeout passes, and keeps waiting.
      throwOnRequestTimeout: true,
    },
  });
}

/** How the adapters pace and retry their calls. Every field has a production default. */
export interface CognitoPacingOptions {
  readonly clock?: Clock;
  readonly sleeper?: Sleeper;
  /** For the retry jitter; a number in [0, 1). */
  readonly random?: () => number;
  /**
   * The most calls per second this process makes per quota category, over the defaults (Cognito's quotas,
   * {@link COGNITO_QUOTAS}, less room for the app's sign-ups in UserCreation); `undefined` for a category
   * turns its pacing off. Lower one to leave room for callers that
   * do not pace themselves (the app's own sign-ups count against UserCreation).
   */
  readonly rateLimits?: Partial<Record<CognitoQuotaCategory, number | undefined>>;
  /** The share of each category's quota a process starts at, before it learns of other callers. Default 0.5. */
  readonly startShare?: number;
  /** Backoff cap of the first retry after a throttle, doubled per throttle in a row. Default 100 ms. */
  readonly baseDelayMs?: number;
  /** Longest backoff. Default 5000 ms. */
  readonly maxDelayMs?: number;
  /**
   * Time kept back before the caller's deadline (`withCallDeadline`) for the call itself: no attempt
   * starts later. Default 10,000 ms, the request timeout of {@link createCognitoClient}.
   */
  readonly deadlineMarginMs?: number;
  /**
   * How long a call keeps waiting out throttling when its caller gave no deadline. Default 15 minutes, the
   * longest a Lambda function runs.
   */
  readonly maxThrottledMs?: number;
}

/**
 * The most calls per second a process makes per category, by default: Cognito's quota, except where callers
 * that do not pace themselves share it. The app's SignUp and ConfirmSignUp count against UserCreation, so a
 * restore by AdminCreateUser leaves them 8 of its 50 a second.
 */
const DEFAULT_CEILINGS: Readonly<Record<CognitoQuotaCategory, number>> = {
  ...COGNITO_QUOTAS,
  UserCreation: COGNITO_QUOTAS.UserCreation - 8,
};

/** The service name errors and logs use for Cognito. */
const SERVICE = "Amazon Cognito";

/**
 * Runs Cognito calls the way both adapters need them. Each quota category is a lane of an
 * {@link AdaptiveRateLimiter}: calls start at a share of Cognito's quota, slow down when Cognito throttles
 * (TooManyRequestsException, LimitExceededException: another caller shares the quota) and speed up again
 * while it does not, up to the quota. A throttled call is never a failure: it waits (jittered backoff, then
 * its lane's next turn) and goes again, however many times it takes, until the caller's deadline — then
 * QuotaDeadlineError, so a step stops and resumes rather than fails. A connection failure becomes one
 * `SERVICE.UNREACHABLE` error at once, never retried; every other error is Cognito's answer, thrown as it is.
 *
 * One instance per process, shared by its adapters: its lanes are what the process knows of the quotas.
 */
export class CognitoCalls {
  private readonly limiter: AdaptiveRateLimiter<CognitoQuotaCategory>;
  private readonly clock: Clock;
  private readonly sleeper: Sleeper;

  /** @throws ValidationError `CONFIG.INVALID` for a rate limit or share out of range. */
  constructor(private readonly options: CognitoPacingOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.sleeper = options.sleeper ?? timerSleeper;
    this.limiter = new AdaptiveRateLimiter<CognitoQuotaCategory>(
      { ...DEFAULT_CEILINGS, ...options.rateLimits },
      {
        clock: this.clock,
        sleeper: this.sleeper,
        ...(options.startShare === undefined ? {} : { startShare: options.startShare }),
      },
    );
  }

  /** The rate `category`'s calls go at now, in calls per second (undefined when not paced). */
  rateOf(category: CognitoQuotaCategory): number | undefined {
    return this.limiter.rateOf(category);
  }

  /**
   * Runs `call` (one request of `operation`) under its category's pacing, retrying throttling.
   *
   * @throws QuotaDeadlineError `QUOTA.DEADLINE_REACHED` when Cognito throttled the call until the caller's
   *   deadline (less `deadlineMarginMs`), or `maxThrottledMs` without one; LifecycleError
   *   `SERVICE.UNREACHABLE` when Cognito cannot be reached; otherwise the call's own error.
   */
  async run<T>(operation: CognitoOperation, call: () => Promise<T>): Promise<T> {
    const category = COGNITO_OPERATION_CATEGORY[operation];
    const deadline = callDeadline();
    const giveUpAt =
      deadline === undefined
        ? this.clock.now().getTime() + (this.options.maxThrottledMs ?? 15 * 60_000)
        : deadline.getTime() - (this.options.deadlineMarginMs ?? 10_000);
    try {
      return await retryThrottled(call, {
        operation,
        clock: this.clock,
        sleeper: this.sleeper,
        giveUpAt,
        turn: (notAfter) => this.limiter.acquire(category, notAfter),
        onAnswered: () => this.limiter.answered(category),
        onThrottled: () => this.limiter.throttled(category),
        ...(this.options.baseDelayMs === undefined ? {} : { baseDelayMs: this.options.baseDelayMs }),
        ...(this.options.maxDelayMs === undefined ? {} : { maxDelayMs: this.options.maxDelayMs }),
        ...(this.options.random === undefined ? {} : { random: this.options.random }),
      });
    } catch (error) {
      throw asUnreachable(SERVICE, operation, error) ?? error;
    }
  }
}

/** True when `error` is the Cognito exception named `name` (matched by name: works for every SDK copy). */
export function isCognitoError(error: unknown, ...names: readonly string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/**
 * True for Cognito's ResourceNotFoundException about a thing in the pool (a group, an import job). A missing
 * pool is reported with the same exception, naming the pool: that one is a configuration error and stays as
 * it is rather than reading as "no such group".
 */
export function isMissingPoolResource(error: unknown): boolean {
  return isCognitoError(error, "ResourceNotFoundException") && !/user ?pool/i.test((error as Error).message);
}
