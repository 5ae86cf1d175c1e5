/**
 * What keeps data and runs safe once the stack is live, asserted on the program under Pulumi's mocks for every
 * stack file: stateful resources protected and kept on delete, the backup key never scheduled for deletion,
 * scheduled runs that never repeat themselves, the app client's attribute lists, and the alarms that go with
 * them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type JobName, scheduledJobs } from "../jobs/catalogue.js";
import * as observability from "../runtime/observability.js";
import {
  CONFIRMATION_FENCE_UNCHECKED_METRIC,
  CONFIRMATION_HELD_BY_FENCE_METRIC,
  IDENTITY_BINDING_CONFLICTS_METRIC,
  METRICS_NAMESPACE,
} from "./components/alarms.js";
import { CLIENT_READ_ATTRIBUTES, CLIENT_WRITE_ATTRIBUTES } from "./components/identity.js";
import {
  type DeclaredResource,
  loadStackConfig,
  type ProgramRun,
  runProgram,
  stackNames,
} from "./testing/program.js";

type Json = Record<string, unknown>;

/** Every resource that holds data a user or an operator would lose with it. */
const STATEFUL: readonly [type: string, name: string][] = [
  ["aws:cognito/userPool:UserPool", "identity-pool"],
  ["aws:dynamodb/table:Table", "profiles-table"],
  ["aws:s3/bucket:Bucket", "backups-bucket"],
  ["aws:kms/key:Key", "backups-key"],
  ["aws:rds/instance:Instance", "accounts-mysql"],
];

const fnOf = (run: ProgramRun, handler: JobName) => run.named("aws:lambda/function:Function", handler);
const statements = (text: unknown) => (JSON.parse(String(text)) as { Statement: Json[] }).Statement;

