/**
 * Every function's real execution-role policy, as the program declares it, evaluated by an IAM policy
 * simulator (@cloud-copilot/iam-simulate): each handler is allowed exactly the calls its adapters make on
 * its own resources, and denied every other call the adapters know of and representative neighbours. An
 * AccessDenied shows up here, not after `pulumi up`.
 */
import { isWildcardOnlyAction, runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { beforeAll, describe, expect, it } from "vitest";
import {
  COGNITO_DIRECTORY_ACTIONS,
  COGNITO_IMPORT_ACTIONS,
  COGNITO_TRIGGERING_POOL_ACTIONS,
} from "../adapters/cognito/permissions.js";
import { DYNAMO_PROFILE_STORE_ACTIONS } from "../adapters/dynamodb/permissions.js";
import {
  S3_BACKUP_STORE_ACTIONS,
  S3_ERASURE_LEDGER_ACTIONS,
  S3_RESTORE_STATE_STORE_ACTIONS,
} from "../adapters/s3/permissions.js";
import {
  SECRETS_DATABASE_CREDENTIALS_ACTIONS,
  SECRETS_LOGIN_SECRET_ACTIONS,
} from "../adapters/secrets/permissions.js";
import { FUNCTION_PORT_USES, type PortUses } from "../handlers/permissions.js";
import { JOB_NAMES, type JobName, jobEntry } from "../jobs/catalogue.js";
import { LOG_ACTIONS, VPC_NETWORK_INTERFACE_ACTIONS } from "./permissions.js";
import { ACCOUNT_ID, loadStackConfig, type ProgramRun, runProgram, stackNames } from "./testing/program.js";

type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

interface Call {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
}

const key = (call: Call) => `${call.action} ${call.resource}`;

/** The ARNs of one stack, read from what the program declared. */
interface Arns {
  readonly pool: string;
  readonly table: string;
  readonly bucket: string;
  readonly backupKey: string;
  readonly importLogsRole: string;
  /** The database's master secret (RDS's). */
  readonly secret: string;
  /** The accounts purge login's own secret. */
  readonly purgeLogin: string;
  readonly logGroup: (handler: JobName) => string;
  readonly role: (handler: JobName) => string;
}

function arnsOf(run: ProgramRun): Arns {
  const db = run.ofType("aws:rds/instance:Instance")[0];
  return {
    pool: String(run.outputs.userPoolArn),
    table: String(run.named("aws:dynamodb/table:Table", "profiles-table").state.arn),
    bucket: String(run.named("aws:s3/bucket:Bucket", "backups-bucket").state.arn),
    backupKey: String(run.named("aws:kms/key:Key", "backups-key").state.arn),
    importLogsRole: String(run.outputs.importLogsRoleArn),
    // Without the accounts database no secret exists; a stand-in ARN still shows nothing may read one.
    secret: db
      ? (db.state.masterUserSecrets as { secretArn: string }[])[0]!.secretArn
      : `arn:aws:secretsmanager:${run.region}:${ACCOUNT_ID}:secret:rds!db-none-AbCdEf`,
    purgeLogin: String(
      run.ofType("aws:secretsmanager/secret:Secret").find((r) => r.name === "accounts-purge-login")?.state
        .arn ?? `arn:aws:secretsmanager:${run.region}:${ACCOUNT_ID}:secret:purge-login-none-AbCdEf`,
    ),
    logGroup: (handler) => String(run.named("aws:cloudwatch/logGroup:LogGroup", `${handler}-logs`).state.arn),
    role: (handler) => String(run.named("aws:iam/role:Role", `${handler}-role`).state.arn),
  };
}

/**
 * The calls one use of a port makes, on the stack's resources, as the adapters declare them. The secret
 * `accountsSecret` names is the purge login's for the purge, the master user's for the database setup.
 */
function callsOf(uses: PortUses, arns: Arns, handler?: JobName): Call[] {
  const calls: Call[] = [];
  for (const method of uses.directory ?? []) {
    for (const action of COGNITO_DIRECTORY_ACTIONS[method]) calls.push({ action, resource: arns.pool });
  }
  for (const method of uses.triggeringPool ?? []) {
    for (const action of COGNITO_TRIGGERING_POOL_ACTIONS[method]) calls.push({ action, resource: arns.pool });
  }
  for (const method of uses.importer ?? []) {
    for (const action of COGNITO_IMPORT_ACTIONS[method]) calls.push({ action, resource: arns.pool });
  }
  if (uses.importer?.length) {
    calls.push({
      action: "iam:PassRole",
      resource: arns.importLogsRole,
      context: { "iam:PassedToService": "cognito-idp.amazonaws.com" },
    });
  }
  for (const method of uses.profiles ?? []) {
    for (const action of DYNAMO_PROFILE_STORE_ACTIONS[method]) calls.push({ action, resource: arns.table });
  }
  const bucketUses = [
    ...(uses.backups ?? []).map((method) => S3_BACKUP_STORE_ACTIONS[method]),
    ...(uses.restores ?? []).map((method) => S3_RESTORE_STATE_STORE_ACTIONS[method]),
    ...(uses.erasures ?? []).map((method) => S3_ERASURE_LEDGER_ACTIONS[method]),
  ];
  for (const use of bucketUses) {
    for (const action of use.s3) {
      const bucketLevel = action === "s3:ListBucket" || action === "s3:ListBucketVersions";
      calls.push({
        action,
        resource: bucketLevel ? arns.bucket : `${arns.bucket}/${use.keyPrefix}sample.json`,
      });
    }
    for (const action of use.kms) calls.push({ action, resource: arns.backupKey });
  }
  if (uses.accountsSecret) {
    const secret = handler === "purge-unconfirmed-accounts" ? arns.purgeLogin : arns.secret;
    for (const action of SECRETS_DATABASE_CREDENTIALS_ACTIONS) calls.push({ action, resource: secret });
  }
  if (uses.purgeLoginSecret) {
    for (const action of SECRETS_LOGIN_SECRET_ACTIONS) calls.push({ action, resource: arns.purgeLogin });
  }
  return calls;
}

/** Every call any adapter can make, on this stack's resources: the universe a function is measured in. */
function everyAdapterCall(arns: Arns): Call[] {
  const all = <K extends string>(list: Record<K, readonly string[]>) => Object.keys(list) as K[];
  const everything: PortUses = {
    directory: all(COGNITO_DIRECTORY_ACTIONS),
    importer: all(COGNITO_IMPORT_ACTIONS).filter((m) => m !== "passLogsRole") as PortUses["importer"],
    profiles: all(DYNAMO_PROFILE_STORE_ACTIONS),
    backups: Object.keys(S3_BACKUP_STORE_ACTIONS) as PortUses["backups"],
    restores: Object.keys(S3_RESTORE_STATE_STORE_ACTIONS) as PortUses["restores"],
    erasures: Object.keys(S3_ERASURE_LEDGER_ACTIONS) as PortUses["erasures"],
    accountsSecret: true,
    purgeLoginSecret: true,
  };
  return [
    ...callsOf(everything, arns),
    ...SECRETS_LOGIN_SECRET_ACTIONS.map((action) => ({ action, resource: arns.secret })),
  ];
}

/** Every policy the program attaches to a function's role: its own, and any declared apart (the trigger's). */
function rolePolicies(run: ProgramRun, handler: JobName) {
  const role = run.named("aws:iam/role:Role", `${handler}-role`);
  const policies = run
    .ofType("aws:iam/rolePolicy:RolePolicy")
    .filter((policy) => policy.inputs.role === role.id)
    .map((policy) => ({ name: policy.name, policy: JSON.parse(String(policy.inputs.policy)) as unknown }));
  expect(policies.map((p) => p.name)).toContain(`${handler}-policy`);
  return policies;
}

async function decide(run: ProgramRun, handler: JobName, call: Call): Promise<Decision> {
  const arns = arnsOf(run);
  const simulation: Simulation = {
    request: {
      principal: arns.role(handler),
      action: call.action,
      resource: { resource: call.resource, accountId: ACCOUNT_ID },
      contextVariables: {
        "aws:SecureTransport": "true",
        "aws:PrincipalAccount": ACCOUNT_ID,
        ...call.context,
      },
    },
    identityPolicies: rolePolicies(run, handler) as Simulation["identityPolicies"],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (call.resource.startsWith(arns.bucket)) {
    simulation.resourcePolicy = JSON.parse(
      String(run.named("aws:s3/bucketPolicy:BucketPolicy", "backups-tls-only").inputs.policy),
    );
  }
  if (call.action.startsWith("kms:")) {
    // KMS needs the key policy to allow as well: the program declares it, so it is evaluated too.
    const keyPolicy = run.ofType("aws:kms/key:Key").find((k) => k.state.arn === call.resource)?.inputs.policy;
    if (keyPolicy !== undefined) simulation.resourcePolicy = JSON.parse(String(keyPolicy));
  }
  const endpoint = run.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")[0];
  if (call.action.startsWith("secretsmanager:") && endpoint) {
    // The purge reaches Secrets Manager only through the VPC endpoint: its policy applies too.
    simulation.vpcEndpointPolicies = [
      {
        name: "secrets-endpoint",
        policy: JSON.parse(String(endpoint.inputs.policy)),
      },
    ];
  }
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") {
    throw new Error(`the simulator refused ${key(call)}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult as Decision;
}

async function decisions(run: ProgramRun, handler: JobName, calls: readonly Call[]) {
  const out: Record<string, Decision> = {};
  for (const call of calls) out[key(call)] = await decide(run, handler, call);
  return out;
}

const allowedAll = (calls: readonly Call[]) => Object.fromEntries(calls.map((c) => [key(c), "Allowed"]));

describe.each(stackNames())("IAM, evaluated, with Pulumi.%s.yaml", (stack) => {
  let run: ProgramRun;
  let arns: Arns;

  beforeAll(async () => {
    run = await runProgram(stack);
    arns = arnsOf(run);
  }, 60_000);

  const deployed = JOB_NAMES.filter(
    (h) =>
      (h !== "purge-unconfirmed-accounts" && h !== "setup-accounts-database") ||
      loadStackConfig(stack).accountsDatabase.enabled,
  );

  describe.each(deployed)("%s", (handler) => {
    it("is allowed every call its adapters make on its own resources, and to write its logs", async () => {
      const calls = [
        ...callsOf(FUNCTION_PORT_USES[handler], arns, handler),
        ...LOG_ACTIONS.map((action) => ({
          action,
          resource: `${arns.logGroup(handler)}:log-stream:2026/11/21/abc`,
        })),
      ];
      expect(calls.length).toBeGreaterThan(LOG_ACTIONS.length);
      expect(await decisions(run, handler, calls)).toEqual(allowedAll(calls));
    });

    it("is denied every other call the adapters know of", async () => {
      const own = new Set(callsOf(FUNCTION_PORT_USES[handler], arns, handler).map(key));
      const others = everyAdapterCall(arns).filter((call) => !own.has(key(call)));
      expect(others.length).toBeGreaterThan(0);
      const result = await decisions(run, handler, others);
      expect(Object.entries(result).filter(([, d]) => d === "Allowed")).toEqual([]);
    });

    it("is denied representative neighbours: other resources, bucket deletion, role passing, a secret's namesake", async () => {
      const region = run.region;
      const neighbours: Call[] = [
        { action: "s3:DeleteBucket", resource: arns.bucket },
        { action: "s3:PutBucketPolicy", resource: arns.bucket },
        { action: "s3:GetObject", resource: "arn:aws:s3:::another-bucket/users/sample.json" },
        {
          action: "dynamodb:GetItem",
          resource: `arn:aws:dynamodb:${region}:${ACCOUNT_ID}:table/another-table`,
        },
        { action: "dynamodb:Scan", resource: arns.table },
        { action: "dynamodb:DeleteTable", resource: arns.table },
        { action: "kms:Decrypt", resource: `arn:aws:kms:${region}:${ACCOUNT_ID}:key/another-key` },
        { action: "kms:ScheduleKeyDeletion", resource: arns.backupKey },
        {
          action: "cognito-idp:ListUsers",
          resource: `arn:aws:cognito-idp:${region}:${ACCOUNT_ID}:userpool/${region}_Another1`,
        },
        { action: "cognito-idp:DeleteUserPool", resource: arns.pool },
        { action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/administrator` },
        // The same secret name with another random suffix: what a trimmed ARN or `-??????` would also grant.
        {
          action: "secretsmanager:GetSecretValue",
          resource: arns.secret.replace(/-[A-Za-z0-9]{6}$/, "-zZzZ99"),
        },
        {
          action: "secretsmanager:GetSecretValue",
          resource: `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:another-secret-AbCdEf`,
        },
        { action: "secretsmanager:PutSecretValue", resource: arns.secret },
        {
          action: "logs:PutLogEvents",
          resource: `arn:aws:logs:${region}:${ACCOUNT_ID}:log-group:/aws/lambda/another:log-stream:x`,
        },
        {
          action: "lambda:InvokeFunction",
          resource: `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:erase`,
        },
      ];
      const result = await decisions(run, handler, neighbours);
      expect(Object.entries(result).filter(([, d]) => d === "Allowed")).toEqual([]);
    });
  });

  it("lets only the functions their schedule invokes directly send to the failed-runs queue (not a stepped job's)", async () => {
    const queue = String(run.named("aws:sqs/queue:Queue", "failed-runs-queue").state.arn);
    const call: Call = { action: "sqs:SendMessage", resource: queue };
    const result: Record<string, Decision> = {};
    for (const handler of deployed) result[handler] = await decide(run, handler, call);
    const expected = Object.fromEntries(
      deployed.map((handler) => {
        const job = jobEntry(handler);
        return [
          handler,
          job.start === "scheduled" && job.stateMachine !== true ? "Allowed" : "ImplicitlyDenied",
        ];
      }),
    );
    expect(Object.values(expected)).toContain("Allowed");
    expect(deployed.filter((h) => jobEntry(h).stateMachine === true).length).toBeGreaterThanOrEqual(2);
    expect(result).toEqual(expected);
  });

  it.runIf(deployed.includes("purge-unconfirmed-accounts"))(
    "lets the accounts purge manage its network interfaces, and no other function",
    async () => {
      const calls: Call[] = [];
      for (const action of VPC_NETWORK_INTERFACE_ACTIONS) {
        const [service, name] = action.split(":") as [string, string];
        calls.push({
          action,
          resource: (await isWildcardOnlyAction(service, name))
            ? "*"
            : `arn:aws:ec2:${run.region}:${ACCOUNT_ID}:network-interface/eni-0123456789abcdef0`,
        });
      }
      expect(await decisions(run, "purge-unconfirmed-accounts", calls)).toEqual(allowedAll(calls));
      const others = await decisions(run, "restore", calls);
      expect(Object.values(others).every((d) => d !== "Allowed")).toBe(true);
    },
  );

  it("lets the trigger read users of its own pool (AdminGetUser), and nothing else of it or of another pool", async () => {
    expect(
      rolePolicies(run, "post-confirmation")
        .map((p) => p.name)
        .sort(),
    ).toEqual(["post-confirmation-policy", "post-confirmation-pool-policy"]);
    const read = { action: "cognito-idp:AdminGetUser", resource: arns.pool };
    expect(await decide(run, "post-confirmation", read)).toBe("Allowed");
    const another = arns.pool.replace(/userpool\/.+$/, `userpool/${run.region}_Another1`);
    const refused: Call[] = [
      { action: "cognito-idp:AdminGetUser", resource: another },
      ...[
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:AdminDisableUser",
        "cognito-idp:AdminEnableUser",
        "cognito-idp:AdminUpdateUserAttributes",
        "cognito-idp:AdminListGroupsForUser",
        "cognito-idp:ListUsers",
        "cognito-idp:AdminConfirmSignUp",
      ].map((action) => ({ action, resource: arns.pool })),
    ];
    const result = await decisions(run, "post-confirmation", refused);
    expect(Object.entries(result).filter(([, d]) => d === "Allowed")).toEqual([]);
  });

  it("refuses backup traffic that does not come over TLS, whatever the role allows", async () => {
    const result = await decide(run, "post-confirmation", {
      action: "s3:PutObject",
      resource: `${arns.bucket}/users/sample.json`,
      context: { "aws:SecureTransport": "false" },
    });
    expect(result).toBe("ExplicitlyDenied");
  });

  it("passes the import logs role to Cognito only, never to another service", async () => {
    const result = await decide(run, "restore", {
      action: "iam:PassRole",
      resource: arns.importLogsRole,
      context: { "iam:PassedToService": "lambda.amazonaws.com" },
    });
    expect(result).not.toBe("Allowed");
  });
});
