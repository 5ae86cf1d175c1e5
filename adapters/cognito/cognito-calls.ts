import {
  CognitoIdentityProviderClient,
  type CognitoIdentityProviderClientConfig,
} from "@aws-sdk/client-cognito-identity-provider";
import type { Clock, Sleeper } from "../../core/ports/clock.js";
import { asUnreachable } from "../shared/network-errors.js";
import { SlidingWindowRateLimiter } from "../shared/rate-limiter.js";
import { withRetry } from "../shared/retry.js";
import { systemClock, timerSleeper } from "../shared/time.js";
import {
  COGNITO_OPERATION_CATEGORY,
  type CognitoOperation,
  type CognitoQuotaCategory,
  DEFAULT_COGNITO_RATE_LIMITS,
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
 * retry throttling themselves, behind their rate limiter; with the SDK's standard mode on top, every
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
   * Calls per second per quota category, over {@link DEFAULT_COGNITO_RATE_LIMITS}; `undefined` for a category
   * turns its limit off. The quotas are account-wide: with several processes at once, give each a share.
   */
  readonly rateLimits?: Partial<Record<CognitoQuotaCategory, number | undefined>>;
  /** Attempts per call, the first included, while Cognito throttles. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff cap of the first retry, doubled per attempt. Default 100 ms. */
  readonly baseDelayMs?: number;
  /** Longest backoff. Default 5000 ms. */
  readonly maxDelayMs?: number;
}

/** The service name errors and logs use for Cognito. */
const SERVICE = "Amazon Cognito";

/**
 * Runs Cognito calls the way both adapters need them: each attempt waits for its quota category's limiter,
 * throttling (TooManyRequestsException, LimitExceededException) is retried with exponential backoff and full
 * jitter, and a connection failure becomes one `SERVICE.UNREACHABLE` error at once, never retried.
 */
export class CognitoCalls {
  private readonly limiter: SlidingWindowRateLimiter<CognitoQuotaCategory>;
  private readonly sleeper: Sleeper;

  constructor(private readonly options: CognitoPacingOptions = {}) {
    this.sleeper = options.sleeper ?? timerSleeper;
    this.limiter = new SlidingWindowRateLimiter<CognitoQuotaCategory>(
      { ...DEFAULT_COGNITO_RATE_LIMITS, ...options.rateLimits },
      { clock: options.clock ?? systemClock, sleeper: this.sleeper },
    );
  }

  /**
   * Runs `call` (one request of `operation`) under the limiter and retry policy.
   *
   * @throws LifecycleError `SERVICE.UNREACHABLE` when Cognito cannot be reached; otherwise the call's own
   *   error, the last one when throttling outlasted every attempt.
   */
  async run<T>(operation: CognitoOperation, call: () => Promise<T>): Promise<T> {
    const category = COGNITO_OPERATION_CATEGORY[operation];
    try {
      return await withRetry(
        async () => {
          await this.limiter.acquire(category);
          return call();
        },
        {
          sleeper: this.sleeper,
          maxAttempts: this.options.maxAttempts,
          baseDelayMs: this.options.baseDelayMs,
          maxDelayMs: this.options.maxDelayMs,
          random: this.options.random,
        },
      );
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
