/**
 * Least privilege, built rather than written by hand: a function's policy is the join of the port methods it
 * calls (`handlers/permissions.ts`) with the IAM actions each adapter method needs (declared once beside the
 * adapter, `adapters/<technology>/permissions.ts`), scoped to the stack's own resources. No statement has a
 * wildcard action; the only `*` resource is the one AWS requires for a VPC function's network interfaces.
 *
 * Pure functions over resolved ARNs, so the tests evaluate exactly the documents the program deploys.
 */
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
  type S3Use,
} from "../adapters/s3/permissions.js";
import {
  SECRETS_DATABASE_CREDENTIALS_ACTIONS,
  SECRETS_LOGIN_SECRET_ACTIONS,
} from "../adapters/secrets/permissions.js";
import type { PortUses } from "../handlers/permissions.js";

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

/** The resources a function may touch, as ARNs. A use whose resource is missing is a programming error. */
export interface GrantTargets {
  /** The function's own log group. */
  readonly logGroupArn: string;
  /** The stack's pool first, then any other pool a restore may write into. */
  readonly userPoolArns?: readonly string[];
  readonly importLogsRoleArn?: string;
  readonly profileTableArn?: string;
  readonly backupBucketArn?: string;
  readonly backupKeyArn?: string;
  /** The full ARN of the accounts database secret, as RDS reports it (with its random suffix). */
  readonly accountsSecretArn?: string;
  /** The accounts purge login's own secret (read and first written by the database setup). */
  readonly purgeLoginSecretArn?: string;
  /** The function runs in a VPC and must manage its network interfaces. */
  readonly inVpc?: boolean;
  /** A function its schedule invokes directly (not a stepped one): Lambda sends its failed runs to this queue with the function's role. */
  readonly failedRunsQueueArn?: string;
}

/** What Lambda needs of a function's role to deliver a failed asynchronous run to an SQS destination. */
export const FAILED_RUN_DESTINATION_ACTIONS = ["sqs:SendMessage"] as const;

/**
 * Network-interface actions Lambda performs with the execution role of a VPC function (the set of AWS's
 * AWSLambdaVPCAccessExecutionRole, without the logs actions). DescribeNetworkInterfaces and DescribeSubnets
 * cannot be scoped, so AWS documents `*` for all of them.
 */
export const VPC_NETWORK_INTERFACE_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
] as const;

/** Writing to its own log group (created by the program, so no logs:CreateLogGroup). */
export const LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"] as const;

/** S3 actions that apply to the bucket itself rather than to objects. */
const BUCKET_LEVEL_S3_ACTIONS = new Set(["s3:ListBucket", "s3:ListBucketVersions"]);

/** The execution-role policy of one function. */
export function functionPolicy(uses: PortUses, targets: GrantTargets): PolicyDocument {
  const statements: PolicyStatement[] = [allow("Logs", LOG_ACTIONS, [`${targets.logGroupArn}:*`])];

  if (uses.directory?.length) {
    const actions = uses.directory.flatMap((method) => COGNITO_DIRECTORY_ACTIONS[method]);
    statements.push(allow("UserPool", actions, required(targets.userPoolArns, "userPoolArns")));
  }

  if (uses.importer?.length) {
    const actions = uses.importer.flatMap((method) => COGNITO_IMPORT_ACTIONS[method]);
    statements.push(allow("UserImportJobs", actions, required(targets.userPoolArns, "userPoolArns")));
    statements.push({
      ...allow("PassImportLogsRole", COGNITO_IMPORT_ACTIONS.passLogsRole, [
        required(targets.importLogsRoleArn, "importLogsRoleArn"),
      ]),
      Condition: { StringEquals: { "iam:PassedToService": "cognito-idp.amazonaws.com" } },
    });
  }

  if (uses.profiles?.length) {
    const actions = uses.profiles.flatMap((method) => DYNAMO_PROFILE_STORE_ACTIONS[method]);
    statements.push(allow("ProfileTable", actions, [required(targets.profileTableArn, "profileTableArn")]));
  }

  // The stores of the backup bucket (backups, restore state, erasure ledger): one set of statements for all.
  const bucketUses: S3Use[] = [
    ...(uses.backups ?? []).map((method) => S3_BACKUP_STORE_ACTIONS[method]),
    ...(uses.restores ?? []).map((method) => S3_RESTORE_STATE_STORE_ACTIONS[method]),
    ...(uses.erasures ?? []).map((method) => S3_ERASURE_LEDGER_ACTIONS[method]),
  ];
  if (bucketUses.length) {
    const bucket = required(targets.backupBucketArn, "backupBucketArn");
    const bucketActions: string[] = [];
    const objectActions = new Map<string, string[]>();
    const keyActions: string[] = [];
    for (const use of bucketUses) {
      for (const action of use.s3) {
        if (BUCKET_LEVEL_S3_ACTIONS.has(action)) bucketActions.push(action);
        else objectActions.set(use.keyPrefix, [...(objectActions.get(use.keyPrefix) ?? []), action]);
      }
      keyActions.push(...use.kms);
    }
    if (bucketActions.length) statements.push(allow("BackupBucket", bucketActions, [bucket]));
    for (const [prefix, actions] of [...objectActions].sort(([a], [b]) => a.localeCompare(b))) {
      statements.push(allow(`BackupObjects${sidPart(prefix)}`, actions, [`${bucket}/${prefix}*`]));
    }
    if (keyActions.length && targets.backupKeyArn !== undefined) {
      statements.push(allow("BackupKey", keyActions, [targets.backupKeyArn]));
    }
  }

  if (uses.accountsSecret) {
    statements.push(
      allow("AccountsSecret", SECRETS_DATABASE_CREDENTIALS_ACTIONS, [
        required(targets.accountsSecretArn, "accountsSecretArn"),
      ]),
    );
  }

  if (uses.purgeLoginSecret) {
    statements.push(
      allow("PurgeLoginSecret", SECRETS_LOGIN_SECRET_ACTIONS, [
        required(targets.purgeLoginSecretArn, "purgeLoginSecretArn"),
      ]),
    );
  }

  if (targets.failedRunsQueueArn !== undefined) {
    statements.push(allow("FailedRuns", FAILED_RUN_DESTINATION_ACTIONS, [targets.failedRunsQueueArn]));
  }

  if (targets.inVpc) statements.push(allow("VpcNetworkInterfaces", VPC_NETWORK_INTERFACE_ACTIONS, ["*"]));

  return { Version: "2012-10-17", Statement: statements };
}