describe.each(stackNames())("Pulumi.%s.yaml", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(stack);
  }, 60_000);

  const stateful = () =>
    STATEFUL.map(([type, name]) => run.ofType(type).find((r) => r.name === name)).filter(
      (r): r is DeclaredResource => r !== undefined,
    );

  describe("stateful resources", () => {
    it("are protected and retained on delete (protectStatefulResources defaults to on)", () => {
      const found = stateful();
      expect(found.length).toBeGreaterThanOrEqual(4);
      for (const resource of found) {
        expect(resource.options, resource.name).toMatchObject({ protect: true, retainOnDelete: true });
      }
    });

    it("nothing else is protected, so stateless parts can still be replaced", () => {
      const names = new Set(stateful().map((r) => `${r.type}::${r.name}`));
      const others = run.resources.filter((r) => !names.has(`${r.type}::${r.name}`) && r.options.protect);
      expect(others.map((r) => r.name)).toEqual([]);
    });

    it("the backup key may never be scheduled for deletion, by anyone, and waits 30 days if its policy is changed", () => {
      const key = run.named("aws:kms/key:Key", "backups-key");
      expect(key.inputs.deletionWindowInDays).toBe(30);
      const policy = statements(key.inputs.policy);
      expect(policy).toContainEqual(
        expect.objectContaining({
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: ["kms:ScheduleKeyDeletion"],
        }),
      );
      for (const statement of policy.filter((s) => s.Effect === "Allow")) {
        expect(statement.Action).not.toContain("kms:ScheduleKeyDeletion");
      }
    });
  });

  describe("settings only a new, empty pool can change", () => {
    // Cognito cannot change a pool's username attributes, its username case sensitivity or an existing custom
    // attribute: Pulumi replaces the pool, i.e. deletes every user. They are not stack config for that reason,
    // and `protect` stops such a replacement at preview; this pins them so a code change cannot slip one in.
    it("sign-in by email, case-insensitive, with custom:legacy_sub as every deployed pool has them", () => {
      const pool = run.named("aws:cognito/userPool:UserPool", "identity-pool");
      expect(
        pool.inputs.usernameAttributes,
        "changing usernameAttributes replaces the pool and loses every user",
      ).toEqual(["email"]);
      expect(
        pool.inputs.usernameConfiguration,
        "changing usernameConfiguration replaces the pool and loses every user",
      ).toEqual({ caseSensitive: false });
      expect(
        pool.inputs.aliasAttributes,
        "alias attributes cannot be added to an existing pool",
      ).toBeUndefined();
      const schemas = pool.inputs.schemas as { name: string; attributeDataType: string }[];
      expect(schemas.map((schema) => [schema.name, schema.attributeDataType])).toEqual([
        ["legacy_sub", "String"],
      ]);
    });
  });

  describe("scheduled runs", () => {
    const deployedScheduled = () =>
      scheduledJobs().filter((job) =>
        run.ofType("aws:lambda/function:Function").some((fn) => fn.name === job.name),
      );
    /** The jobs their schedule invokes directly (asynchronously), not through a state machine. */
    const scheduled = () =>
      deployedScheduled()
        .filter((job) => job.stateMachine !== true)
        .map((job) => job.name);
    const stepped = () =>
      deployedScheduled()
        .filter((job) => job.stateMachine === true)
        .map((job) => job.name);

    it("every function its schedule invokes runs once at a time and is never retried by Lambda; failures go to the encrypted queue", () => {
      const queue = run.named("aws:sqs/queue:Queue", "failed-runs-queue");
      expect(queue.inputs.sqsManagedSseEnabled).toBe(true);
      const configs = run.ofType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
      expect(scheduled()).toContain("purge-unconfirmed-accounts");
      for (const handler of scheduled()) {
        const fn = fnOf(run, handler);
        expect(fn.inputs.reservedConcurrentExecutions, handler).toBe(1);
        const config = configs.find((c) => c.inputs.functionName === fn.state.name);
        expect(config?.inputs, handler).toMatchObject({
          maximumRetryAttempts: 0,
          maximumEventAgeInSeconds: 3600,
          destinationConfig: { onFailure: { destination: queue.state.arn } },
        });
        const policy = statements(
          run.named("aws:iam/rolePolicy:RolePolicy", `${handler}-policy`).inputs.policy,
        );
        expect(policy).toContainEqual(
          expect.objectContaining({ Action: ["sqs:SendMessage"], Resource: [queue.state.arn] }),
        );
      }
      expect(configs).toHaveLength(scheduled().length);
    });

    it("a stepped job's function, invoked synchronously by its state machine only, has no asynchronous-invocation settings and no failed-runs grant, and still runs once at a time", () => {
      const queue = run.named("aws:sqs/queue:Queue", "failed-runs-queue");
      const configs = run.ofType("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
      expect(stepped().length).toBeGreaterThanOrEqual(2);
      for (const handler of stepped()) {
        const fn = fnOf(run, handler);
        expect(fn.inputs.reservedConcurrentExecutions, handler).toBe(1);
        expect(
          configs.filter((c) => c.inputs.functionName === fn.state.name || c.name === `${handler}-async`),
          handler,
        ).toEqual([]);
        const policy = statements(
          run.named("aws:iam/rolePolicy:RolePolicy", `${handler}-policy`).inputs.policy,
        );
        expect(
          policy.map((s) => s.Sid),
          handler,
        ).not.toContain("FailedRuns");
        expect(
          policy.filter(
            (s) => JSON.stringify(s).includes("sqs:") || JSON.stringify(s).includes(String(queue.state.arn)),
          ),
          handler,
        ).toEqual([]);
      }
    });

    it("functions run on demand (trigger, restore, erase) keep Lambda's concurrency and have no failed-runs grant", () => {
      for (const handler of ["post-confirmation", "restore", "erase"] as const) {
        expect(fnOf(run, handler).inputs.reservedConcurrentExecutions, handler).toBeUndefined();
        const policy = statements(
          run.named("aws:iam/rolePolicy:RolePolicy", `${handler}-policy`).inputs.policy,
        );
        expect(policy.map((s) => s.Sid)).not.toContain("FailedRuns");
      }
    });

    it("every schedule is never retried and sends what it cannot deliver to the queue", () => {
      const queue = run.named("aws:sqs/queue:Queue", "failed-runs-queue");
      const schedules = run.ofType("aws:scheduler/schedule:Schedule");
      expect(schedules).toHaveLength(deployedScheduled().length);
      for (const schedule of schedules) {
        expect((schedule.inputs.target as Json).retryPolicy, schedule.name).toEqual({
          maximumRetryAttempts: 0,
          maximumEventAgeInSeconds: 3600,
        });
        expect((schedule.inputs.target as Json).deadLetterConfig, schedule.name).toEqual({
          arn: queue.state.arn,
        });
      }
    });

    it("the first failed run alarms", () => {
      const queue = run.named("aws:sqs/queue:Queue", "failed-runs-queue");
      const alarm = run.named("aws:cloudwatch/metricAlarm:MetricAlarm", "alarms-failed-runs");
      expect(alarm.inputs).toMatchObject({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: queue.state.name },
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
      });
    });
  });

  describe("identity binding", () => {
    it("the app client writes only its listed attributes, never custom:legacy_sub nor email_verified", () => {
      const client = run.named("aws:cognito/userPoolClient:UserPoolClient", "identity-client").inputs;
      expect(client.writeAttributes).toEqual([...CLIENT_WRITE_ATTRIBUTES]);
      expect(client.writeAttributes).not.toContain("custom:legacy_sub");
      expect(client.writeAttributes).not.toContain("email_verified");
      expect(client.readAttributes).toEqual([...CLIENT_READ_ATTRIBUTES]);
      expect(client.readAttributes).toContain("custom:legacy_sub");
    });

    it("legacy_sub is immutable in a new pool, and an existing pool's schema is left as Cognito has it", () => {
      const pool = run.named("aws:cognito/userPool:UserPool", "identity-pool");
      expect(pool.inputs.schemas).toEqual([expect.objectContaining({ name: "legacy_sub", mutable: false })]);
      expect(pool.options.ignoreChanges).toContain("schemas");
    });

    it("alarms on IdentityBindingConflicts of the trigger and the snapshot, per service, like their other metrics", () => {
      const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
      for (const service of ["post-confirmation", "snapshot-and-reconcile"]) {
        const alarm = alarms.find(
          (a) =>
            a.inputs.metricName === "IdentityBindingConflicts" &&
            (a.inputs.dimensions as Json).service === service,
        );
        expect(alarm?.inputs, service).toMatchObject({
          namespace: "CognitoUserLifecycle",
          threshold: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
        });
      }
    });
  });
});

