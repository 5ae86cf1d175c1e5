import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsContext } from "../context.js";
import { accountKeyPolicy, type KeyPolicy } from "../permissions.js";

/** The metrics namespace the functions publish to (runtime/observability.ts). */
export const METRICS_NAMESPACE = "CognitoUserLifecycle";

/** The metric the writers of profiles and backups count a refused identity rebinding in. */
export const IDENTITY_BINDING_CONFLICTS_METRIC = "IdentityBindingConflicts";

/**
 * The Post Confirmation trigger's count of sign-up confirmations it failed on purpose, the user being disabled
 * or gone (the trigger half of the identity purge's fence). The trigger's errors alarm leaves them out.
 */
export const CONFIRMATION_HELD_BY_FENCE_METRIC = "ConfirmationHeldByFence";

/** The trigger's count of confirmations whose fence it could not check (the user could not be read). */
export const CONFIRMATION_FENCE_UNCHECKED_METRIC = "ConfirmationFenceUnchecked";

/** The functions that write profiles and backups for a stable id, and so may meet a binding conflict. */
export const IDENTITY_BINDING_WRITERS = ["post-confirmation", "snapshot-and-reconcile"] as const;

export interface AlarmedFunction {
  /** The handler name, also the `service` dimension of its metrics. */
  readonly handler: string;
  readonly functionName: pulumi.Input<string>;
}

export interface AlarmsArgs {
  readonly functions: readonly AlarmedFunction[];
  /** Mailed every alarm; the subscription must be confirmed from the first mail. */
  readonly email?: string;
  /** One purge run deleting more than this many users or rows alarms. */
  readonly purgeDeletionsThreshold: number;
  /** The scheduled runs' dead-letter queue (see FailedRuns): its first message alarms. */
  readonly failedRunsQueueName?: pulumi.Input<string>;
  /** The stepped jobs' state machines: a failed, timed-out or aborted execution alarms. */
  readonly stateMachines?: readonly { readonly job: string; readonly arn: pulumi.Input<string> }[];
  readonly context: AwsContext;
}

/** The Step Functions metrics of an execution that did not succeed, each alarmed per machine. */
export const STATE_MACHINE_FAILURE_METRICS = [
  "ExecutionsFailed",
  "ExecutionsTimedOut",
  "ExecutionsAborted",
] as const;

/**
 * The alarm topic (encrypted with a key CloudWatch may use) and the alarms: every function's errors and
 * throttles, a purge that deletes more than expected, a purge refused by its safety cap, and confirmations
 * whose profile or backup could not be written.
 */
