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
  readonly context: AwsContext;
}

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
        policy: pulumi.all(args.jobs.map((job) => job.functionArn)).apply((arns) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "InvokeScheduledFunctions",
                Effect: "Allow",
                Action: ["lambda:InvokeFunction"],
                Resource: arns,
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
              // A failed run alarms through the function's Errors; the next scheduled run picks up the rest.
              retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 3600 },
            },
          },
          { parent: this, dependsOn: [policy] },
        ),
    );

    this.registerOutputs({ scheduleNames: this.schedules.map((s) => s.name) });
  }
}
