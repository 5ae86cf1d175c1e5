import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_PORT_USES } from "../handlers/permissions.js";
import { jobEntry, type JobName } from "../jobs/catalogue.js";
import { AccountsDatabase, MYSQL_PORT } from "./components/accounts-database.js";
import { Alarms } from "./components/alarms.js";
import { Backups } from "./components/backups.js";
import { FailedRuns } from "./components/failed-runs.js";
import { Identity } from "./components/identity.js";
import { LifecycleFunction, type LifecycleFunctionArgs } from "./components/lifecycle-function.js";
import { Profiles } from "./components/profiles.js";
import { SCHEDULED_RUN_MAXIMUM_EVENT_AGE_SECONDS, Schedules } from "./components/schedules.js";
import { StateMachines } from "./components/state-machines.js";
import { isSteppedJob } from "../jobs/state-machine.js";
import type { StackConfig } from "./config.js";
import type { AwsContext } from "./context.js";
import { functionPolicy, triggeringPoolPolicy, userPoolArn } from "./permissions.js";

/** The resources of a grant that only some functions have. */
interface GrantInputs {
  readonly userPoolArns?: pulumi.Input<string[]>;
  readonly importLogsRoleArn?: pulumi.Input<string>;
  readonly accountsSecretArn?: pulumi.Input<string>;
  readonly purgeLoginSecretArn?: pulumi.Input<string>;
  readonly inVpc?: boolean;
  readonly failedRunsQueueArn?: pulumi.Input<string>;
}

/** Where `npm run build` writes the handler bundles. */
export const DEFAULT_BUNDLE_DIR = path.resolve(__dirname, "..", "dist", "handlers");

/** What `pulumi stack output --json` shows; the CLI's `--outputs` reads the flat keys. */
export interface StackOutputs {
  readonly region: pulumi.Output<string>;
  readonly userPoolId: pulumi.Output<string>;
  readonly userPoolArn: pulumi.Output<string>;
  readonly userPoolClientId: pulumi.Output<string>;
  readonly profileTable: pulumi.Output<string>;
  readonly backupBucket: pulumi.Output<string>;
  readonly backupKmsKeyId: pulumi.Output<string>;
  readonly importLogsRoleArn: pulumi.Output<string>;
  readonly accountsDbSecretArn?: pulumi.Output<string>;
  readonly accountsDbHost?: pulumi.Output<string>;
  readonly accountsDbName?: string;
  readonly alarmTopicArn: pulumi.Output<string>;
  readonly functionNames: pulumi.Output<Partial<Record<JobName, string>>>;
  /** The state machine of each stepped job (for `aws stepfunctions start-execution`, the console). */
  readonly stateMachineArns: pulumi.Output<Partial<Record<JobName, string>>>;
}

/** The migrations the database setup applies (shipped beside its bundle by `npm run build`). */
const ACCOUNTS_MIGRATIONS_DIR = path.resolve(__dirname, "..", "adapters", "mysql", "migrations");

/**
 * What the setup applies, as one hash: the migrations' files, and the version of the purge login's grants
 * (raise it when adapters/mysql/purge-login.ts changes what it grants). A new value re-runs the setup.
 */