describe.each(stackNames())("production settings, Pulumi.%s.yaml", (stack) => {
  it("sets the pool's feature plan explicitly, and mails through SES when an identity is configured", async () => {
    const config = loadStackConfig(stack);
    const run = await runProgram(stack);
    const pool = run.named("aws:cognito/userPool:UserPool", "identity-pool").inputs;
    expect(pool.userPoolTier).toBe(config.identity.tier);
    const email = pool.emailConfiguration as Json;
    if (config.identity.email.sesSourceArn === undefined) {
      expect(email).toEqual({ emailSendingAccount: "COGNITO_DEFAULT" });
    } else {
      expect(email).toMatchObject({
        emailSendingAccount: "DEVELOPER",
        sourceArn: config.identity.email.sesSourceArn,
      });
    }
  }, 60_000);

  it.runIf(loadStackConfig(stack).accountsDatabase.enabled)(
    "runs MySQL with an explicit lifecycle, allows major upgrades, and a parameter group of the version's family that is auto-named (replaced before the old one goes)",
    async () => {
      const config = loadStackConfig(stack);
      const run = await runProgram(stack);
      const db = run.named("aws:rds/instance:Instance", "accounts-mysql");
      expect(db.inputs).toMatchObject({
        engineVersion: config.accountsDatabase.engineVersion,
        allowMajorVersionUpgrade: true,
        engineLifecycleSupport: config.accountsDatabase.engineLifecycleSupport,
      });
      expect(db.options.ignoreChanges).toContain("engineLifecycleSupport");
      const parameters = run.named("aws:rds/parameterGroup:ParameterGroup", "accounts-parameters");
      const major = config.accountsDatabase.engineVersion.split(".").slice(0, 2).join(".");
      expect(parameters.inputs.family).toBe(`mysql${major}`);
      expect(parameters.inputs.name).toBeUndefined();
      expect(db.inputs.parameterGroupName).toBe(parameters.state.name);
    },
    60_000,
  );
});

describe("an upgrade from MySQL 8.0 to 8.4", () => {
  it("moves the instance and its parameter group to the new family in one update", async () => {
    const before = await runProgram("prod", { accountsDatabase: '{"enabled":true,"engineVersion":"8.0"}' });
    const after = await runProgram("prod", { accountsDatabase: '{"enabled":true,"engineVersion":"8.4"}' });
    const family = (run: ProgramRun) =>
      run.named("aws:rds/parameterGroup:ParameterGroup", "accounts-parameters").inputs.family;
    expect([family(before), family(after)]).toEqual(["mysql8.0", "mysql8.4"]);
    expect(after.named("aws:rds/instance:Instance", "accounts-mysql").inputs.engineVersion).toBe("8.4");
  }, 60_000);
});

describe("the alarms watch the metrics the functions publish", () => {
  it("same namespace, same metric names (the program cannot import handler code)", () => {
    expect(METRICS_NAMESPACE).toBe(observability.METRICS_NAMESPACE);
    expect(IDENTITY_BINDING_CONFLICTS_METRIC).toBe(observability.IDENTITY_BINDING_CONFLICTS_METRIC);
    expect(CONFIRMATION_HELD_BY_FENCE_METRIC).toBe(observability.CONFIRMATION_HELD_BY_FENCE_METRIC);
    expect(CONFIRMATION_FENCE_UNCHECKED_METRIC).toBe(observability.CONFIRMATION_FENCE_UNCHECKED_METRIC);
  });
});

describe("protectStatefulResources: false", () => {
  it("leaves every stateful resource unprotected and deletable with the stack", async () => {
    const run = await runProgram("dev", { protectStatefulResources: "false" });
    for (const [type, name] of STATEFUL) {
      const resource = run.ofType(type).find((r) => r.name === name);
      if (resource) expect(resource.options, name).toMatchObject({ protect: false, retainOnDelete: false });
    }
  }, 60_000);
});
