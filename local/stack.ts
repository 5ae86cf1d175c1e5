/**
 * The local stack behind `npm start` and the e2e tests: the local Cognito (cognito-local with this project's
 * layer in front, see ./cognito/server.ts), dynalite, s3rver and (when Debian's
 * mariadb-server is installed) MariaDB on 127.0.0.1, the pool, table, bucket and database this system
 * expects, and a local Lambda Invoke endpoint that runs the real handlers, built once from
 * `new Container(env)` with the same `env` written to `.local/stack.json` for the CLI (`--local`).
 *
 * The local Cognito calls the endpoint for Post Confirmation (ConfirmSignUp, AdminConfirmSignUp,
 * ConfirmForgotPassword), so a real confirmation from any AWS SDK records the user exactly as in AWS.
 */
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { drizzle } from "drizzle-orm/mysql2";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { migrateAccounts } from "../adapters/mysql/migrate.js";
import { createAccountsPool } from "../adapters/mysql/pool.js";
import {
  APP_CLIENT_READ_ATTRIBUTES,
  APP_CLIENT_WRITE_ATTRIBUTES,
} from "../core/user/app-client-attributes.js";
import { Container } from "../runtime/composition-root.js";
import type { LogAttributes, Observability } from "../runtime/observability.js";
import { handlerModule, JOBS, type JobEntry, type JobName, locallyServedJobs } from "../jobs/catalogue.js";
import { isSteppedJob, type SteppedJob } from "../jobs/state-machine.js";
import {
  invokeLocal,
  type LambdaEndpoint,
  type LocalFunction,
  type LocalFunctionDefinition,
  startLambdaEndpoint,
} from "./lambda-endpoint.js";
import type { DisabledConfirmSignUp } from "./cognito/server.js";
import { startCognitoLocal } from "./services/cognito-local.js";
import {
  type LocalExecution,
  type LocalStateMachines,
  localStateMachines,
  type StartExecutionOptions,
} from "./state-machines.js";
import { startDynalite } from "./services/dynalite.js";
import { findMariaDb, MARIADB_INSTALL_HINT, startMariaDb } from "./services/mariadb.js";
import type { RunningService } from "./services/process.js";
import { type LocalS3, S3RVER_CREDENTIALS, startS3rver } from "./services/s3rver.js";

/** The names the functions are deployed (and served locally) under. */
export const FUNCTION_NAMES = {
  postConfirmation: "post-confirmation",
  purgeUnconfirmedIdentities: "purge-unconfirmed-identities",
  purgeUnconfirmedAccounts: "purge-unconfirmed-accounts",
  snapshotAndReconcile: "snapshot-and-reconcile",
  restore: "restore",
  erase: "erase",
} as const satisfies Record<string, JobName>;

export const LOCAL_REGION = "us-east-1";
export const LOCAL_PROFILE_TABLE = "user-profiles";
export const LOCAL_BACKUP_BUCKET = "user-backups";
export const LOCAL_CONFIRMATION_CODE = "123456";
/**
 * The local purge policy: a user unconfirmed for 2 seconds is "expired", so the purge can be watched
 * without waiting a day; the share-of-pool refusal is off because a local pool holds a handful of users.
 */
export const LOCAL_PURGE_POLICY = { minAge: "2s", maxShareOfPool: 1 } as const;
/** Where `npm start` writes the stack's description for the CLI (`--local`). Git-ignored. */
export const DEFAULT_STATE_FILE = path.resolve(__dirname, "..", ".local", "stack.json");

export interface LocalStackOptions {
  /** Where the stack reports what it does (default: nothing). */
  readonly log?: (line: string) => void;
  /** Where the handlers' own log lines go (default: nowhere). */
  readonly handlerLog?: (line: string) => void;
  /** The state file for the CLI; `false` writes none (tests). Default {@link DEFAULT_STATE_FILE}. */
  readonly stateFile?: string | false;
  /**
   * What the local Cognito does with a disabled user's ConfirmSignUp, which AWS does not document: `"refuse"`
   * (default: NotAuthorizedException "User is disabled.", the user stays UNCONFIRMED) or `"confirm"`.
   */
  readonly disabledConfirmSignUp?: DisabledConfirmSignUp;
  /** Overrides of the handlers' environment (e.g. `SYNC_FAILURE_MODE`, `PURGE_POLICY`). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Stepped jobs served besides the catalogue's (tests): each function on the local endpoint, each run by
   * its generated state machine.
   */
  readonly extraSteppedJobs?: readonly {
    readonly job: SteppedJob;
    readonly function: LocalFunctionDefinition;
  }[];
  /** Pause between retries of a failed step locally, in ms (default: the definition's intervals). */
  readonly stepRetryIntervalMs?: number;
  /**
   * Functions' time limits other than the catalogue's, in ms (tests: a stepped job's step then has the
   * limit less the step margin, so a small pool takes several steps).
   */
  readonly functionTimeoutsMs?: Readonly<Partial<Record<JobName, number>>>;
  /** Wraps a function as served (tests: to stop a service between two steps, or hold a step). */
  readonly wrapFunction?: (name: string, fn: LocalFunction) => LocalFunction;
}

