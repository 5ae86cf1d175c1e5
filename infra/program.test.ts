import { existsSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { OUTPUT_KEYS } from "../cli/target.js";
import { dependencies } from "../handlers/dependencies.js";
import { Container } from "../runtime/composition-root.js";
import { setupAccountsDatabaseDependencies } from "../handlers/setup-accounts-database.js";
import { RecordingObservability } from "../runtime/testing/recording-observability.js";
import { JOB_NAMES, type JobName } from "../jobs/catalogue.js";
import { START_EXECUTION_TARGET } from "./components/schedules.js";
import type { StackConfig } from "./config.js";
import {
  ACCOUNT_ID,
  type DeclaredResource,
  type ProgramRun,
  loadStackConfig,
  runProgram,
  stackNames,
} from "./testing/program.js";

type Json = Record<string, unknown>;
type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Json;
};

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const document = (text: unknown): { Statement: Statement[] } =>
  JSON.parse(String(text)) as { Statement: Statement[] };

/** The Lambda function of a handler (its Pulumi name is the handler's). */
function functionOf(run: ProgramRun, handler: JobName): DeclaredResource {
  return run.named("aws:lambda/function:Function", handler);
}

function environmentOf(fn: DeclaredResource): Record<string, string> {
  return (fn.inputs.environment as { variables: Record<string, string> }).variables;
}

/** Every policy document the stack declares, with where it comes from. */
function allPolicies(run: ProgramRun): { where: string; kind: string; statements: Statement[] }[] {
  const out: { where: string; kind: string; statements: Statement[] }[] = [];
  for (const r of run.ofType("aws:iam/rolePolicy:RolePolicy")) {
    out.push({ where: r.name, kind: "identity", statements: document(r.inputs.policy).Statement });
  }
  for (const r of run.ofType("aws:iam/role:Role")) {
    out.push({
      where: `${r.name} trust`,
      kind: "trust",
      statements: document(r.inputs.assumeRolePolicy).Statement,
    });
    for (const inline of asArray(r.inputs.inlinePolicies as Json[] | undefined)) {
      out.push({
        where: `${r.name} inline`,
        kind: "identity",
        statements: document(inline.policy).Statement,
      });
    }
  }
  for (const r of run.ofType("aws:s3/bucketPolicy:BucketPolicy")) {
    out.push({ where: r.name, kind: "resource", statements: document(r.inputs.policy).Statement });
  }
  for (const r of run.ofType("aws:kms/key:Key")) {
    if (r.inputs.policy !== undefined) {
      out.push({ where: r.name, kind: "key", statements: document(r.inputs.policy).Statement });
    }
  }
  for (const r of run.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")) {
    out.push({ where: r.name, kind: "endpoint", statements: document(r.inputs.policy).Statement });
  }
  return out;
}

