import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsContext } from "../context.js";
import { serviceTrustPolicy } from "../permissions.js";

export interface ScheduledJob {
  /** Names the schedule (`purge-unconfirmed-identities`). */
  readonly name: string;
  /** `cron(…)` or `rate(…)`, validated by infra/config.ts. */
  readonly expression: string;
  readonly functionArn: pulumi.Input<string>;
}

export interface SchedulesArgs {
  /** IANA time zone the cron expressions are read in; default UTC. */
  readonly timezone?: string;
  readonly jobs: readonly ScheduledJob[];
  /** Where an invocation the scheduler could not deliver goes (see FailedRuns). */
  readonly failedRunsQueueArn: pulumi.Input<string>;
  readonly context: AwsContext;
}

/** The longest a scheduled run may wait to start, at the scheduler and then at Lambda: an hour. */
export const SCHEDULED_RUN_MAXIMUM_EVENT_AGE_SECONDS = 3600;

/**
 * EventBridge Scheduler schedules that invoke the scheduled functions, with one role that may invoke
 * exactly those functions and that only the scheduler, for this account, may assume.
 */
export class Schedules extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly schedules: aws.scheduler.Schedule[];

  constructor(name: string, args: SchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:schedules:Schedules", name, {}, opts);

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "EventBridge Scheduler: invokes the scheduled lifecycle functions",
        assumeRolePolicy: args.context.accountId.apply((account) =>
          JSON.stringify(serviceTrustPolicy("scheduler.amazonaws.com", account)),
        ),
      },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-invoke`,
      {
        role: this.role.id,
        policy: pulumi
          .all([pulumi.all(args.jobs.map((job) => job.functionArn)), args.failedRunsQueueArn])
          .apply(([arns, queue]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: "InvokeScheduledFunctions",
                  Effect: "Allow",
                  Action: ["lambda:InvokeFunction"],
                  Resource: arns,
                },
                {
                  // The schedule's role delivers its dead letters (EventBridge Scheduler user guide,
                  // "Configuring a schedule's dead-letter queue").
                  Sid: "DeliverFailedInvocations",
                  Effect: "Allow",
                  Action: ["sqs:SendMessage"],
                  Resource: [queue],
                },
              ],
            }),
          ),
      },
      { parent: this },
    );

    this.schedules = args.jobs.map(
      (job) =>
        new aws.scheduler.Schedule(
          `${name}-${job.name}`,
          {
            description: `Runs ${job.name}`,
            scheduleExpression: job.expression,
            scheduleExpressionTimezone: args.timezone ?? "UTC",
            flexibleTimeWindow: { mode: "OFF" },
            state: "ENABLED",
            target: {
              arn: job.functionArn,
              roleArn: this.role.arn,
              input: "{}",
              // Never retried: a failed run alarms (the function's Errors, the failed-runs queue) and the next
              // scheduled run picks up the rest.
              retryPolicy: {
                maximumRetryAttempts: 0,
                maximumEventAgeInSeconds: SCHEDULED_RUN_MAXIMUM_EVENT_AGE_SECONDS,
              },
              deadLetterConfig: { arn: args.failedRunsQueueArn },
            },
          },
          { parent: this, dependsOn: [policy] },
        ),
    );

    this.registerOutputs({ scheduleNames: this.schedules.map((s) => s.name) });
  }
}