export interface LocalStackState {
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** The exact environment for `new Container(env)`. */
  readonly env: Readonly<Record<string, string>>;
  readonly endpoints: {
    readonly cognito: string;
    readonly dynamodb: string;
    readonly s3: string;
    readonly lambda: string;
    readonly mysql?: string;
  };
  readonly pids: Readonly<Record<string, number>>;
}

export interface LocalStack extends LocalStackState {
  /** The code ConfirmSignUp and ConfirmForgotPassword accept. */
  readonly confirmationCode: string;
  /** The accounts database, when MariaDB runs. */
  readonly mysql?: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    readonly database: string;
  };
  readonly lambda: LambdaEndpoint;
  /** The state machines of the stepped jobs, run by aws-local-stepfunctions on the deployed definitions. */
  readonly stateMachines: LocalStateMachines;
  /**
   * Starts an execution of a stepped job's state machine (StartExecution): it runs through the overlap
   * guard, then the job's steps on the local endpoint, until done.
   */
  startExecution(job: string, options?: StartExecutionOptions): LocalExecution;
  /** Invokes a function through the local endpoint, as the Lambda SDK would. */
  invoke(
    functionName: string,
    event?: unknown,
  ): Promise<{ ok: true; result: unknown } | { ok: false; errorType: string; errorMessage: string }>;
  /** Stops the S3 stand-in (its data is kept), to see what happens when S3 is unreachable. */
  stopS3(): Promise<void>;
  /** Starts the S3 stand-in again on the same port with the same data. */
  startS3(): Promise<void>;
  /** Stops every process the stack started (by PID), closes its servers and removes its temp data. */
  stop(): Promise<void>;
}

/** Handler logs as one line each: `[service] level message {attributes}`. Metrics are dropped locally. */
function lineObservability(log: (line: string) => void): (service: string) => Observability {
  return (service) => {
    const write = (level: string) => (message: string, attributes?: LogAttributes) =>
      log(
        `[${service}] ${level} ${message}${attributes && Object.keys(attributes).length > 0 ? ` ${JSON.stringify(attributes)}` : ""}`,
      );
    return {
      log: { info: write("info"), warn: write("warn"), error: write("error") },
      metrics: { count: () => undefined, publish: () => undefined },
      startInvocation: () => undefined,
    };
  };
}

/**
 * Each function of the catalogue the local endpoint serves, loaded as the build bundles it — from its
 * module (`handlerModule`), never by a list of imports — and built on its first invocation on one container
 * (as a warm Lambda keeps it), with its catalogue time limit, as deployed.
 */
function localFunctions(
  container: Container,
  options: Pick<LocalStackOptions, "functionTimeoutsMs" | "wrapFunction">,
): Map<string, LocalFunctionDefinition> {
  const load = (name: JobName): LocalFunction => {
    let built: Promise<LocalFunction> | undefined;
    return async (event, context) => {
      built ??= loadFunction(name).then((module) => module.build(container));
      return (await built)(event, context);
    };
  };
  const wrap = options.wrapFunction ?? ((_: string, fn: LocalFunction) => fn);
  return new Map<string, LocalFunctionDefinition>(
    locallyServedJobs().map(({ name, timeoutSeconds }) => [
      name,
      {
        timeoutMs: options.functionTimeoutsMs?.[name] ?? timeoutSeconds * 1000,
        handler: wrap(name, load(name)),
      },
    ]),
  );
}

/** What a function's module exports for the local endpoint (see `handlerModule`). */
interface FunctionModule {
  build(container: Container): LocalFunction;
}

async function loadFunction(name: JobName): Promise<FunctionModule> {
  const module = (await import(
    path.resolve(__dirname, "..", handlerModule(name))
  )) as Partial<FunctionModule>;
  if (typeof module.build !== "function") throw new Error(`${handlerModule(name)} exports no build function`);
  return module as FunctionModule;
}

