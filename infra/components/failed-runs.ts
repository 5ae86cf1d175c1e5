import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** How long a failed run's message stays to be looked at: SQS's longest, 14 days. */
export const FAILED_RUNS_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * The dead-letter queue of the scheduled runs: EventBridge Scheduler puts there an invocation it could not
 * deliver, and Lambda a run that failed or waited too long (neither is retried). Encrypted at rest
 * (SSE-SQS); an alarm fires on its first message (see Alarms).
 */
export class FailedRuns extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:schedules:FailedRuns", name, {}, opts);
    this.queue = new aws.sqs.Queue(
      `${name}-queue`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: FAILED_RUNS_RETENTION_SECONDS },
      { parent: this },
    );
    this.registerOutputs({ queueArn: this.queue.arn, queueName: this.queue.name });
  }
}
