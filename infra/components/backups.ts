import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_KEY_PREFIXES } from "../../adapters/s3/permissions.js";
import type { AwsContext } from "../context.js";
import { accountKeyPolicy, type KeyPolicy } from "../permissions.js";
import { statefulOptions } from "../stateful.js";

export interface BackupsArgs {
  readonly context: AwsContext;
  /** Days a replaced or deleted object version is kept before S3 expires it; default 30. */
  readonly noncurrentVersionDays?: number;
  /** Days a snapshot object is kept; default 90. The per-user backups (`users/`) never expire. */
  readonly snapshotRetentionDays?: number;
  /**
   * Days a restore's plan and progress (`restores/`) are kept; default 30. A plan holds the restored users'
   * attributes, so it must not outlive its use by long.
   */
  readonly restoreStateDays?: number;
  /** Pulumi's `protect` and `retainOnDelete` on the bucket and its key (see infra/stateful.ts); default true. */
  readonly protect?: boolean;
}

/**
 * The backup bucket: encrypted with a customer-managed KMS key (bucket key on, so KMS is called per bucket
 * key rather than per object), versioned so an overwrite or a deletion can be undone, closed to the public,
 * reachable over TLS only, and trimmed by lifecycle rules.
 */
export class Backups extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly bucket: aws.s3.Bucket;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cognito-user-lifecycle:backups:Backups", name, {}, opts);
    const protect = args.protect ?? true;

    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        description: "Encrypts the user pool backups",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([args.context.partition, args.context.accountId])
          .apply(([partition, account]) => JSON.stringify(backupKeyPolicy(partition, account))),
      },
      statefulOptions(protect, this),
    );
    new aws.kms.Alias(
      `${name}-key`,
      {
        name: pulumi.interpolate`alias/${pulumi.getProject()}-${pulumi.getStack()}-backups`,
        targetKeyId: this.key.keyId,
      },
      { parent: this },
    );

    this.bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { forceDestroy: false },
      statefulOptions(protect, this),
    );
    const bucket = this.bucket.id;

    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket, versioningConfiguration: { status: "Enabled" } },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn },
            bucketKeyEnabled: true,
          },
        ],
      },
      { parent: this },
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket,
        policy: this.bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))),
      },
      // S3 refuses a bucket policy while public access settings are being applied.
      { parent: this, dependsOn: [publicAccess] },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket,
        rules: [
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 },
          },
          {
            id: "expire-old-snapshots",
            status: "Enabled",
            filter: { prefix: BACKUP_KEY_PREFIXES.snapshots },
            expiration: { days: args.snapshotRetentionDays ?? 90 },
          },
          {
            id: "expire-restore-state",
            status: "Enabled",
            filter: { prefix: BACKUP_KEY_PREFIXES.restores },
            expiration: { days: args.restoreStateDays ?? 30 },
          },
          {
            id: "remove-expired-delete-markers",
            status: "Enabled",
            filter: {},
            expiration: { expiredObjectDeleteMarker: true },
          },
          {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      // Lifecycle rules on noncurrent versions need versioning in place first.
      { parent: this, dependsOn: [versioning] },
    );

    this.registerOutputs({ bucketName: this.bucket.id, keyArn: this.key.arn });
  }
}

/**
 * The backup key's policy: the account's usual one (see accountKeyPolicy), except that nobody may schedule
 * the key's deletion. Every backup, old versions included, is readable only with this key, so losing it loses
 * them all; deleting it first takes a deliberate change of this policy (PutKeyPolicy), never a stack replace,
 * a destroy or a stray API call.
 */
export function backupKeyPolicy(partition: string, accountId: string): KeyPolicy {
  return accountKeyPolicy(
    partition,
    accountId,
    [
      {
        Sid: "NobodySchedulesDeletion",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: ["kms:ScheduleKeyDeletion"],
        Resource: "*",
      },
    ],
    { allowScheduleKeyDeletion: false },
  );
}

/** Denies every request to the bucket and its objects that does not come over TLS. */
export function tlsOnlyBucketPolicy(bucketArn: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}