async function waitUntilActive(client: DynamoDBClient, table: string): Promise<void> {
  for (let look = 0; look < 300; look++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    if (Table?.TableStatus === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`table ${table} did not become ACTIVE`);
}

/** Starts the stack; on any failure, stops what it had started and rethrows. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const started: RunningService[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const root = await mkdtemp(path.join(tmpdir(), "cognito-user-lifecycle-"));
  const stateFile = options.stateFile === undefined ? DEFAULT_STATE_FILE : options.stateFile;
  let s3: LocalS3 | undefined;
  let stopped = false;

  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    // Servers and pools first (they talk to the processes), then the processes, then the files.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await Promise.allSettled([...started, ...(s3 ? [s3] : [])].map((service) => service.stop()));
    await rm(root, { recursive: true, force: true });
    if (stateFile) await rm(stateFile, { force: true });
  };

  try {
    const functions = new Map<string, LocalFunctionDefinition>();
    const lambda = await startLambdaEndpoint({ functions, log: options.handlerLog ?? (() => undefined) });
    cleanups.push(() => lambda.close());
    log(`Lambda (local invoke)    ${lambda.url}`);

    // The stand-ins start side by side (MariaDB's first start takes the longest); whatever started is stopped
    // when another fails.
    const s3DataDir = path.join(root, "s3");
    await mkdir(s3DataDir, { recursive: true });
    const track = async <S extends RunningService>(service: Promise<S>): Promise<S> => {
      const running = await service;
      started.push(running);
      return running;
    };
    // The processes first: they boot while this process loads the local Cognito.
    const [dynamoStart, s3Start, mariadbStart, cognitoStart] = await Promise.allSettled([
      track(startDynalite()),
      // s3rver is stopped and started again by the stack itself (stopS3/startS3), so it is kept apart.
      startS3rver({ dataDir: s3DataDir }),
      findMariaDb() ? track(startMariaDb({ access: "application" })) : Promise.resolve(undefined),
      track(
        startCognitoLocal({
          dataDir: path.join(root, "cognito"),
          confirmationCode: LOCAL_CONFIRMATION_CODE,
          triggers: { PostConfirmation: FUNCTION_NAMES.postConfirmation },
          lambdaEndpoint: lambda.url,
          ...(options.disabledConfirmSignUp ? { disabledConfirmSignUp: options.disabledConfirmSignUp } : {}),
        }),
      ),
    ]);
    if (s3Start.status === "fulfilled") s3 = s3Start.value;
    const value = <T>(outcome: PromiseSettledResult<T>): T => {
      if (outcome.status === "rejected") throw outcome.reason;
      return outcome.value;
    };
    const cognito = value(cognitoStart);
    const dynamo = value(dynamoStart);
    s3 = value(s3Start);
    const mariadb = value(mariadbStart);
    const s3Port = Number(new URL(s3.endpoint).port);
    log(`Cognito (local)          ${cognito.endpoint}    in this process`);
    log(`DynamoDB (dynalite)      ${dynamo.endpoint}    pid ${dynamo.pid}`);
    log(`S3 (s3rver)              ${s3.endpoint}    pid ${s3.pid}`);

    let mysql: LocalStack["mysql"];
    if (mariadb) {
      mysql = mariadb.connection;
      log(`MySQL (MariaDB)          ${mysql.host}:${mysql.port}/${mysql.database}    pid ${mariadb.pid}`);
    } else {
      log(`MySQL: not started, MariaDB is not installed. Install it with: ${MARIADB_INSTALL_HINT}`);
      log("       (the accounts purge is left out until then)");
    }

    // The pool, the app client, the table, the bucket, the database.
    const credentials = {
      accessKeyId: S3RVER_CREDENTIALS.accessKeyId,
      secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey,
    };
    const cognitoClient = new CognitoIdentityProviderClient({
      region: LOCAL_REGION,
      endpoint: cognito.endpoint,
      credentials,
    });
    const dynamoClient = new DynamoDBClient({ region: LOCAL_REGION, endpoint: dynamo.endpoint, credentials });
    const s3Client = new S3Client({
      region: LOCAL_REGION,
      endpoint: s3.endpoint,
      credentials,
      forcePathStyle: true,
    });
    let userPoolId: string;
    let clientId: string;
    try {
      const { UserPool } = await cognitoClient.send(
        new CreateUserPoolCommand({
          PoolName: "cognito-user-lifecycle-local",
          Schema: [{ Name: "legacy_sub", AttributeDataType: "String", Mutable: true }],
          // As the deployed pool: the confirmation code goes to the email, which confirming verifies.
          AutoVerifiedAttributes: ["email"],
        }),
      );
      userPoolId = UserPool?.Id ?? "";
      const { UserPoolClient } = await cognitoClient.send(
        // The deployed app client's read and write lists, which the local Cognito applies as Cognito does.
        new CreateUserPoolClientCommand({
          UserPoolId: userPoolId,
          ClientName: "local-app",
          ReadAttributes: [...APP_CLIENT_READ_ATTRIBUTES],
          WriteAttributes: [...APP_CLIENT_WRITE_ATTRIBUTES],
        }),
      );
      clientId = UserPoolClient?.ClientId ?? "";
      if (!userPoolId || !clientId)
        throw new Error("the local Cognito did not return the pool or the app client");
      await dynamoClient.send(
        new CreateTableCommand({
          TableName: LOCAL_PROFILE_TABLE,
          KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
      await waitUntilActive(dynamoClient, LOCAL_PROFILE_TABLE);
      await s3Client.send(new CreateBucketCommand({ Bucket: LOCAL_BACKUP_BUCKET }));
    } finally {
      cognitoClient.destroy();
      dynamoClient.destroy();
      s3Client.destroy();
    }
    if (mysql) {
      const pool = createAccountsPool({ ...mysql, tls: false });
      try {
        await migrateAccounts(drizzle({ client: pool }));
      } finally {
        await new Promise<void>((resolve) => pool.end(() => resolve()));
      }
    }
    log(
      `Pool ${userPoolId} (app client ${clientId}), table ${LOCAL_PROFILE_TABLE}, bucket ${LOCAL_BACKUP_BUCKET}${mysql ? ", table users (migrated)" : ""}`,
    );

    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      USER_POOL_ID: userPoolId,
      PROFILE_TABLE: LOCAL_PROFILE_TABLE,
      BACKUP_BUCKET: LOCAL_BACKUP_BUCKET,
      COGNITO_ENDPOINT: cognito.endpoint,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: "true",
      // s3rver implements no versioning: each key holds one object, which erase deletes.
      S3_VERSION_LISTING: "false",
      // The role import jobs write their logs with (the local Cognito checks it is a role ARN).
      IMPORT_LOGS_ROLE_ARN: "arn:aws:iam::000000000000:role/cognito-import-logs-local",
      PURGE_POLICY: JSON.stringify(LOCAL_PURGE_POLICY),
      SYNC_FAILURE_MODE: "continue",
      ...(mysql
        ? {
            ACCOUNTS_DB_HOST: mysql.host,
            ACCOUNTS_DB_PORT: String(mysql.port),
            ACCOUNTS_DB_NAME: mysql.database,
            ACCOUNTS_DB_USER: mysql.user,
            ACCOUNTS_DB_PASSWORD: mysql.password,
            ACCOUNTS_DB_TLS: "false",
          }
        : {}),
      ...options.env,
    };

    const container = new Container(env, lineObservability(options.handlerLog ?? (() => undefined)));
    cleanups.push(() => container.close());
    for (const [name, definition] of localFunctions(container, options)) functions.set(name, definition);
    for (const extra of options.extraSteppedJobs ?? []) functions.set(extra.job.name, extra.function);
    const stateMachines = localStateMachines({
      region: LOCAL_REGION,
      lambdaUrl: lambda.url,
      jobs: [
        ...(JOBS as readonly JobEntry[]).filter(isSteppedJob),
        ...(options.extraSteppedJobs ?? []).map((extra) => extra.job),
      ],
      ...(options.stepRetryIntervalMs === undefined ? {} : { retryIntervalMs: options.stepRetryIntervalMs }),
      log,
    });
    // Executions end before the endpoint they call closes.
    cleanups.push(() => stateMachines.stopAll());

    const pids: Record<string, number> = { stack: process.pid };
    for (const service of started) pids[service.name] = service.pid;
    pids[s3.name] = s3.pid;

    const state: LocalStackState = {
      region: LOCAL_REGION,
      userPoolId,
      clientId,
      env,
      endpoints: {
        cognito: cognito.endpoint,
        dynamodb: dynamo.endpoint,
        s3: s3.endpoint,
        lambda: lambda.url,
        ...(mysql ? { mysql: `mysql://${mysql.host}:${mysql.port}/${mysql.database}` } : {}),
      },
      pids,
    };
    const writeState = async () => {
      if (!stateFile) return;
      await mkdir(path.dirname(stateFile), { recursive: true });
      // It holds the database password: readable by its owner only. Written whole to a fresh file of mode 0600,
      // then renamed over the old one, so the password is never in a file anyone else may read.
      const fresh = `${stateFile}.${process.pid}.tmp`;
      await rm(fresh, { force: true });
      await writeFile(fresh, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: "wx" });
      await rename(fresh, stateFile);
    };
    await writeState();
    if (stateFile)
      log(`Wrote ${path.relative(process.cwd(), stateFile) || stateFile} (for the CLI's --local)`);

    const stack: LocalStack = {
      ...state,
      confirmationCode: LOCAL_CONFIRMATION_CODE,
      ...(mysql ? { mysql } : {}),
      lambda,
      stateMachines,
      startExecution: (job, start) => stateMachines.startExecution(job, start),
      invoke: (name, event = {}) => invokeLocal(lambda.url, name, event),
      stopS3: async () => {
        const running = s3;
        s3 = undefined;
        await running?.stop();
      },
      startS3: async () => {
        if (s3) return;
        s3 = await startS3rver({ dataDir: s3DataDir, port: s3Port });
        pids.s3rver = s3.pid;
        await writeState();
      },
      stop: stopAll,
    };

    return stack;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
