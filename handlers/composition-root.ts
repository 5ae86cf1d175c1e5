/**
 * The one place that builds AWS clients and adapters, from the environment validated by {@link EnvReader}.
 * Each function builds what its handler needs once per container (see {@link lambdaHandler}); the local
 * stack and the CLI call the same builders with their own environment (endpoints of the local stand-ins).
 *
 * Clients get short timeouts and few attempts: a trigger has five seconds, and an unreachable endpoint must
 * give one clear error, not minutes of retries.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { drizzle } from "drizzle-orm/mysql2";
import type { Pool } from "mysql2";
import { CognitoCalls, createCognitoClient } from "../adapters/cognito/cognito-calls.js";
import { CognitoUserDirectory } from "../adapters/cognito/user-directory.js";
import { CognitoUserImport } from "../adapters/cognito/user-import.js";
import { DynamoProfileStore } from "../adapters/dynamodb/profile-store.js";
import { MysqlAccountStore } from "../adapters/mysql/account-store.js";
import { createAccountsPool } from "../adapters/mysql/pool.js";
import { S3BackupStore } from "../adapters/s3/backup-store.js";
import { SecretDatabaseCredentials } from "../adapters/secrets/database-credentials.js";
import { systemClock, timerSleeper } from "../adapters/shared/time.js";
import type { AccountStore } from "../core/ports/account-store.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { Clock, Sleeper } from "../core/ports/clock.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { UserImportService } from "../core/ports/user-import.js";
import { EnvReader } from "./env.js";
import type { EraseHandlerDeps } from "./erase.js";
import { type Observability, powertoolsObservability } from "./observability.js";
import type { PostConfirmationDeps } from "./post-confirmation.js";
import type { PurgeAccountsHandlerDeps } from "./purge-unconfirmed-accounts.js";
import type { PurgeIdentitiesHandlerDeps } from "./purge-unconfirmed-identities.js";
import type { RestoreHandlerDeps } from "./restore.js";
import type { SnapshotAndReconcileDeps } from "./snapshot-and-reconcile.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Clients and adapters of one process, built on first use. Only what a function touches is built (and so
 * only its variables are required).
 */
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

  /** Static credentials only for local stand-ins; on AWS the default chain (the function's role) is used. */
  private localCredentials(endpoint: string | undefined) {
    if (endpoint === undefined) return {};
    return {
      credentials: {
        accessKeyId: this.env.optionalText("AWS_ACCESS_KEY_ID") ?? "local",
        secretAccessKey: this.env.optionalText("AWS_SECRET_ACCESS_KEY") ?? "local",
      },
    };
  }

  private clientOptions(endpointVariable: string, requestTimeoutMs: number) {
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

  /** Shared by every Cognito adapter of the process, so the quotas add up across them. */
  private get cognitoCalls(): CognitoCalls {
    return this.once("cognitoCalls", () => new CognitoCalls());
  }

  private get cognitoClient() {
    return this.once("cognitoClient", () => {
      const endpoint = this.env.optionalUrl("COGNITO_ENDPOINT");
      return createCognitoClient({
        region: this.region,
        ...(endpoint === undefined ? {} : { endpoint }),
        ...this.localCredentials(endpoint),
      });
    });
  }

  get userPoolId(): string {
    return this.once("userPoolId", () => this.env.userPoolId("USER_POOL_ID"));
  }

  /** The directory of the stack's pool, or of another pool (a restore into a new pool). */
  directory(userPoolId: string = this.userPoolId): UserDirectory {
    return this.once(
      `directory:${userPoolId}`,
      () => new CognitoUserDirectory(this.cognitoClient, userPoolId, { calls: this.cognitoCalls }),
    );
  }

  importer(userPoolId: string = this.userPoolId): UserImportService {
    return this.once(
      `importer:${userPoolId}`,
      () =>
        new CognitoUserImport(this.cognitoClient, userPoolId, {
          cloudWatchLogsRoleArn: this.env.arn("IMPORT_LOGS_ROLE_ARN", "iam"),
          calls: this.cognitoCalls,
        }),
    );
  }

  get profiles(): ProfileStore {
    return this.once("profiles", () => {
      const client = new DynamoDBClient(this.clientOptions("DYNAMODB_ENDPOINT", 2_000));
      return new DynamoProfileStore(
        DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
        this.env.text("PROFILE_TABLE"),
      );
    });
  }

  get backups(): BackupStore {
    return this.once("backups", () => {
      const client = new S3Client({
        ...this.clientOptions("S3_ENDPOINT", 10_000),
        forcePathStyle: this.env.flag("S3_FORCE_PATH_STYLE", false),
      });
      const kmsKeyId = this.env.optionalText("BACKUP_KMS_KEY_ID");
      return new S3BackupStore(client, this.env.text("BACKUP_BUCKET"), {
        ...(kmsKeyId ? { kmsKeyId } : {}),
        // Off only for the local stack's s3rver, which implements no versioning.
        versionListing: this.env.flag("S3_VERSION_LISTING", true),
      });
    });
  }

  /**
   * The accounts store. Credentials come from the secret `ACCOUNTS_DB_SECRET_ARN` (read again when
   * `refreshCredentials`); without a secret (the local stack only) from `ACCOUNTS_DB_USER` and
   * `ACCOUNTS_DB_PASSWORD`. Host, port and database name in the secret win over `ACCOUNTS_DB_HOST`,
   * `ACCOUNTS_DB_PORT`, `ACCOUNTS_DB_NAME`.
   */
  async accounts(
    options: { refreshCredentials: boolean } = { refreshCredentials: false },
  ): Promise<AccountStore> {
    const cached = this.cache.get("accounts") as { store: AccountStore; pool: Pool } | undefined;
    if (cached && !options.refreshCredentials) return cached.store;
    if (cached) await new Promise<void>((resolve) => cached.pool.end(() => resolve()));
    const login = await this.accountsLogin(options.refreshCredentials);
    const pool = createAccountsPool({ ...login, tls: this.env.flag("ACCOUNTS_DB_TLS", true) });
    const columns = {
      ...optional("id", this.env.optionalText("ACCOUNTS_ID_COLUMN")),
      ...optional("confirmedAt", this.env.optionalText("ACCOUNTS_CONFIRMED_AT_COLUMN")),
      ...optional("confirmationSentAt", this.env.optionalText("ACCOUNTS_CONFIRMATION_SENT_AT_COLUMN")),
    };
    const store = new MysqlAccountStore(drizzle({ client: pool }), {
      ...optional("table", this.env.optionalText("ACCOUNTS_TABLE")),
      columns,
    });
    this.cache.set("accounts", { store, pool });
    return store;
  }

  private async accountsLogin(refresh: boolean) {
    const host = this.env.optionalText("ACCOUNTS_DB_HOST");
    const name = this.env.optionalText("ACCOUNTS_DB_NAME");
    const port = this.env.integer("ACCOUNTS_DB_PORT", 3306, 1, 65_535);
    const secretArn = this.env.optionalText("ACCOUNTS_DB_SECRET_ARN");
    if (secretArn === undefined) {
      return {
        host: this.env.text("ACCOUNTS_DB_HOST"),
        port,
        database: this.env.text("ACCOUNTS_DB_NAME"),
        user: this.env.text("ACCOUNTS_DB_USER"),
        password: this.env.text("ACCOUNTS_DB_PASSWORD"),
      };
    }
    const credentials = this.once("secret", () => {
      const client = new SecretsManagerClient(this.clientOptions("SECRETS_MANAGER_ENDPOINT", 3_000));
      return new SecretDatabaseCredentials(new SecretsProvider({ awsSdkV3Client: client }), secretArn, {
        fallback: { ...optional("host", host), ...optional("dbname", name), port },
      });
    });
    const secret = await credentials.get({ refresh });
    return {
      host: secret.host,
      port: secret.port,
      database: secret.dbname,
      user: secret.username,
      password: secret.password,
    };
  }

  /** Ends what keeps the process alive (the database pool): for the CLI and the local stack. */
  async close(): Promise<void> {
    const cached = this.cache.get("accounts") as { pool: Pool } | undefined;
    if (cached) await new Promise<void>((resolve) => cached.pool.end(() => resolve()));
    this.cache.delete("accounts");
  }

  private once<T>(key: string, build: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, build());
    return this.cache.get(key) as T;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** What each function needs, from the container. */
export const dependencies = {
  postConfirmation(container: Container): PostConfirmationDeps {
    return {
      profiles: container.profiles,
      backups: container.backups,
      clock: container.clock,
      observability: container.observability("post-confirmation"),
      failureMode: container.env.choice("SYNC_FAILURE_MODE", ["continue", "fail"], "continue"),
      deadlineMs: container.env.integer("SYNC_DEADLINE_MS", 3_000, 500, 4_500),
    };
  },
  purgeUnconfirmedIdentities(container: Container): PurgeIdentitiesHandlerDeps {
    return {
      directory: container.directory(),
      clock: container.clock,
      observability: container.observability("purge-unconfirmed-identities"),
      policy: container.env.purgePolicy("PURGE_POLICY"),
    };
  },
  purgeUnconfirmedAccounts(container: Container): PurgeAccountsHandlerDeps {
    return {
      accounts: (options) => container.accounts(options),
      clock: container.clock,
      observability: container.observability("purge-unconfirmed-accounts"),
      policy: container.env.purgePolicy("PURGE_POLICY"),
      batchSize: container.env.integer("PURGE_BATCH_SIZE", 500, 1, 10_000),
    };
  },
  snapshotAndReconcile(container: Container): SnapshotAndReconcileDeps {
    return {
      directory: container.directory(),
      profiles: container.profiles,
      backups: container.backups,
      clock: container.clock,
      observability: container.observability("snapshot-and-reconcile"),
      userPoolId: container.userPoolId,
    };
  },
  restore(container: Container): RestoreHandlerDeps {
    return {
      backups: container.backups,
      // The import service (and its role variable) only when the restore uses import jobs.
      target: (userPoolId, strategy) => ({
        directory: container.directory(userPoolId),
        ...(strategy === "import-job" ? { importer: container.importer(userPoolId) } : {}),
      }),
      clock: container.clock,
      sleeper: container.sleeper,
      observability: container.observability("restore"),
    };
  },
  erase(container: Container): EraseHandlerDeps {
    return {
      directory: container.directory(),
      profiles: container.profiles,
      backups: container.backups,
      observability: container.observability("erase"),
    };
  },
} as const;

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