/**
 * The second policy of a trigger's role: what it reads of the pool that invokes it (`uses.triggeringPool`),
 * on that pool alone. A policy of its own because the pool
 * names the function as its trigger: the function's own policy, declared with the function before the pool,
 * cannot name the pool without a cycle, so this one is declared after the pool.
 */
export function triggeringPoolPolicy(uses: PortUses, userPoolArn: string): PolicyDocument {
  if (!uses.triggeringPool?.length)
    throw new Error("triggeringPoolPolicy: the function reads no triggering pool");
  const actions = uses.triggeringPool.flatMap((method) => COGNITO_TRIGGERING_POOL_ACTIONS[method]);
  return { Version: "2012-10-17", Statement: [allow("TriggeringPool", actions, [userPoolArn])] };
}

/** The trust policy of a role that only `service` may assume, optionally only for this account's resources. */
export function serviceTrustPolicy(service: string, sourceAccount?: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(sourceAccount === undefined
          ? {}
          : { Condition: { StringEquals: { "aws:SourceAccount": sourceAccount } } }),
      },
    ],
  };
}

/** The ARN of a user pool of this account and region, from its id. */
export function userPoolArn(
  partition: string,
  region: string,
  accountId: string,
  userPoolId: string,
): string {
  return `arn:${partition}:cognito-idp:${region}:${accountId}:userpool/${userPoolId}`;
}

function allow(sid: string, actions: readonly string[], resources: readonly string[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: "Allow",
    Action: [...new Set(actions)].sort(),
    Resource: [...new Set(resources)],
  };
}

function sidPart(prefix: string): string {
  return prefix
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join("");
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`functionPolicy: ${name} is needed by a use of this function`);
  return value;
}

export interface KeyPolicy {
  readonly Version: "2012-10-17";
  readonly Statement: Record<string, unknown>[];
}

/**
 * A KMS key policy that lets the account administer and use the key through IAM policies (each action
 * named, no `kms:*`), plus `extra` statements for services. In a key policy `Resource: "*"` means the key
 * itself.
 */
export function accountKeyPolicy(
  partition: string,
  accountId: string,
  extra: readonly Record<string, unknown>[] = [],
  options: { allowScheduleKeyDeletion?: boolean } = {},
): KeyPolicy {
  const actions =
    (options.allowScheduleKeyDeletion ?? true)
      ? [...KEY_ACCOUNT_ACTIONS]
      : KEY_ACCOUNT_ACTIONS.filter((action) => action !== "kms:ScheduleKeyDeletion");
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministersAndUsesThroughIam",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: actions,
        Resource: "*",
      },
      ...extra,
    ],
  };
}

/** What the account may do with its keys through IAM: administration, and the uses this system makes. */
export const KEY_ACCOUNT_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:CreateAlias",
  "kms:CreateGrant",
  "kms:Decrypt",
  "kms:DeleteAlias",
  "kms:DescribeKey",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:RetireGrant",
  "kms:RevokeGrant",
  "kms:RotateKeyOnDemand",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
] as const;

/**
 * What a state machine's role needs to send its execution logs to CloudWatch Logs ("Using CloudWatch Logs to
 * log execution history in Step Functions", IAM policies for logging). These log-delivery actions take no
 * resource-level permission: AWS documents `*` for them.
 */
export const STATE_MACHINE_LOG_DELIVERY_ACTIONS = [
  "logs:CreateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:DescribeLogGroups",
  "logs:DescribeResourcePolicies",
  "logs:GetLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:UpdateLogDelivery",
] as const;

/**
 * The execution-role policy of a stepped job's state machine: invoke exactly the job's function (its
 * unqualified ARN and its versions and aliases), and deliver its logs.
 */
export function stateMachinePolicy(functionArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      allow("InvokeJobFunction", ["lambda:InvokeFunction"], [functionArn, `${functionArn}:*`]),
      allow("LogDelivery", STATE_MACHINE_LOG_DELIVERY_ACTIONS, ["*"]),
    ],
  };
}

/**
 * The machine's calls of its own executions: the overlap guard lists them (its first state), and a run
 * that has taken its share of steps starts the execution that continues it (a fresh history). A policy of
 * its own, declared after the machine, since it names the machine's ARN: this machine, no other.
 */
export function stateMachineGuardPolicy(stateMachineArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      allow("ListOwnExecutions", ["states:ListExecutions"], [stateMachineArn]),
      allow("ContinueOwnRuns", ["states:StartExecution"], [stateMachineArn]),
    ],
  };
}
