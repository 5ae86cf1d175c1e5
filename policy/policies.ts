/**
 * The security properties this program promises, as CrossGuard policies: run them with
 * `pulumi preview --policy-pack policy` (see policy/index.ts). Plain data and functions over a resource's
 * type, inputs and options, so the tests call them without the Pulumi CLI.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { STATE_MACHINE_LOG_DELIVERY_ACTIONS, VPC_NETWORK_INTERFACE_ACTIONS } from "../infra/permissions.js";

type Props = Record<string, unknown>;

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const T = {
  userPool: "aws:cognito/userPool:UserPool",
  client: "aws:cognito/userPoolClient:UserPoolClient",
  table: "aws:dynamodb/table:Table",
  bucket: "aws:s3/bucket:Bucket",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  key: "aws:kms/key:Key",
  database: "aws:rds/instance:Instance",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  role: "aws:iam/role:Role",
  schedule: "aws:scheduler/schedule:Schedule",
  fn: "aws:lambda/function:Function",
  eventInvoke: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
} as const;

/** The attribute that binds a person's stable id; users must never write it. */
export const LEGACY_SUB = "custom:legacy_sub";

/**
 * The only actions AWS requires a `*` resource for here: a VPC function's network interfaces, and a state
 * machine's log delivery.
 */
export const WILDCARD_RESOURCE_ACTIONS: ReadonlySet<string> = new Set([
  ...VPC_NETWORK_INTERFACE_ACTIONS,
  ...STATE_MACHINE_LOG_DELIVERY_ACTIONS,
]);

const asArray = <V>(value: V | V[] | undefined): V[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** A policy document's statements; undefined while the document is not known yet (a preview). */
function statementsOf(document: unknown): Statement[] | undefined {
  if (typeof document !== "string") return undefined;
  try {
    return asArray((JSON.parse(document) as { Statement?: Statement | Statement[] }).Statement);
  } catch {
    return undefined;
  }
}

const onType =
  (type: string, check: (props: Props, report: ReportViolation, args: ResourceValidationArgs) => void) =>
  (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type === type) check(args.props as Props, report, args);
  };

export const userPoolDeletionProtection: ResourceValidationPolicy = {
  name: "user-pool-deletion-protection",
  description: "The user pool has Cognito's deletion protection on.",
  enforcementLevel: "mandatory",
  validateResource: onType(T.userPool, (props, report) => {
    if (props.deletionProtection !== "ACTIVE") {
      report("deletionProtection must be ACTIVE: a deleted pool takes every user and password with it");
    }
  }),
};

export const clientWriteAttributes: ResourceValidationPolicy = {
  name: "client-write-attributes",
  description: `App clients list the attributes users may write, never ${LEGACY_SUB} or email_verified.`,
  enforcementLevel: "mandatory",
  validateResource: onType(T.client, (props, report) => {
    const write = props.writeAttributes;
    if (!Array.isArray(write) || write.length === 0) {
      report("writeAttributes must be an explicit list (without one, users may write every attribute)");
      return;
    }
    for (const forbidden of [LEGACY_SUB, "email_verified", "phone_number_verified"]) {
      if (write.includes(forbidden)) report(`writeAttributes must not include ${forbidden}`);
    }
  }),
};

export const bucketSettings: ResourceValidationPolicy = {
  name: "bucket-settings",
  description:
    "Bucket settings are safe: SSE-KMS with a bucket key, versioning enabled, every public access blocked, TLS-only policy.",
  enforcementLevel: "mandatory",
  validateResource: [
    onType(T.encryption, (props, report) => {
      const rules = asArray(props.rules as Props[] | undefined);
      const kms = rules.some((rule) => {
        const sse = rule.applyServerSideEncryptionByDefault as Props | undefined;
        return sse?.sseAlgorithm === "aws:kms" && rule.bucketKeyEnabled === true;
      });
      if (!kms) report("the bucket must be encrypted with SSE-KMS (aws:kms) and a bucket key");
    }),
    onType(T.versioning, (props, report) => {
      if ((props.versioningConfiguration as Props | undefined)?.status !== "Enabled") {
        report("versioning must be Enabled: an overwrite or a deletion must be recoverable");
      }
    }),
    onType(T.publicAccess, (props, report) => {
      for (const flag of [
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
      ]) {
        if (props[flag] !== true) report(`${flag} must be true`);
      }
    }),
    onType(T.bucketPolicy, (props, report) => {
      const statements = statementsOf(props.policy);
      if (statements === undefined) return;
      if (!statements.some(deniesInsecureTransport)) {
        report("the bucket policy must deny every request without TLS (aws:SecureTransport false)");
      }
    }),
  ],
};

function deniesInsecureTransport(statement: Statement): boolean {
  const bool = statement.Condition?.Bool as Record<string, unknown> | undefined;
  return (
    statement.Effect === "Deny" &&
    asArray(statement.Action).some((a) => a === "s3:*") &&
    String(bool?.["aws:SecureTransport"]) === "false"
  );
}

