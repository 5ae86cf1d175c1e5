import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsContext } from "../context.js";
import { serviceTrustPolicy } from "../permissions.js";

export interface ScheduledJob {
  /** Names the schedule (`purge-unconfirmed-identities`). */
  readonly name: string;
  /** `cron(…)` or `rate(…)`, validated by infra/config.ts. */
  readonly expression: string;
  /** The job's function: invoked directly, unless the job runs as a state machine. */
  readonly functionArn: pulumi.Input<string>;
  /** A stepped job's state machine: the schedule starts an execution of it instead. */
  readonly stateMachineArn?: pulumi.Input<string>;
}

/**
 * The target of a schedule that starts a state machine: EventBridge Scheduler's universal target for
 * Step Functions' StartExecution, so the execution is named after the scheduler's attempt
 * (`<aws.scheduler.execution-id>`, a context attribute EventBridge Scheduler fills in; the scheduled time
 * holds `:`, which execution names may not). Overlap is refused by the machine's own guard, not by the name.
 */
export const START_EXECUTION_TARGET = "arn:aws:scheduler:::aws-sdk:sfn:startExecution";

/** The StartExecution request a schedule sends for `stateMachineArn`: the job's start options are `{}`. */
export function startExecutionInput(stateMachineArn: string): string {
  return JSON.stringify({
    StateMachineArn: stateMachineArn,
    Name: "<aws.scheduler.execution-id>",
    Input: "{}",
  });
}

export interface SchedulesArgs {
  /** IANA time zone the cron expressions are read in; default UTC. */
  readonly timezone?: string;
  readonly jobs: readonly ScheduledJob[];
  /** Where an invocation the scheduler could not deliver goes (see FailedRuns). */
  readonly failedRunsQueueArn: pulumi.Input<string>;
  readonly context: AwsContext;
  /** Resources the schedules wait for (the state machines' guard policies). */
  readonly dependsOn?: pulumi.Resource[];
}

/** The longest a scheduled run may wait to start, at the scheduler and then at Lambda: an hour. */
export const SCHEDULED_RUN_MAXIMUM_EVENT_AGE_SECONDS = 3600;

/**
 * EventBridge Scheduler schedules that invoke the scheduled functions, or start the state machines of the
 * stepped jobs, with one role that may invoke exactly those functions and start exactly those machines, and
 * that only the scheduler, for this account, may assume.
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
          .all([
            pulumi.all(args.jobs.filter((job) => !job.stateMachineArn).map((job) => job.functionArn)),
            pulumi.all(args.jobs.flatMap((job) => (job.stateMachineArn ? [job.stateMachineArn] : []))),
            args.failedRunsQueueArn,
          ])
          .apply(([functions, machines, queue]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                ...(functions.length > 0
                  ? [
                      {
                        Sid: "InvokeScheduledFunctions",
                        Effect: "Allow",
                        Action: ["lambda:InvokeFunction"],
                        Resource: functions,
                      },
                    ]
                  : []),
                ...(machines.length > 0
                  ? [
                      {
                        Sid: "StartScheduledStateMachines",
                        Effect: "Allow",
                        Action: ["states:StartExecution"],
                        Resource: machines,
                      },
                    ]
                  : []),
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
              ...(job.stateMachineArn
                ? {
                    arn: START_EXECUTION_TARGET,
                    input: pulumi.output(job.stateMachineArn).apply(startExecutionInput),
                  }
                : { arn: job.functionArn, input: "{}" }),
              roleArn: this.role.arn,
              // Never retried: a failed run alarms (the function's Errors, the failed-runs queue) and the next
              // scheduled run picks up the rest.
              retryPolicy: {
                maximumRetryAttempts: 0,
                maximumEventAgeInSeconds: SCHEDULED_RUN_MAXIMUM_EVENT_AGE_SECONDS,
              },
              deadLetterConfig: { arn: args.failedRunsQueueArn },
            },
          },
          { parent: this, dependsOn: [policy, ...(args.dependsOn ?? [])] },
        ),
    );

    this.registerOutputs({ scheduleNames: this.schedules.map((s) => s.name) });
  }
}
