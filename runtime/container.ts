/**
 * What every function of a process shares, built once per cold start: the environment validated by
 * {@link EnvReader}, the clock, observability and the common client options. The adapters themselves are
 * built by the modules of `wiring/`, one per technology, so a function's bundle holds only the adapters it
 * uses: post-confirmation carries no MySQL driver, the accounts purge no Cognito client.
 *
 * Clients get short timeouts and few attempts: a trigger has five seconds, and an unreachable endpoint must
 * give one clear error, not minutes of retries.
 */
import { systemClock, timerSleeper } from "../adapters/shared/time.js";
import type { Clock, Sleeper } from "../core/ports/clock.js";
import { EnvReader } from "./env.js";
import { type Observability, powertoolsObservability } from "./observability.js";

export type Environment = Readonly<Record<string, string | undefined>>;

export class Container {
  readonly env: EnvReader;
  readonly clock: Clock = systemClock;
  readonly sleeper: Sleeper = timerSleeper;
  private readonly cache = new Map<string, unknown>();

  constructor(
    environment: Environment = process.env,
    private readonly observabilityFor: (service: string) => Observability = powertoolsObservability,
  ) {
    this.env = new EnvReader(environment);
  }

  observability(service: string): Observability {
    return this.once(`observability:${service}`, () => this.observabilityFor(service));
  }

  get region(): string {
    return this.once("region", () => this.env.text("AWS_REGION"));
  }

  get userPoolId(): string {
    return this.once("userPoolId", () => this.env.userPoolId("USER_POOL_ID"));
  }

  /** Static credentials only for local stand-ins; on AWS the default chain (the function's role) is used. */
  localCredentials(endpoint: string | undefined) {
    if (endpoint === undefined) return {};
    return {
      credentials: {
        accessKeyId: this.env.optionalText("AWS_ACCESS_KEY_ID") ?? "local",
        secretAccessKey: this.env.optionalText("AWS_SECRET_ACCESS_KEY") ?? "local",
      },
    };
  }

  /** Options of an SDK client: region, the endpoint variable's value if set, short timeouts, 2 attempts. */
  clientOptions(endpointVariable: string, requestTimeoutMs: number) {
    const endpoint = this.env.optionalUrl(endpointVariable);
    return {
      region: this.region,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...this.localCredentials(endpoint),
      maxAttempts: 2,
      requestHandler: {
        connectionTimeout: 2_000,
        requestTimeout: requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    };
  }

  /** The value `build` returns for `key`, built on first use and kept for the life of the process. */
  once<T>(key: string, build: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, build());
    return this.cache.get(key) as T;
  }

  /** What `once` holds for `key`, without building it. */
  cached<T>(key: string): T | undefined {
    return this.cache.get(key) as T | undefined;
  }

  /** Replaces what `once` holds for `key` (`undefined` forgets it). */
  remember(key: string, value: unknown): void {
    if (value === undefined) this.cache.delete(key);
    else this.cache.set(key, value);
  }
}

/**
 * A Lambda entry point that builds its handler on the first invocation of the container and keeps it: a
 * bad or missing variable fails that invocation with an error naming the variable (and every later one,
 * until fixed), and nothing is written.
 */
export function lambdaHandler<E, C, R>(
  build: (container: Container) => (event: E, context?: C) => Promise<R>,
): (event: E, context?: C) => Promise<R> {
  let built: ((event: E, context?: C) => Promise<R>) | undefined;
  return async (event, context) => {
    built ??= build(new Container());
    return built(event, context);
  };
}