export const bucketsFullySet: StackValidationPolicy = {
  name: "buckets-fully-set",
  description: "Every bucket has its encryption, versioning, public access block and TLS-only policy.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    for (const bucket of args.resources.filter((r) => r.type === T.bucket)) {
      for (const type of [T.encryption, T.versioning, T.publicAccess, T.bucketPolicy]) {
        const found = args.resources.some((r) => r.type === type && dependsOn(r, "bucket", bucket));
        if (!found) report(`bucket ${bucket.name} has no ${type.split(":").pop()}`, bucket.urn);
      }
    }
  },
};

export const iamNoWildcards: ResourceValidationPolicy = {
  name: "iam-no-wildcards",
  description:
    "IAM policies name their actions (no `*`, no `service:*`) and their resources (`*` only for a VPC function's network interfaces and a state machine's log delivery).",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const documents: unknown[] = [];
    if (args.type === T.rolePolicy || args.type === T.policy) documents.push(args.props.policy);
    if (args.type === T.role) {
      for (const inline of asArray(args.props.inlinePolicies as Props[] | undefined)) {
        documents.push(inline.policy);
      }
    }
    for (const document of documents) {
      for (const statement of statementsOf(document) ?? []) {
        if (statement.Effect !== "Allow") continue;
        const actions = asArray(statement.Action);
        for (const action of actions) {
          if (action === "*" || action.endsWith(":*")) report(`action ${action} is a wildcard`);
        }
        if (
          asArray(statement.Resource).includes("*") &&
          !actions.every((action) => WILDCARD_RESOURCE_ACTIONS.has(action))
        ) {
          report(`resource * is granted for ${actions.join(", ")}`);
        }
      }
    }
  },
};

/** The types that hold data; a KMS key counts when it encrypts a bucket. */
const STATEFUL_TYPES: ReadonlySet<string> = new Set([T.userPool, T.table, T.bucket, T.database]);

export const statefulProtected: StackValidationPolicy = {
  name: "stateful-protected",
  description:
    "The user pool, tables, buckets, the keys that encrypt buckets and databases are protected from deletion by Pulumi.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const bucketKeys = new Set<string>();
    for (const encryption of args.resources.filter((r) => r.type === T.encryption)) {
      for (const key of encryption.dependencies.filter((d) => d.type === T.key)) bucketKeys.add(key.urn);
    }
    for (const resource of args.resources) {
      const stateful = STATEFUL_TYPES.has(resource.type) || bucketKeys.has(resource.urn);
      if (stateful && !resource.opts.protect) {
        report(
          `${resource.type.split(":").pop()} ${resource.name} holds data and must be protected`,
          resource.urn,
        );
      }
    }
  },
};

export const schedulesWithoutRetries: StackValidationPolicy = {
  name: "schedules-without-retries",
  description:
    "A scheduled run never repeats itself: no scheduler retries, a dead-letter queue, and its function never retried by Lambda, one run at a time.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const schedule of args.resources.filter((r) => r.type === T.schedule)) {
      const target = (schedule.props.target ?? {}) as Props;
      const retry = (target.retryPolicy ?? {}) as Props;
      if (retry.maximumRetryAttempts !== 0) {
        report(`schedule ${schedule.name} must not retry (retryPolicy.maximumRetryAttempts 0)`, schedule.urn);
      }
      if (!(target.deadLetterConfig as Props | undefined)?.arn) {
        report(`schedule ${schedule.name} needs a dead-letter queue`, schedule.urn);
      }
      for (const fn of (schedule.propertyDependencies.target ?? []).filter((d) => d.type === T.fn)) {
        if (fn.props.reservedConcurrentExecutions !== 1) {
          report(
            `function ${fn.name}, run by a schedule, must run once at a time (reserved concurrency 1)`,
            fn.urn,
          );
        }
        const config = args.resources.find(
          (r) => r.type === T.eventInvoke && dependsOn(r, "functionName", fn),
        );
        if (config?.props.maximumRetryAttempts !== 0) {
          report(
            `function ${fn.name}, run by a schedule, must not be retried by Lambda (event invoke config, 0 retries)`,
            fn.urn,
          );
        }
      }
    }
  },
};

/** Whether `resource`'s input `property` comes from `target` (an output of it). */
function dependsOn(resource: PolicyResource, property: string, target: PolicyResource): boolean {
  return (resource.propertyDependencies[property] ?? []).some((d) => d.urn === target.urn);
}

/** Every policy of the pack. */
export const POLICIES: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  userPoolDeletionProtection,
  clientWriteAttributes,
  bucketSettings,
  bucketsFullySet,
  iamNoWildcards,
  statefulProtected,
  schedulesWithoutRetries,
];