export function accountsSetupRevision(migrationsDir = ACCOUNTS_MIGRATIONS_DIR): string {
  const hash = createHash("sha256").update("purge-login:SELECT,DELETE:v1\n");
  const files = readdirSync(migrationsDir, { recursive: true, encoding: "utf8" }).sort();
  for (const file of files) {
    const full = path.join(migrationsDir, file);
    if (statSync(full).isFile()) hash.update(`${file}\n`).update(readFileSync(full));
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * The whole stack, from validated configuration. Built in a function (not at import time) so the tests
 * run it after installing Pulumi's mocks.
 */
export function createLifecycleStack(
  config: StackConfig,
  context: AwsContext,
  options: { bundleDir?: string } = {},
): StackOutputs {
  const bundleDir = options.bundleDir ?? DEFAULT_BUNDLE_DIR;
  const logRetentionDays = config.logRetentionDays;

  const protect = config.protectStatefulResources;
  const backups = new Backups("backups", { ...config.backups, protect, context });
  const profiles = new Profiles("profiles", { deletionProtection: config.deletionProtection, protect });
  const failedRuns = new FailedRuns("failed-runs");
  const backupEnvironment = {
    BACKUP_BUCKET: backups.bucket.bucket,
    BACKUP_KMS_KEY_ID: backups.key.arn,
  };
  /** The policy of one function: its port uses joined with the adapters' actions, on this stack's ARNs. */
  const grant =
    (handler: JobName, extra: GrantInputs = {}) =>
    (logGroupArn: pulumi.Output<string>) =>
      pulumi
        .all([
          logGroupArn,
          backups.bucket.arn,
          backups.key.arn,
          profiles.table.arn,
          pulumi.output(extra.userPoolArns ?? []),
          pulumi.output(extra.importLogsRoleArn ?? ""),
          pulumi.all([
            pulumi.output(extra.accountsSecretArn ?? ""),
            pulumi.output(extra.purgeLoginSecretArn ?? ""),
            pulumi.output(extra.failedRunsQueueArn ?? ""),
          ]),
        ])
        .apply(([log, bucket, key, table, pools, importRole, [secret, purgeLogin, failedRunsQueue]]) =>
          functionPolicy(FUNCTION_PORT_USES[handler], {
            logGroupArn: log,
            backupBucketArn: bucket,
            backupKeyArn: key,
            profileTableArn: table,
            ...(pools.length > 0 ? { userPoolArns: pools } : {}),
            ...(importRole ? { importLogsRoleArn: importRole } : {}),
            ...(secret ? { accountsSecretArn: secret } : {}),
            ...(purgeLogin ? { purgeLoginSecretArn: purgeLogin } : {}),
            ...(failedRunsQueue ? { failedRunsQueueArn: failedRunsQueue } : {}),
            inVpc: extra.inVpc ?? false,
          }),
        );
  const functions: { handler: JobName; fn: LifecycleFunction }[] = [];
  const lifecycleFunction = (
    handler: JobName,
    environment: Record<string, pulumi.Input<string>>,
    extra: GrantInputs = {},
    vpc?: LifecycleFunctionArgs["vpc"],
  ) => {
    const job = jobEntry(handler);
    const isScheduled = job.start === "scheduled";
    // A stepped job's schedule starts its state machine, which invokes the function synchronously: no
    // asynchronous invocation, so no event invoke config and no grant to send to the failed-runs queue.
    const invokedAsynchronously = isScheduled && job.stateMachine !== true;
    const fn = new LifecycleFunction(handler, {
      handler,
      bundleDir,
      description: job.description,
      timeout: job.timeoutSeconds,
      memorySize: job.memoryMb,
      environment,
      logRetentionDays,
      policy: grant(handler, {
        ...extra,
        inVpc: vpc !== undefined,
        ...(invokedAsynchronously ? { failedRunsQueueArn: failedRuns.queue.arn } : {}),
      }),
      ...(vpc ? { vpc } : {}),
      oneAtATime: isScheduled,
      ...(invokedAsynchronously
        ? {
            asynchronous: {
              maximumEventAgeSeconds: SCHEDULED_RUN_MAXIMUM_EVENT_AGE_SECONDS,
              failedRunsQueueArn: failedRuns.queue.arn,
            },
          }
        : {}),
    });
    functions.push({ handler, fn });
    return fn;
  };

  // The trigger's function exists before the pool that calls it; its read of the pool is granted after it.
  const postConfirmation = lifecycleFunction("post-confirmation", {
    PROFILE_TABLE: profiles.table.name,
    ...backupEnvironment,
    SYNC_FAILURE_MODE: config.sync.failureMode,
    SYNC_DEADLINE_MS: String(config.sync.deadlineMs),
  });

  const identity = new Identity("identity", {
    mfa: config.identity.mfa,
    passwordMinimumLength: config.identity.passwordMinimumLength,
    selfSignUp: config.identity.selfSignUp,
    tier: config.identity.tier,
    email: config.identity.email,
    deletionProtection: config.deletionProtection,
    protect,
    postConfirmation: { arn: postConfirmation.function.arn, name: postConfirmation.function.name },
    context,
  });
  const pool = identity.userPool;
  const ownPool = pool.arn.apply((arn) => [arn]);
  // The trigger reads the user it runs for (the purge's fence), in this pool alone. Inside the role or the
  // function this grant would make the pool and its trigger depend on each other; as a policy of its own it
  // is declared once both exist. Until it exists (the first deployment's first seconds, or while IAM
  // propagates) the read is refused, which the trigger treats as an unchecked fence (see its failure mode).
  const triggerRead = pool.arn.apply((arn) =>
    triggeringPoolPolicy(FUNCTION_PORT_USES["post-confirmation"], arn),
  );
  new aws.iam.RolePolicy(
    "post-confirmation-pool-policy",
    {
      role: postConfirmation.role.id,
      policy: triggerRead.apply((document) => JSON.stringify(document)),
    },
    { parent: postConfirmation },
  );
  const restorePools = pulumi
    .all([pool.arn, context.partition, context.region, context.accountId])
    .apply(([arn, partition, region, account]) => [
      arn,
      ...config.restore.targetUserPoolIds.map((id) => userPoolArn(partition, region, account, id)),
    ]);

  const poolEnvironment = { USER_POOL_ID: pool.id };

  lifecycleFunction(
    "purge-unconfirmed-identities",
    { ...poolEnvironment, PURGE_POLICY: config.purgePolicyJson },
    { userPoolArns: ownPool },
  );

  lifecycleFunction(
    "snapshot-and-reconcile",
    { ...poolEnvironment, PROFILE_TABLE: profiles.table.name, ...backupEnvironment },
    { userPoolArns: ownPool },
  );

  lifecycleFunction(
    "restore",
    { ...poolEnvironment, ...backupEnvironment, IMPORT_LOGS_ROLE_ARN: identity.importLogsRole.arn },
    { userPoolArns: restorePools, importLogsRoleArn: identity.importLogsRole.arn },
  );
  lifecycleFunction(
    "erase",
    { ...poolEnvironment, PROFILE_TABLE: profiles.table.name, ...backupEnvironment },
    { userPoolArns: ownPool },
  );

  let database: AccountsDatabase | undefined;
  if (config.accountsDatabase.enabled) {
    const { enabled: _enabled, applyMigrations, ...settings } = config.accountsDatabase;
    database = new AccountsDatabase("accounts", {
      ...settings,
      deletionProtection: config.deletionProtection,
      protect,
      context,
    });
    const inVpc = { subnetIds: database.subnetIds, securityGroupIds: [database.functionSecurityGroup.id] };
    const databaseAddress = {
      ACCOUNTS_DB_HOST: database.instance.address,
      ACCOUNTS_DB_PORT: String(MYSQL_PORT),
      ACCOUNTS_DB_NAME: database.databaseName,
      ACCOUNTS_DB_TLS: "true",
    };
    // The setup logs in as the master user; it runs at each deployment whose revision changed, and a failure
    // fails the deployment.
    const setup = lifecycleFunction(
      "setup-accounts-database",
      {
        ...databaseAddress,
        ACCOUNTS_DB_SECRET_ARN: database.secretArn,
        ACCOUNTS_PURGE_SECRET_ARN: database.purgeLoginSecret.arn,
        ACCOUNTS_DB_MIGRATE: String(applyMigrations),
      },
      { accountsSecretArn: database.secretArn, purgeLoginSecretArn: database.purgeLoginSecret.arn },
      inVpc,
    );
    new aws.lambda.Invocation(
      "accounts-setup",
      {
        functionName: setup.function.name,
        input: JSON.stringify({ revision: accountsSetupRevision() }),
        triggers: {
          code: pulumi.output(setup.function.sourceCodeHash).apply((hash) => hash ?? ""),
          database: database.instance.id,
        },
      },
      { dependsOn: [setup, database] },
    );
    // The purge logs in with its own login, which exists once the setup has run.
    lifecycleFunction(
      "purge-unconfirmed-accounts",
      {
        PURGE_POLICY: config.purgePolicyJson,
        PURGE_BATCH_SIZE: String(config.purgeBatchSize),
        PURGE_LANES: String(config.purgeLanes),
        ...databaseAddress,
        ACCOUNTS_DB_SECRET_ARN: database.purgeLoginSecret.arn,
      },
      { accountsSecretArn: database.purgeLoginSecret.arn },
      inVpc,
    );
  }

  // Every stepped job of the catalogue that this stack deploys runs as a state machine calling its function.
  const stateMachines = new StateMachines("state-machines", {
    jobs: functions.flatMap(({ handler, fn }) => {
      const job = jobEntry(handler);
      return isSteppedJob(job) ? [{ job, functionArn: fn.function.arn }] : [];
    }),
    logRetentionDays,
    context,
  });
  const machineOf = (handler: JobName) => stateMachines.machines.find((m) => m.job.name === handler);

  new Schedules("schedules", {
    timezone: config.schedules.timezone,
    // Every scheduled job of the catalogue that this stack deploys, on its configured expression: its state
    // machine when it has one, else its function.
    jobs: functions.flatMap(({ handler, fn }) => {
      const { scheduleKey } = jobEntry(handler);
      const machine = machineOf(handler);
      return scheduleKey === undefined
        ? []
        : [
            {
              name: handler,
              expression: config.schedules[scheduleKey],
              functionArn: fn.function.arn,
              ...(machine ? { stateMachineArn: machine.machine.arn } : {}),
            },
          ];
    }),
    failedRunsQueueArn: failedRuns.queue.arn,
    context,
    dependsOn: stateMachines.machines.map((m) => m.guardPolicy),
  });

  const alarms = new Alarms("alarms", {
    functions: functions.map(({ handler, fn }) => ({ handler, functionName: fn.function.name })),
    ...(config.alarms.email === undefined ? {} : { email: config.alarms.email }),
    purgeDeletionsThreshold: config.alarms.purgeDeletionsThreshold,
    failedRunsQueueName: failedRuns.queue.name,
    stateMachines: stateMachines.machines.map((m) => ({ job: m.job.name, arn: m.machine.arn })),
    context,
  });

  return {
    region: context.region,
    userPoolId: pool.id,
    userPoolArn: pool.arn,
    userPoolClientId: identity.client.id,
    profileTable: profiles.table.name,
    backupBucket: backups.bucket.bucket,
    backupKmsKeyId: backups.key.arn,
    importLogsRoleArn: identity.importLogsRole.arn,
    ...(database
      ? {
          accountsDbSecretArn: database.secretArn,
          accountsDbHost: database.instance.address,
          accountsDbName: database.databaseName,
        }
      : {}),
    alarmTopicArn: alarms.topic.arn,
    functionNames: pulumi
      .all(functions.map(({ fn }) => fn.function.name))
      .apply((names) => Object.fromEntries(names.map((n, i) => [functions[i]!.handler, n]))),
    stateMachineArns: pulumi
      .all(stateMachines.machines.map((m) => m.machine.arn))
      .apply((arns) => Object.fromEntries(arns.map((arn, i) => [stateMachines.machines[i]!.job.name, arn]))),
  };
}
