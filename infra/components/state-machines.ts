import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { stateMachineDefinition, type SteppedJob } from "../../jobs/state-machine.js";
import type { AwsContext } from "../context.js";
import {
  accountKeyPolicy,
  type KeyPolicy,
  serviceTrustPolicy,
  stateMachineGuardPolicy,
  stateMachinePolicy,
} from "../permissions.js";

export interface SteppedFunction {
  readonly job: SteppedJob;
  /** The job's function (unqualified ARN): the machine's Step Task invokes it. */
  readonly functionArn: pulumi.Input<string>;
}

export interface StateMachinesArgs {
  readonly jobs: readonly SteppedFunction[];
  /** Retention of the machines' log groups, in days. */
  readonly logRetentionDays: number;
  readonly context: AwsContext;
}

/** One job's machine, its role and its log group. */
export interface JobStateMachine {
  readonly job: SteppedJob;
  readonly machine: aws.sfn.StateMachine;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  /** The guard's own policy (ListExecutions on the machine): start executions only once it exists. */
  readonly guardPolicy: aws.iam.RolePolicy;
}

/**
 * A Step Functions Standard state machine per stepped job, its definition generated from the catalogue
 * (jobs/state-machine.ts). Each has its own role (invoke exactly the job's function; list its own executions,
 * by a policy declared after the machine since it names the machine's ARN; deliver its logs) and its own log
 * group, encrypted with a key of these log groups (CloudWatch Logs may use it only for them), logging errors
 * without execution data (a state may hold usernames). Execution history itself stays in Step Functions.
 */
export class StateMachines extends pulumi.ComponentResource {
  readonly machines: JobStateMachine[] = [];
  readonly key?: aws.kms.Key;

  constructor(name: string, args: StateMachinesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:stateMachines:StateMachines", name, {}, opts);
    if (args.jobs.length === 0) {
      this.registerOutputs({});
      return;
    }
    const logGroupPrefix = pulumi.interpolate`/aws/vendedlogs/states/${pulumi.getProject()}/${pulumi.getStack()}`;
    this.key = new aws.kms.Key(
      `${name}-logs-key`,
      {
        description: "Encrypts the lifecycle state machines' log groups",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([args.context.partition, args.context.region, args.context.accountId, logGroupPrefix])
          .apply(([partition, region, account, prefix]) =>
            JSON.stringify(stateMachineLogsKeyPolicy(partition, region, account, prefix)),
          ),
      },
      { parent: this },
    );

    for (const { job, functionArn } of args.jobs) {
      // Under /aws/vendedlogs/: CloudWatch Logs' resource policy for vended logs then covers every group with one
      // statement (its size is limited), as the Step Functions guide recommends.
      const logGroup = new aws.cloudwatch.LogGroup(
        `${job.name}-state-machine-logs`,
        {
          name: pulumi.interpolate`${logGroupPrefix}/${job.name}`,
          retentionInDays: args.logRetentionDays,
          kmsKeyId: this.key.arn,
        },
        { parent: this },
      );
      const role = new aws.iam.Role(
        `${job.name}-state-machine-role`,
        {
          description: `Execution role of the ${job.name} state machine`,
          assumeRolePolicy: args.context.accountId.apply((account) =>
            JSON.stringify(serviceTrustPolicy("states.amazonaws.com", account)),
          ),
        },
        { parent: this },
      );
      const policy = new aws.iam.RolePolicy(
        `${job.name}-state-machine-policy`,
        {
          role: role.id,
          policy: pulumi.output(functionArn).apply((arn) => JSON.stringify(stateMachinePolicy(arn))),
        },
        { parent: this },
      );
      const machine = new aws.sfn.StateMachine(
        `${job.name}-state-machine`,
        {
          type: "STANDARD",
          roleArn: role.arn,
          definition: pulumi
            .output(functionArn)
            .apply((arn) => JSON.stringify(stateMachineDefinition(job, arn))),
          loggingConfiguration: {
            level: "ERROR",
            includeExecutionData: false,
            logDestination: pulumi.interpolate`${logGroup.arn}:*`,
          },
        },
        // Step Functions checks at creation that the role may deliver the logs.
        { parent: this, dependsOn: [policy, logGroup] },
      );
      const guardPolicy = new aws.iam.RolePolicy(
        `${job.name}-state-machine-guard`,
        {
          role: role.id,
          policy: machine.arn.apply((arn) => JSON.stringify(stateMachineGuardPolicy(arn))),
        },
        { parent: this },
      );
      this.machines.push({ job, machine, role, logGroup, guardPolicy });
    }
    this.registerOutputs({ stateMachineArns: this.machines.map((m) => m.machine.arn) });
  }
}

/**
 * The key of the machines' log groups: the account administers it through IAM, and CloudWatch Logs of this
 * region may use it only for the log groups under `logGroupPrefix` (the encryption context names the group).
 */
export function stateMachineLogsKeyPolicy(
  partition: string,
  region: string,
  accountId: string,
  logGroupPrefix: string,
): KeyPolicy {
  return accountKeyPolicy(partition, accountId, [
    {
      Sid: "CloudWatchLogsEncryptsStateMachineLogs",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ],
      Resource: "*",
      Condition: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupPrefix}/*`,
        },
      },
    },
  ]);
}
