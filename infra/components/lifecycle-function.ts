import { existsSync } from "node:fs";
import path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { JobName } from "../../jobs/catalogue.js";
import type { PolicyDocument } from "../permissions.js";
import { serviceTrustPolicy } from "../permissions.js";

export interface LifecycleFunctionArgs {
  /** Which handler: its bundle is `<bundleDir>/<handler>/index.js`. */
  readonly handler: JobName;
  /** Where `npm run build` wrote the bundles. */
  readonly bundleDir: string;
  readonly description: string;
  /** Seconds; Lambda allows up to 900. */
  readonly timeout: number;
  /** MB; default 256. */
  readonly memorySize?: number;
  readonly environment: Record<string, pulumi.Input<string>>;
  /** Retention of the function's log group, in days. */
  readonly logRetentionDays: number;
  /**
   * The execution role's only policy, built from the log group's ARN (see infra/permissions.ts), so it can
   * name the log group the component creates.
   */
  readonly policy: (logGroupArn: pulumi.Output<string>) => pulumi.Output<PolicyDocument>;
  /**
   * A job run on a schedule, directly or through its state machine: one run at a time (reserved concurrency 1).
   * For a stepped job the machine's guard already keeps runs from overlapping and invokes one step after
   * another; the reservation still holds a second invocation (a manual `aws lambda invoke`, a step retried
   * while its first attempt is still running) off the pool and Cognito's quotas: Lambda throttles it
   * (TooManyRequestsException), which the machine retries with backoff.
   */
  readonly oneAtATime?: boolean;
  /**
   * A job its schedule invokes directly, asynchronously: such an invocation is never retried by Lambda (a
   * purge that deleted and then timed out must not run again at once, up to three times the per-run cap); an
   * event that failed, or waited longer than `maximumEventAgeSeconds`, goes to `failedRunsQueueArn` (the
   * role's policy must allow sqs:SendMessage on it). Absent for a stepped job: its state machine invokes it
   * synchronously (RequestResponse), where these settings and the destination never apply.
   */
  readonly asynchronous?: {
    readonly maximumEventAgeSeconds: number;
    readonly failedRunsQueueArn: pulumi.Input<string>;
  };
  /** Runs in these subnets with these security groups (the accounts purge). */
  readonly vpc?: {
    readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    readonly securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  };
}

/**
 * One handler as a Lambda function: the esbuild bundle as a FileArchive (nodejs22.x, arm64), its own role
 * holding one inline policy of exactly what the handler calls, and its own log group with a retention.
 */
export class LifecycleFunction extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  /** The asynchronous-invocation settings of a function its schedule invokes directly. */
  readonly eventInvokeConfig?: aws.lambda.FunctionEventInvokeConfig;

  constructor(name: string, args: LifecycleFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:functions:LifecycleFunction", name, {}, opts);
    const code = bundlePath(args.bundleDir, args.handler);

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: pulumi.interpolate`/aws/lambda/${pulumi.getProject()}/${pulumi.getStack()}/${args.handler}`,
        retentionInDays: args.logRetentionDays,
      },
      { parent: this },
    );

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Execution role of the ${args.handler} function`,
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy("lambda.amazonaws.com")),
      },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: args.policy(this.logGroup.arn).apply((document) => JSON.stringify(document)),
      },
      { parent: this },
    );

    this.function = new aws.lambda.Function(
      `${name}`,
      {
        description: args.description,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ["arm64"],
        handler: "index.handler",
        code: new pulumi.asset.FileArchive(path.dirname(code)),
        role: this.role.arn,
        timeout: args.timeout,
        memorySize: args.memorySize ?? 256,
        environment: {
          variables: { NODE_OPTIONS: "--enable-source-maps", ...args.environment },
        },
        loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
        ...(args.oneAtATime ? { reservedConcurrentExecutions: 1 } : {}),
        ...(args.vpc
          ? { vpcConfig: { subnetIds: args.vpc.subnetIds, securityGroupIds: args.vpc.securityGroupIds } }
          : {}),
      },
      // The role must hold its policy before the first invocation, and logs need their group.
      { parent: this, dependsOn: [policy, this.logGroup] },
    );

    if (args.asynchronous) {
      // Lambda's defaults for an asynchronous invocation are two retries and six hours (AWS Lambda developer
      // guide, "Configuring error handling for asynchronous invocation").
      this.eventInvokeConfig = new aws.lambda.FunctionEventInvokeConfig(
        `${name}-async`,
        {
          functionName: this.function.name,
          maximumRetryAttempts: 0,
          maximumEventAgeInSeconds: args.asynchronous.maximumEventAgeSeconds,
          destinationConfig: { onFailure: { destination: args.asynchronous.failedRunsQueueArn } },
        },
        { parent: this },
      );
    }

    this.registerOutputs({ functionName: this.function.name, functionArn: this.function.arn });
  }
}

/**
 * The bundle of a handler, checked to exist: Pulumi reads a FileArchive only when it deploys, so a missing
 * build would otherwise surface late, or as an empty function.
 */
export function bundlePath(bundleDir: string, handler: JobName): string {
  const file = path.resolve(bundleDir, handler, "index.js");
  if (!existsSync(file)) {
    throw new Error(
      `The bundle of the ${handler} function is missing (${file}): run \`npm run build\` before \`pulumi preview\` or \`pulumi up\``,
    );
  }
  return file;
}
