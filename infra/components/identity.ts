import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsContext } from "../context.js";
import { serviceTrustPolicy } from "../permissions.js";

export interface IdentityArgs {
  /** `off`, `optional` (default: users may add an authenticator app) or `on` (every sign-in needs one). */
  readonly mfa?: "off" | "optional" | "on";
  /** Minimum password length; default 12. Lower, upper case, digits and symbols are always required. */
  readonly passwordMinimumLength?: number;
  /** Deletion protection of the pool; default true. */
  readonly deletionProtection?: boolean;
  /** `false` closes sign-up: only administrators create users. Default true. */
  readonly selfSignUp?: boolean;
  /** The Post Confirmation trigger's function. */
  readonly postConfirmation: { readonly arn: pulumi.Input<string>; readonly name: pulumi.Input<string> };
  readonly context: AwsContext;
}

/**
 * The user pool (email sign-in and verification, the `legacy_sub` attribute a restore writes the old `sub`
 * into), its app client, the Post Confirmation trigger with an invoke permission scoped to this pool, and
 * the CloudWatch Logs role Cognito's user import jobs write with.
 */
export class Identity extends pulumi.ComponentResource {
  readonly userPool: aws.cognito.UserPool;
  readonly client: aws.cognito.UserPoolClient;
  readonly importLogsRole: aws.iam.Role;

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:identity:Identity", name, {}, opts);
    const mfa = args.mfa ?? "optional";

    this.userPool = new aws.cognito.UserPool(
      `${name}-pool`,
      {
        usernameAttributes: ["email"],
        autoVerifiedAttributes: ["email"],
        usernameConfiguration: { caseSensitive: false },
        accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
        adminCreateUserConfig: { allowAdminCreateUserOnly: !(args.selfSignUp ?? true) },
        passwordPolicy: {
          minimumLength: args.passwordMinimumLength ?? 12,
          requireLowercase: true,
          requireUppercase: true,
          requireNumbers: true,
          requireSymbols: true,
          temporaryPasswordValidityDays: 7,
        },
        mfaConfiguration: mfa.toUpperCase(),
        ...(mfa === "off" ? {} : { softwareTokenMfaConfiguration: { enabled: true } }),
        deletionProtection: (args.deletionProtection ?? true) ? "ACTIVE" : "INACTIVE",
        schemas: [
          {
            name: "legacy_sub",
            attributeDataType: "String",
            mutable: true,
            developerOnlyAttribute: false,
            stringAttributeConstraints: { minLength: "0", maxLength: "64" },
          },
        ],
        lambdaConfig: { postConfirmation: args.postConfirmation.arn },
      },
      { parent: this },
    );

    this.client = new aws.cognito.UserPoolClient(
      `${name}-client`,
      {
        userPoolId: this.userPool.id,
        generateSecret: false,
        explicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        preventUserExistenceErrors: "ENABLED",
        enableTokenRevocation: true,
      },
      { parent: this },
    );

    new aws.lambda.Permission(
      `${name}-post-confirmation-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: args.postConfirmation.name,
        principal: "cognito-idp.amazonaws.com",
        sourceArn: this.userPool.arn,
      },
      { parent: this },
    );

    // Cognito writes each import job's log with this role; only Cognito, on behalf of this account, may
    // assume it, and it may write only Cognito's log groups.
    this.importLogsRole = new aws.iam.Role(
      `${name}-import-logs`,
      {
        description: "CloudWatch Logs for Cognito user import jobs",
        assumeRolePolicy: args.context.accountId.apply((account) =>
          JSON.stringify(serviceTrustPolicy("cognito-idp.amazonaws.com", account)),
        ),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-import-logs`,
      {
        role: this.importLogsRole.id,
        policy: pulumi
          .all([args.context.partition, args.context.region, args.context.accountId])
          .apply(([p, r, account]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: "ImportJobLogs",
                  Effect: "Allow",
                  Action: [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                  ],
                  Resource: [`arn:${p}:logs:${r}:${account}:log-group:/aws/cognito/*`],
                },
              ],
            }),
          ),
      },
      { parent: this },
    );

    this.registerOutputs({
      userPoolId: this.userPool.id,
      userPoolArn: this.userPool.arn,
      clientId: this.client.id,
      importLogsRoleArn: this.importLogsRole.arn,
    });
  }
}