describe.each(stackNames())("the program with Pulumi.%s.yaml", (stack) => {
  let run: ProgramRun;
  let config: StackConfig;

  beforeAll(async () => {
    config = loadStackConfig(stack);
    run = await runProgram(stack);
  }, 60_000);

  describe("identity", () => {
    it("wires Post Confirmation to its function, invocable by this pool alone", () => {
      const pool = run.ofType("aws:cognito/userPool:UserPool");
      expect(pool).toHaveLength(1);
      const fn = functionOf(run, "post-confirmation");
      expect((pool[0]!.inputs.lambdaConfig as Json).postConfirmation).toBe(fn.state.arn);

      const permissions = run.ofType("aws:lambda/permission:Permission");
      expect(permissions).toHaveLength(1);
      expect(permissions[0]!.inputs).toMatchObject({
        action: "lambda:InvokeFunction",
        function: fn.state.name,
        principal: "cognito-idp.amazonaws.com",
        sourceArn: pool[0]!.state.arn,
      });
    });

    it("grants the trigger AdminGetUser on this pool alone, by a policy of its own declared after the pool (no cycle)", () => {
      const pool = run.ofType("aws:cognito/userPool:UserPool")[0]!;
      const fn = functionOf(run, "post-confirmation");
      const role = run.named("aws:iam/role:Role", "post-confirmation-role");
      const read = run.named("aws:iam/rolePolicy:RolePolicy", "post-confirmation-pool-policy");
      expect(read.inputs.role).toBe(role.id);
      expect(document(read.inputs.policy).Statement).toEqual([
        {
          Sid: "TriggeringPool",
          Effect: "Allow",
          Action: ["cognito-idp:AdminGetUser"],
          Resource: [pool.state.arn],
        },
      ]);
      // The read waits for the pool; the function, its role and its own policy do not (the pool waits for them).
      expect(read.options.propertyDependencies.policy).toContain(pool.options.urn);
      const own = run.named("aws:iam/rolePolicy:RolePolicy", "post-confirmation-policy");
      for (const resource of [fn, role, own]) {
        const dependsOn = Object.values(resource.options.propertyDependencies).flat();
        expect(dependsOn, resource.name).not.toContain(pool.options.urn);
      }
      expect(String(own.inputs.policy)).not.toContain("cognito-idp");
      // The pool's id reaches the function in each event, never in its environment.
      expect(environmentOf(fn).USER_POOL_ID).toBeUndefined();
    });

    it("signs in by email, verifies it, carries legacy_sub, and applies MFA and deletion protection from config", () => {
      const pool = run.ofType("aws:cognito/userPool:UserPool")[0]!.inputs;
      expect(pool.usernameAttributes).toEqual(["email"]);
      expect(pool.autoVerifiedAttributes).toEqual(["email"]);
      expect(pool.schemas).toEqual([
        expect.objectContaining({ name: "legacy_sub", attributeDataType: "String", mutable: false }),
      ]);
      expect(pool.mfaConfiguration).toBe(config.identity.mfa.toUpperCase());
      expect(pool.deletionProtection).toBe(config.deletionProtection ? "ACTIVE" : "INACTIVE");
      expect((pool.passwordPolicy as Json).minimumLength).toBe(config.identity.passwordMinimumLength);
    });

    it("gives import jobs a logs role only Cognito of this account may assume", () => {
      const role = run.ofType("aws:iam/role:Role").find((r) => r.name === "identity-import-logs")!;
      expect(document(role.inputs.assumeRolePolicy).Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: "cognito-idp.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT_ID } },
        }),
      ]);
      const policy = run.named("aws:iam/rolePolicy:RolePolicy", "identity-import-logs");
      expect(document(policy.inputs.policy).Statement[0]!.Resource).toEqual([
        `arn:aws:logs:${run.region}:${ACCOUNT_ID}:log-group:/aws/cognito/*`,
      ]);
    });
  });

  describe("backups and profiles", () => {
    it("encrypts the bucket with its customer-managed key, bucket key on, versioned, closed to the public", () => {
      const bucket = run.named("aws:s3/bucket:Bucket", "backups-bucket");
      const key = run.named("aws:kms/key:Key", "backups-key");
      expect(key.inputs.enableKeyRotation).toBe(true);
      const sse = run.named(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "backups-encryption",
      );
      expect(sse.inputs.bucket).toBe(bucket.id);
      expect(sse.inputs.rules).toEqual([
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.state.arn },
          bucketKeyEnabled: true,
        },
      ]);
      expect(
        run.named("aws:s3/bucketVersioning:BucketVersioning", "backups-versioning").inputs,
      ).toMatchObject({
        bucket: bucket.id,
        versioningConfiguration: { status: "Enabled" },
      });
      expect(
        run.named("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backups-public-access").inputs,
      ).toEqual({
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(
        run.named("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "backups-ownership").inputs,
      ).toMatchObject({ rule: { objectOwnership: "BucketOwnerEnforced" } });
    });

    it("denies every request to the bucket that does not come over TLS", () => {
      const bucket = run.named("aws:s3/bucket:Bucket", "backups-bucket");
      const policy = run.named("aws:s3/bucketPolicy:BucketPolicy", "backups-tls-only");
      expect(policy.inputs.bucket).toBe(bucket.id);
      expect(document(policy.inputs.policy).Statement).toEqual([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucket.state.arn, `${String(bucket.state.arn)}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]);
    });

    it("expires noncurrent versions, old snapshots and finished restores' state after the configured days", () => {
      const rules = run.named(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "backups-lifecycle",
      ).inputs.rules as Json[];
      expect(rules).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            status: "Enabled",
            noncurrentVersionExpiration: { noncurrentDays: config.backups.noncurrentVersionDays },
          }),
          expect.objectContaining({
            status: "Enabled",
            filter: { prefix: "snapshots/" },
            expiration: { days: config.backups.snapshotRetentionDays },
          }),
        ]),
      );
      expect(rules).toContainEqual(
        expect.objectContaining({
          filter: { prefix: "restores/" },
          expiration: { days: config.backups.restoreStateDays },
        }),
      );
      // Per-user backups are never expired by age: only versions they replaced.
      const byAge = rules.filter((r) => (r.expiration as Json | undefined)?.days !== undefined);
      expect(byAge.map((r) => (r.filter as Json).prefix).sort()).toEqual(["restores/", "snapshots/"]);
    });

    it("keys the profile table by id, on demand, encrypted, with point-in-time recovery", () => {
      const table = run.named("aws:dynamodb/table:Table", "profiles-table").inputs;
      expect(table).toMatchObject({
        hashKey: "id",
        attributes: [{ name: "id", type: "S" }],
        billingMode: "PAY_PER_REQUEST",
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: config.deletionProtection,
      });
    });
  });

  describe("functions", () => {
    it("deploys one function per handler bundle: nodejs22.x on arm64, from the esbuild output", async () => {
      const deployed = run.ofType("aws:lambda/function:Function").map((f) => f.name);
      const expected = JOB_NAMES.filter(
        (h) => config.accountsDatabase.enabled || h !== "purge-unconfirmed-accounts",
      );
      expect(deployed.sort()).toEqual([...expected].sort());
      for (const handler of expected) {
        const fn = functionOf(run, handler).inputs;
        expect(fn).toMatchObject({
          runtime: "nodejs22.x",
          architectures: ["arm64"],
          handler: "index.handler",
        });
        const archive = await (fn.code as { path: Promise<string> }).path;
        expect(path.basename(archive)).toBe(handler);
        expect(existsSync(path.join(archive, "index.js"))).toBe(true);
      }
    });

    it("keeps post-confirmation and its writes' deadline inside Cognito's 5-second trigger limit", () => {
      const fn = functionOf(run, "post-confirmation").inputs;
      expect(fn.timeout).toBeLessThanOrEqual(5);
      expect(Number(environmentOf(functionOf(run, "post-confirmation")).SYNC_DEADLINE_MS)).toBeLessThan(
        (fn.timeout as number) * 1000,
      );
    });

    it("gives every function its own role and its own log group with the configured retention", () => {
      const functions = run.ofType("aws:lambda/function:Function");
      const roles = new Set(functions.map((f) => f.inputs.role));
      expect(roles.size).toBe(functions.length);
      for (const fn of functions) {
        const group = run.byState(
          "aws:cloudwatch/logGroup:LogGroup",
          "name",
          (fn.inputs.loggingConfig as Json).logGroup,
        );
        expect(group.inputs.retentionInDays).toBe(config.logRetentionDays);
      }
      expect(run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
      expect(run.ofType("aws:iam/policyAttachment:PolicyAttachment")).toEqual([]);
      for (const role of run.ofType("aws:iam/role:Role"))
        expect(role.inputs.managedPolicyArns).toBeUndefined();
    });

    it.each([...JOB_NAMES])("sets every variable the %s handler reads at cold start", (handler) => {
      const needsDatabase = handler === "purge-unconfirmed-accounts" || handler === "setup-accounts-database";
      if (needsDatabase && !config.accountsDatabase.enabled) return;
      const env = { ...environmentOf(functionOf(run, handler)), AWS_REGION: run.region };
      const container = new Container(env, () => new RecordingObservability());
      const build: Record<JobName, () => unknown> = {
        "post-confirmation": () => dependencies.postConfirmation(container),
        "purge-unconfirmed-identities": () => dependencies.purgeUnconfirmedIdentities(container),
        "purge-unconfirmed-accounts": () => dependencies.purgeUnconfirmedAccounts(container),
        "snapshot-and-reconcile": () => dependencies.snapshotAndReconcile(container),
        restore: () => {
          const deps = dependencies.restore(container);
          deps.target(undefined, "import-job");
          return deps.backups;
        },
        erase: () => dependencies.erase(container),
        "setup-accounts-database": () => setupAccountsDatabaseDependencies(container),
      };
      // The same builders the Lambda entry point runs: a missing or bad variable throws, naming it.
      expect(build[handler]).not.toThrow();
    });
  });

  describe.runIf(loadStackConfig(stack).accountsDatabase.enabled)("accounts database", () => {
    it("is encrypted, private, password managed by RDS, and protected as configured", () => {
      const db = run.named("aws:rds/instance:Instance", "accounts-mysql").inputs;
      expect(db).toMatchObject({
        engine: "mysql",
        storageEncrypted: true,
        publiclyAccessible: false,
        manageMasterUserPassword: true,
        deletionProtection: config.deletionProtection,
        backupRetentionPeriod: config.accountsDatabase.backupRetentionDays,
        multiAz: config.accountsDatabase.multiAz,
      });
      expect(db.password).toBeUndefined();
      const parameters = run.named("aws:rds/parameterGroup:ParameterGroup", "accounts-parameters").inputs;
      expect(parameters.parameters).toEqual([{ name: "require_secure_transport", value: "1" }]);
    });

    it("hands the setup the master secret's full ARN from the RDS output, and grants that ARN to it alone", () => {
      const db = run.named("aws:rds/instance:Instance", "accounts-mysql");
      const secretArn = (db.state.masterUserSecrets as { secretArn: string }[])[0]!.secretArn;
      expect(secretArn).toMatch(/-[A-Za-z0-9]{6}$/);
      const login = run.named("aws:secretsmanager/secret:Secret", "accounts-purge-login");
      expect(environmentOf(functionOf(run, "setup-accounts-database"))).toMatchObject({
        ACCOUNTS_DB_SECRET_ARN: secretArn,
        ACCOUNTS_PURGE_SECRET_ARN: login.state.arn,
      });
      const policy = run.named("aws:iam/rolePolicy:RolePolicy", "setup-accounts-database-policy");
      expect(
        document(policy.inputs.policy).Statement.filter((s) =>
          asArray(s.Action).some((a) => a.startsWith("secretsmanager:")),
        ),
      ).toEqual([
        expect.objectContaining({ Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] }),
        expect.objectContaining({
          Action: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
          Resource: [login.state.arn],
        }),
      ]);
      const purge = String(
        run.named("aws:iam/rolePolicy:RolePolicy", "purge-unconfirmed-accounts-policy").inputs.policy,
      );
      expect(purge).not.toContain(secretArn);
    });

    it("runs the setup at deployment with a revision of what it applies, once the database is there", () => {
      const invocation = run.named("aws:lambda/invocation:Invocation", "accounts-setup");
      expect(invocation.inputs.functionName).toBe(functionOf(run, "setup-accounts-database").state.name);
      expect(JSON.parse(String(invocation.inputs.input))).toEqual({
        revision: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      expect(invocation.inputs.triggers).toMatchObject({
        database: run.named("aws:rds/instance:Instance", "accounts-mysql").id,
      });
    });

    it("hands the purge its own login's secret, never the master user's, and grants that ARN alone", () => {
      const db = run.named("aws:rds/instance:Instance", "accounts-mysql");
      const secretArn = String(
        run.named("aws:secretsmanager/secret:Secret", "accounts-purge-login").state.arn,
      );
      const fn = functionOf(run, "purge-unconfirmed-accounts");
      expect(environmentOf(fn)).toMatchObject({
        ACCOUNTS_DB_SECRET_ARN: secretArn,
        ACCOUNTS_DB_HOST: db.state.address,
        ACCOUNTS_DB_NAME: config.accountsDatabase.databaseName,
        ACCOUNTS_DB_TLS: "true",
      });
      const policy = run.named("aws:iam/rolePolicy:RolePolicy", "purge-unconfirmed-accounts-policy");
      const secretStatements = document(policy.inputs.policy).Statement.filter((s) =>
        asArray(s.Action).some((a) => a.startsWith("secretsmanager:")),
      );
      expect(secretStatements).toEqual([
        expect.objectContaining({ Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] }),
      ]);
      for (const other of ["post-confirmation", "restore", "erase", "snapshot-and-reconcile"] as const) {
        const text = String(run.named("aws:iam/rolePolicy:RolePolicy", `${other}-policy`).inputs.policy);
        expect(text).not.toContain("secretsmanager");
      }
    });

    it("accepts MySQL only from the purge's group, and the Secrets Manager endpoint only HTTPS from it", () => {
      const groups = run.ofType("aws:ec2/securityGroup:SecurityGroup");
      for (const group of groups) {
        expect(group.inputs.ingress ?? []).toEqual([]);
        expect(group.inputs.egress ?? []).toEqual([]);
      }
      const idOf = (name: string) => run.named("aws:ec2/securityGroup:SecurityGroup", name).id;
      const fnGroup = idOf("accounts-function-sg");
      const rules = (type: string) =>
        run.ofType(type).map((r) => ({
          group: r.inputs.securityGroupId,
          peer: r.inputs.referencedSecurityGroupId,
          port: [r.inputs.fromPort, r.inputs.toPort],
          protocol: r.inputs.ipProtocol,
          cidr: r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6,
        }));
      expect(rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toEqual(
        expect.arrayContaining([
          {
            group: idOf("accounts-database-sg"),
            peer: fnGroup,
            port: [3306, 3306],
            protocol: "tcp",
            cidr: undefined,
          },
          {
            group: idOf("accounts-endpoint-sg"),
            peer: fnGroup,
            port: [443, 443],
            protocol: "tcp",
            cidr: undefined,
          },
        ]),
      );
      expect(rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toHaveLength(2);
      expect(rules("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([
        {
          group: fnGroup,
          peer: idOf("accounts-database-sg"),
          port: [3306, 3306],
          protocol: "tcp",
          cidr: undefined,
        },
        {
          group: fnGroup,
          peer: idOf("accounts-endpoint-sg"),
          port: [443, 443],
          protocol: "tcp",
          cidr: undefined,
        },
      ]);

      const db = run.named("aws:rds/instance:Instance", "accounts-mysql").inputs;
      expect(db.vpcSecurityGroupIds).toEqual([idOf("accounts-database-sg")]);
      const fn = functionOf(run, "purge-unconfirmed-accounts").inputs;
      expect((fn.vpcConfig as Json).securityGroupIds).toEqual([fnGroup]);

      const endpoint = run.named("aws:ec2/vpcEndpoint:VpcEndpoint", "accounts-secrets-endpoint").inputs;
      expect(endpoint).toMatchObject({
        serviceName: `com.amazonaws.${run.region}.secretsmanager`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        securityGroupIds: [idOf("accounts-endpoint-sg")],
      });
    });

    it("runs in isolated subnets of its own VPC: no NAT, no internet route", () => {
      const vpc = run.named("awsx:ec2:Vpc", "accounts-vpc");
      expect(vpc.inputs).toMatchObject({
        natGateways: { strategy: "None" },
        subnetSpecs: [{ type: "Isolated", name: "isolated" }],
      });
      const subnets = vpc.state.isolatedSubnetIds;
      expect((functionOf(run, "purge-unconfirmed-accounts").inputs.vpcConfig as Json).subnetIds).toEqual(
        subnets,
      );
      expect(run.named("aws:rds/subnetGroup:SubnetGroup", "accounts-subnets").inputs.subnetIds).toEqual(
        subnets,
      );
    });
  });

  describe("schedules", () => {
    it("runs both purges and the snapshot on the configured expressions, in the configured time zone", () => {
      const expected: [JobName, string][] = [
        ["purge-unconfirmed-identities", config.schedules.purgeIdentities],
        ["snapshot-and-reconcile", config.schedules.snapshot],
        ...(config.accountsDatabase.enabled
          ? [["purge-unconfirmed-accounts", config.schedules.purgeAccounts] as [JobName, string]]
          : []),
      ];
      const schedules = run.ofType("aws:scheduler/schedule:Schedule");
      expect(schedules).toHaveLength(expected.length);
      const role = run.named("aws:iam/role:Role", "schedules-role");
      // A job on a state machine is started through it (infra/state-machines.test.ts); the others invoked.
      const machineOf = (handler: JobName) =>
        run
          .ofType("aws:sfn/stateMachine:StateMachine")
          .find((machine) => machine.name === `${handler}-state-machine`);
      for (const [handler, expression] of expected) {
        const schedule = run.named("aws:scheduler/schedule:Schedule", `schedules-${handler}`).inputs;
        expect(schedule).toMatchObject({
          scheduleExpression: expression,
          scheduleExpressionTimezone: config.schedules.timezone,
          flexibleTimeWindow: { mode: "OFF" },
          target: {
            arn: machineOf(handler) ? START_EXECUTION_TARGET : functionOf(run, handler).state.arn,
            roleArn: role.state.arn,
          },
        });
      }
      const invoked = expected.filter(([handler]) => !machineOf(handler));
      const started = expected.filter(([handler]) => machineOf(handler));
      expect(started.map(([handler]) => handler).sort()).toEqual([
        "purge-unconfirmed-identities",
        "snapshot-and-reconcile",
      ]);
      const invoke = document(run.named("aws:iam/rolePolicy:RolePolicy", "schedules-invoke").inputs.policy);
      expect(invoke.Statement).toEqual([
        ...(invoked.length > 0
          ? [
              expect.objectContaining({
                Action: ["lambda:InvokeFunction"],
                Resource: invoked.map(([handler]) => functionOf(run, handler).state.arn),
              }),
            ]
          : []),
        expect.objectContaining({
          Action: ["states:StartExecution"],
          Resource: started.map(([handler]) => machineOf(handler)!.state.arn),
        }),
        expect.objectContaining({
          Action: ["sqs:SendMessage"],
          Resource: [run.named("aws:sqs/queue:Queue", "failed-runs-queue").state.arn],
        }),
      ]);
      expect(document(role.inputs.assumeRolePolicy).Statement[0]).toMatchObject({
        Principal: { Service: "scheduler.amazonaws.com" },
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT_ID } },
      });
    });
  });

  describe("alarms", () => {
    it("alarms on every function's errors and throttles, to the encrypted alarm topic", () => {
      const topic = run.named("aws:sns/topic:Topic", "alarms-topic");
      expect(topic.inputs.kmsMasterKeyId).toBe(run.named("aws:kms/key:Key", "alarms-key").state.arn);
      const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
      for (const fn of run.ofType("aws:lambda/function:Function")) {
        for (const metric of ["Errors", "Throttles"]) {
          if (fn.name === "post-confirmation" && metric === "Errors") continue; // next test
          const alarm = alarms.find(
            (a) =>
              a.inputs.metricName === metric && (a.inputs.dimensions as Json).FunctionName === fn.state.name,
          );
          expect(alarm?.inputs, `${metric} of ${fn.name}`).toMatchObject({
            namespace: "AWS/Lambda",
            threshold: 1,
            alarmActions: [topic.state.arn],
          });
        }
      }
    });

    it("alarms on the trigger's errors, leaving out the confirmations it held on purpose (the purge's fence)", () => {
      const topic = run.named("aws:sns/topic:Topic", "alarms-topic");
      const fn = functionOf(run, "post-confirmation");
      const alarm = run.named("aws:cloudwatch/metricAlarm:MetricAlarm", "alarms-post-confirmation-errors");
      expect(alarm.inputs).toMatchObject({
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        alarmActions: [topic.state.arn],
      });
      expect(alarm.inputs.metricQueries).toEqual([
        expect.objectContaining({
          id: "errors",
          returnData: false,
          metric: expect.objectContaining({
            namespace: "AWS/Lambda",
            metricName: "Errors",
            dimensions: { FunctionName: fn.state.name },
            stat: "Sum",
          }),
        }),
        expect.objectContaining({
          id: "held",
          returnData: false,
          metric: expect.objectContaining({
            namespace: "CognitoUserLifecycle",
            metricName: "ConfirmationHeldByFence",
            dimensions: { service: "post-confirmation" },
            stat: "Sum",
          }),
        }),
        expect.objectContaining({ expression: "FILL(errors, 0) - FILL(held, 0)", returnData: true }),
      ]);
      const unchecked = run.named(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "alarms-post-confirmation-fence-unchecked",
      );
      expect(unchecked.inputs).toMatchObject({
        namespace: "CognitoUserLifecycle",
        metricName: "ConfirmationFenceUnchecked",
        dimensions: { service: "post-confirmation" },
        threshold: 1,
      });
    });

    it("alarms when a purge deletes more than the configured threshold, or refuses to run", () => {
      const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
      const purges = [["purge-unconfirmed-identities", "Identities"]];
      if (config.accountsDatabase.enabled) purges.push(["purge-unconfirmed-accounts", "Accounts"]);
      for (const [service, prefix] of purges) {
        const deleted = alarms.find((a) => a.inputs.metricName === `${prefix}Deleted`);
        expect(deleted?.inputs).toMatchObject({
          namespace: "CognitoUserLifecycle",
          dimensions: { service },
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          threshold: config.alarms.purgeDeletionsThreshold + 1,
        });
        expect(alarms.some((a) => a.inputs.metricName === `${prefix}PurgeRefused`)).toBe(true);
      }
    });

    it("mails the configured address, and no one when none is configured", () => {
      const subscriptions = run.ofType("aws:sns/topicSubscription:TopicSubscription");
      if (config.alarms.email === undefined) expect(subscriptions).toEqual([]);
      else
        expect(subscriptions.map((s) => s.inputs)).toEqual([
          expect.objectContaining({ protocol: "email", endpoint: config.alarms.email }),
        ]);
    });
  });

  describe("every policy the stack declares", () => {
    it("names its actions: no `*`, no `service:*`", () => {
      const policies = allPolicies(run);
      expect(policies.length).toBeGreaterThan(10);
      for (const { where, kind, statements } of policies) {
        for (const statement of statements) {
          for (const action of asArray(statement.Action)) {
            // A Deny may cover everything (the TLS-only bucket policy); an Allow never does.
            if (statement.Effect === "Deny" && kind === "resource") continue;
            expect(action, `${where} ${statement.Sid ?? ""}`).not.toMatch(/(^\*$|:\*$)/);
          }
        }
      }
    });

    it("scopes its resources: `*` only where AWS requires it", () => {
      for (const { where, kind, statements } of allPolicies(run)) {
        if (kind === "trust" || kind === "key") continue; // no Resource / the key itself
        for (const statement of statements) {
          if (statement.Effect !== "Allow") continue;
          const resources = asArray(statement.Resource);
          expect(resources.length, where).toBeGreaterThan(0);
          if (resources.includes("*") && where.endsWith("-state-machine-policy")) {
            // A state machine's log delivery: AWS documents `*` for these actions.
            expect(statement.Sid, where).toBe("LogDelivery");
          } else if (resources.includes("*")) {
            // DescribeNetworkInterfaces cannot be scoped; AWS documents `*` for a VPC function's ENIs.
            expect(statement.Sid, where).toBe("VpcNetworkInterfaces");
            expect(["purge-unconfirmed-accounts-policy", "setup-accounts-database-policy"]).toContain(where);
          }
        }
      }
    });
  });

  describe("outputs", () => {
    it("exports every key the CLI reads from `pulumi stack output --json`", () => {
      const databaseKeys = ["accountsDbSecretArn", "accountsDbHost", "accountsDbName"];
      for (const key of Object.keys(OUTPUT_KEYS)) {
        if (!config.accountsDatabase.enabled && databaseKeys.includes(key)) {
          expect(run.outputs[key], key).toBeUndefined();
          continue;
        }
        expect(typeof run.outputs[key], key).toBe("string");
        expect(run.outputs[key], key).not.toBe("");
      }
      expect(run.outputs).toMatchObject({
        userPoolArn: expect.stringMatching(/^arn:aws:cognito-idp:/),
        userPoolClientId: expect.any(String),
        alarmTopicArn: expect.stringMatching(/^arn:aws:sns:/),
      });
      expect(Object.keys(run.outputs.functionNames as Json).sort()).toEqual(
        JOB_NAMES.filter((h) => config.accountsDatabase.enabled || h !== "purge-unconfirmed-accounts").sort(),
      );
    });
  });
});

describe("a stack without the accounts database", () => {
  it("declares no VPC, database or accounts purge, and still everything else", async () => {
    const run = await runProgram("dev", { accountsDatabase: '{"enabled":false}' });
    expect(run.ofType("awsx:ec2:Vpc")).toEqual([]);
    expect(run.ofType("aws:rds/instance:Instance")).toEqual([]);
    expect(run.ofType("aws:lambda/function:Function").map((f) => f.name)).not.toContain(
      "purge-unconfirmed-accounts",
    );
    expect(run.ofType("aws:scheduler/schedule:Schedule")).toHaveLength(2);
    expect(run.outputs.accountsDbSecretArn).toBeUndefined();
    // Without a VPC function, no policy needs a `*` resource (key policies name their own key with `*`) but
    // the state machines' log delivery, whose actions take no resource (infra/state-machines.test.ts).
    for (const policy of allPolicies(run).filter((p) => p.kind !== "key")) {
      for (const statement of policy.statements.filter((s) => s.Sid !== "LogDelivery")) {
        expect(asArray(statement.Resource)).not.toContain("*");
      }
    }
  });
});

describe("restore into other pools", () => {
  it("lets restore write into the configured pools only, and no other function into any of them", async () => {
    const other = "eu-west-1_Other123";
    const run = await runProgram("dev", { restore: JSON.stringify({ targetUserPoolIds: [other] }) });
    const otherArn = `arn:aws:cognito-idp:eu-west-1:${ACCOUNT_ID}:userpool/${other}`;
    const restore = String(run.named("aws:iam/rolePolicy:RolePolicy", "restore-policy").inputs.policy);
    expect(restore).toContain(otherArn);
    for (const fn of JOB_NAMES.filter((h) => h !== "restore")) {
      const text = String(run.named("aws:iam/rolePolicy:RolePolicy", `${fn}-policy`).inputs.policy);
      expect(text, fn).not.toContain(other);
    }
  });
});

describe("missing bundles", () => {
  it("fail the program naming the build step, before anything is deployed from them", async () => {
    const error = await runProgram("dev", {}, { bundleDir: path.join(__dirname, "no-such-dir") }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/bundle of the post-confirmation function is missing .*npm run build/);
  });
});
