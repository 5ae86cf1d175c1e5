import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { statefulOptions } from "../stateful.js";

export interface ProfilesArgs {
  /** Deletion protection of the table; default true. */
  readonly deletionProtection?: boolean;
  /** Pulumi's `protect` and `retainOnDelete` on the table (see infra/stateful.ts); default true. */
  readonly protect?: boolean;
}

/**
 * The profile table: one item per confirmed user keyed by its stable `id`, on-demand capacity, encrypted at
 * rest with a KMS key, point-in-time recovery on.
 */
export class Profiles extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;

  constructor(name: string, args: ProfilesArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:profiles:Profiles", name, {}, opts);
    this.table = new aws.dynamodb.Table(
      `${name}-table`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "id",
        attributes: [{ name: "id", type: "S" }],
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: args.deletionProtection ?? true,
      },
      statefulOptions(args.protect ?? true, this),
    );
    this.registerOutputs({ tableName: this.table.name, tableArn: this.table.arn });
  }
}