export class Alarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:alarms:Alarms", name, {}, opts);

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "Encrypts the lifecycle alarm topic",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([args.context.partition, args.context.accountId])
          .apply(([partition, account]) => JSON.stringify(alarmTopicKeyPolicy(partition, account))),
      },
      { parent: this },
    );
    this.topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: key.arn }, { parent: this });
    if (args.email !== undefined) {
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.email },
        { parent: this },
      );
    }

    const alarm = (
      suffix: string,
      description: string,
      metric: { name: string; namespace: string; dimensions: Record<string, pulumi.Input<string>> },
      threshold: number,
      periodSeconds = 300,
    ) => {
      this.alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-${suffix}`,
          {
            alarmDescription: description,
            namespace: metric.namespace,
            metricName: metric.name,
            dimensions: metric.dimensions,
            statistic: "Sum",
            period: periodSeconds,
            evaluationPeriods: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold,
            treatMissingData: "notBreaching",
            alarmActions: [this.topic.arn],
            okActions: [this.topic.arn],
          },
          { parent: this },
        ),
      );
    };

    for (const fn of args.functions) {
      const dimensions = { FunctionName: fn.functionName };
      if (fn.handler === "post-confirmation") {
        this.alarms.push(confirmationErrorsAlarm(`${name}-${fn.handler}-errors`, fn, this.topic.arn, this));
      } else {
        alarm(
          `${fn.handler}-errors`,
          `${fn.handler} failed`,
          { name: "Errors", namespace: "AWS/Lambda", dimensions },
          1,
        );
      }
      alarm(
        `${fn.handler}-throttles`,
        `${fn.handler} was throttled`,
        { name: "Throttles", namespace: "AWS/Lambda", dimensions },
        1,
      );
    }

    const custom = (service: string, metricName: string) => ({
      name: metricName,
      namespace: METRICS_NAMESPACE,
      dimensions: { service },
    });
    const purges = [
      ["purge-unconfirmed-identities", "Identities", "users"],
      ["purge-unconfirmed-accounts", "Accounts", "rows"],
    ] as const;
    for (const [handler, prefix, what] of purges) {
      if (!args.functions.some((fn) => fn.handler === handler)) continue;
      // "More than N" with a ≥ comparison: N + 1.
      alarm(
        `${handler}-too-many-deleted`,
        `${handler} deleted more than ${args.purgeDeletionsThreshold} ${what} in an hour`,
        custom(handler, `${prefix}Deleted`),
        args.purgeDeletionsThreshold + 1,
        3600,
      );
      alarm(
        `${handler}-refused`,
        `${handler} refused to run: too large a share of ${what} was eligible; check the clock and the policy`,
        custom(handler, `${prefix}PurgeRefused`),
        1,
        3600,
      );
    }
    if (args.functions.some((fn) => fn.handler === "post-confirmation")) {
      alarm(
        "post-confirmation-sync-failed",
        "A confirmed user's profile or backup could not be written; the next reconcile repairs it",
        custom("post-confirmation", "SyncFailed"),
        1,
      );
    }
    if (args.functions.some((fn) => fn.handler === "post-confirmation")) {
      alarm(
        "post-confirmation-fence-unchecked",
        "A confirmation's user could not be read, so the purge's fence was not checked: by default it was let through (a purge running then may have deleted that user); with SYNC_FAILURE_MODE=fail it was failed",
        custom("post-confirmation", CONFIRMATION_FENCE_UNCHECKED_METRIC),
        1,
      );
    }
    // A stable user id already bound to another username: the write was refused, never applied. Either a
    // user tried to claim someone else's id, or a restore or an import went wrong; look before it spreads.
    for (const handler of IDENTITY_BINDING_WRITERS) {
      if (!args.functions.some((fn) => fn.handler === handler)) continue;
      alarm(
        `${handler}-identity-binding-conflict`,
        `${handler} refused a write: a stable user id is bound to another username (possible takeover attempt)`,
        custom(handler, IDENTITY_BINDING_CONFLICTS_METRIC),
        1,
      );
    }
    // A run of a stepped job that did not finish: it failed (a refused second start too), timed out or was
    // stopped. Read the execution's history in the Step Functions console; README "Workflows" says how to resume.
    for (const { job, arn } of args.stateMachines ?? []) {
      for (const metric of STATE_MACHINE_FAILURE_METRICS) {
        alarm(
          `${job}-state-machine-${metric}`,
          `${job}: an execution of its state machine did not succeed (${metric}); read its history and resume it`,
          { name: metric, namespace: "AWS/States", dimensions: { StateMachineArn: arn } },
          1,
        );
      }
    }
    if (args.failedRunsQueueName !== undefined) {
      alarm(
        "failed-runs",
        "A scheduled run failed, timed out or could not be delivered; it is not retried: read the failed-runs queue",
        {
          name: "ApproximateNumberOfMessagesVisible",
          namespace: "AWS/SQS",
          dimensions: { QueueName: args.failedRunsQueueName },
        },
        1,
      );
    }

    this.registerOutputs({ topicArn: this.topic.arn });
  }
}

/**
 * The trigger's errors alarm: Lambda's Errors of the function less the confirmations it failed on purpose
 * because the user is disabled or gone (its ConfirmationHeldByFence count). Failing such a confirmation is the
 * purge's fence at work, or an operator's disable, never a fault; but the function must throw to fail it, and
 * Lambda counts that as an error. Both are summed over the same five minutes; a held confirmation whose two
 * data points fall on either side of a period's edge can still alarm once.
 */
function confirmationErrorsAlarm(
  name: string,
  fn: AlarmedFunction,
  topicArn: pulumi.Output<string>,
  parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm {
  const period = 300;
  return new aws.cloudwatch.MetricAlarm(
    name,
    {
      alarmDescription: `${fn.handler} failed (confirmations held by the purge's fence left out)`,
      metricQueries: [
        {
          id: "errors",
          metric: {
            namespace: "AWS/Lambda",
            metricName: "Errors",
            dimensions: { FunctionName: fn.functionName },
            period,
            stat: "Sum",
          },
          returnData: false,
        },
        {
          id: "held",
          metric: {
            namespace: METRICS_NAMESPACE,
            metricName: CONFIRMATION_HELD_BY_FENCE_METRIC,
            dimensions: { service: fn.handler },
            period,
            stat: "Sum",
          },
          returnData: false,
        },
        {
          id: "failures",
          expression: "FILL(errors, 0) - FILL(held, 0)",
          label: "Errors other than confirmations held by the fence",
          returnData: true,
        },
      ],
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      treatMissingData: "notBreaching",
      alarmActions: [topicArn],
      okActions: [topicArn],
    },
    { parent },
  );
}

/**
 * The alarm topic key's policy: the account administers it through IAM, and CloudWatch, for this account's
 * alarms only, may use it to publish.
 */
export function alarmTopicKeyPolicy(partition: string, accountId: string): KeyPolicy {
  return accountKeyPolicy(partition, accountId, [
    {
      Sid: "CloudWatchAlarmsPublish",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
  ]);
}
