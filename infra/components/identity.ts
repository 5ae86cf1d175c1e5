import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsContext } from "../context.js";
import { serviceTrustPolicy } from "../permissions.js";
import { statefulOptions } from "../stateful.js";

/** The attribute a restore writes the user's original sub into, and the stable user id is read from. */
export const LEGACY_SUB_ATTRIBUTE = "custom:legacy_sub";

/**
 * What the app client (a user, through the client's tokens: SignUp, UpdateUserAttributes) may write. Never
 * `custom:legacy_sub`: a user who could set it could claim another person's stable id. Never `email_verified`
 * either: only Cognito's verification sets it. Administrators (AdminCreateUser, import jobs) are not bound by
 * this list; Cognito applies it to the client's calls only.
 */
export const CLIENT_WRITE_ATTRIBUTES = [
  "email",
  "name",
  "given_name",
  "family_name",
  "locale",
  "zoneinfo",
] as const;

/** What the app client may read: what it may write, whether the email is verified, and the stable id. */
export const CLIENT_READ_ATTRIBUTES = [
  ...CLIENT_WRITE_ATTRIBUTES,
  "email_verified",
  LEGACY_SUB_ATTRIBUTE,
] as const;

export interface IdentityArgs {
  /** `off`, `optional` (default: users may add an authenticator app) or `on` (every sign-in needs one). */
  readonly mfa?: "off" | "optional" | "on";
  /** Minimum password length; default 12. Lower, upper case, digits and symbols are always required. */
  readonly passwordMinimumLength?: number;
  /** Deletion protection of the pool; default true. */
  readonly deletionProtection?: boolean;
  /** `false` closes sign-up: only administrators create users. Default true. */
  readonly selfSignUp?: boolean;
  /** Pulumi's `protect` and `retainOnDelete` on the pool (see infra/stateful.ts); default true. */
  readonly protect?: boolean;
  /** Cognito's feature plan; default ESSENTIALS. */
  readonly tier?: "LITE" | "ESSENTIALS" | "PLUS";
  /** Mail through this verified SES identity instead of Cognito's default sender. */
  readonly email?: { readonly sesSourceArn?: string; readonly from?: string; readonly replyTo?: string };
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
        userPoolTier: args.tier ?? "ESSENTIALS",
        emailConfiguration:
          args.email?.sesSourceArn === undefined
            ? { emailSendingAccount: "COGNITO_DEFAULT" }
            : {
                emailSendingAccount: "DEVELOPER",
                sourceArn: args.email.sesSourceArn,
                ...(args.email.from === undefined ? {} : { fromEmailAddress: args.email.from }),
                ...(args.email.replyTo === undefined ? {} : { replyToEmailAddress: args.email.replyTo }),
              },
        schemas: [
          {
            name: LEGACY_SUB_ATTRIBUTE.slice("custom:".length),
            attributeDataType: "String",
            // Immutable: set once, when the user is created (AdminCreateUser or an import job, the restore's
            // two ways), and never rebound afterwards, by the user or by an administrator. Cognito cannot
            // change an attribute's mutability once the pool exists (README, "Deploying").
            mutable: false,
            developerOnlyAttribute: false,
            stringAttributeConstraints: { minLength: "0", maxLength: "64" },
          },
        ],
        lambdaConfig: { postConfirmation: args.postConfirmation.arn },
      },
      {
        ...statefulOptions(args.protect ?? true, this),
        // Cognito can add schema attributes but never modify one: a pool created with an earlier schema
        // (legacy_sub mutable) keeps it rather than failing every update.
        ignoreChanges: ["schemas"],
      },
    );

    this.client = new aws.cognito.UserPoolClient(
      `${name}-client`,
      {
        userPoolId: this.userPool.id,
        generateSecret: false,
        explicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        preventUserExistenceErrors: "ENABLED",
        enableTokenRevocation: true,
        writeAttributes: [...CLIENT_WRITE_ATTRIBUTES],
        readAttributes: [...CLIENT_READ_ATTRIBUTES],
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
