/**
 * The only reader of stack configuration. Every key of the project's namespace is validated here, at
 * preview time, and the program receives one typed object: a bad value fails the program with a message
 * naming the key (`cognito-user-lifecycle:schedules.snapshot: …`), and a key the program does not know (a
 * typo) fails too instead of being silently ignored. Every key and its default is listed in the README.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ValidationError } from "../core/errors.js";
import {
  checkIdentityPurgePolicy,
  formatDuration,
  parsePurgePolicy,
  type PurgePolicy,
} from "../core/purge/index.js";
import { parseScheduleExpression } from "../core/schedule/index.js";
import {
  DEFAULT_PURGE_BATCH_SIZE,
  DEFAULT_PURGE_LANES,
  MAX_PURGE_BATCH_SIZE,
  MAX_PURGE_LANES,
} from "../core/use-cases/purge-unconfirmed-accounts.js";

/** The project name of Pulumi.yaml: the namespace of this program's config keys. */
export const PROJECT = "cognito-user-lifecycle";

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const USER_POOL_ID = /^[a-z]{2}(-[a-z]+)+-\d_[0-9a-zA-Z]+$/;

const schedule = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .superRefine((expression, ctx) => {
      try {
        const parsed = parseScheduleExpression(expression);
        if (parsed.kind === "at") {
          ctx.addIssue({
            code: "custom",
            message: "must repeat: use cron(…) or rate(…), not a one-time at(…)",
          });
        }
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        ctx.addIssue({ code: "custom", message: error.message.replace(/^schedule: /, "") });
      }
    });

const timeZone = z
  .string()
  .default("UTC")
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat("en", { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    },
    { message: "must be an IANA time zone such as UTC or Europe/Berlin" },
  );

const days = (fallback: number, max = 36_500) => z.number().int().min(1).max(max).default(fallback);

/** The schema of every key; nested objects are strict so a misspelt nested key fails too. */
const stackConfigSchema = z.strictObject({
  /** Deletion protection of the user pool, the profile table and the database. */
  deletionProtection: z.boolean().default(true),
  /**
   * Pulumi's `protect` and `retainOnDelete` on everything that holds data: the user pool, the profile table,
   * the backup bucket and its KMS key, the database. A change that would replace one of them, or a
   * `pulumi destroy`, then stops instead of deleting it.
   */
  protectStatefulResources: z.boolean().default(true),
  /** Retention of every function's log group. */
  logRetentionDays: z
    .number()
    .int()
    .default(90)
    .refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
      message: `must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
    }),
  identity: z
    .strictObject({
      mfa: z.enum(["off", "optional", "on"]).default("optional"),
      passwordMinimumLength: z.number().int().min(8).max(99).default(12),
      /** `false`: only administrators create users (AdminCreateUser); sign-up is closed. */
      selfSignUp: z.boolean().default(true),
      /** Cognito's feature plan: LITE, ESSENTIALS (Cognito's default for new pools) or PLUS. */
      tier: z.enum(["LITE", "ESSENTIALS", "PLUS"]).default("ESSENTIALS"),
      /** Mail through Amazon SES instead of Cognito's default sender (whose daily quota is small). */
      email: z
        .strictObject({
          /** The verified SES identity (`arn:aws:ses:<region>:<account>:identity/<domain or address>`). */
          sesSourceArn: z
            .string()
            .regex(
              /^arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity\/.+$/,
              "must be the ARN of a verified SES identity, such as arn:aws:ses:eu-west-1:123456789012:identity/example.com",
            )
            .optional(),
          /** The From address, e.g. `Example <no-reply@example.com>`; needs sesSourceArn. */
          from: z.string().min(3).max(320).optional(),
          replyTo: z.email("must be an email address").optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  sync: z
    .strictObject({
      failureMode: z.enum(["continue", "fail"]).default("continue"),
      deadlineMs: z.number().int().min(500).max(4_500).default(3_000),
    })
    .prefault({}),
  /** The purge policy of both purges (see core/purge). */
  purge: z.unknown().optional(),
  purgeBatchSize: z.number().int().min(1).max(MAX_PURGE_BATCH_SIZE).default(DEFAULT_PURGE_BATCH_SIZE),
  /** Statements a mass purge of the accounts runs side by side: 1 or 2 (the purge's two connections). */
  purgeLanes: z.number().int().min(1).max(MAX_PURGE_LANES).default(DEFAULT_PURGE_LANES),
  schedules: z
    .strictObject({
      timezone: timeZone,
      purgeIdentities: schedule("cron(0 3 * * ? *)"),
      purgeAccounts: schedule("cron(30 3 * * ? *)"),
      snapshot: schedule("cron(0 2 * * ? *)"),
    })
    .prefault({}),
  backups: z
    .strictObject({
      noncurrentVersionDays: days(30),
      snapshotRetentionDays: days(90),
      restoreStateDays: days(30),
    })
    .prefault({}),
  accountsDatabase: z
    .strictObject({
      enabled: z.boolean().default(false),
      instanceClass: z
        .string()
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.t4g.micro")
        .default("db.t4g.micro"),
      engineVersion: z
        .string()
        .regex(
          /^8\.[04](\.\d+)?$/,
          "must be MySQL 8.0 or 8.4, as a major version (8.4) or a full one (8.4.3)",
        )
        .default("8.4"),
      /**
       * RDS Extended Support after the major version's standard support ends: disabled (the default), RDS
       * upgrades the engine instead of charging for it. Applies when the database is created (or restored).
       */
      engineLifecycleSupport: z
        .enum(["open-source-rds-extended-support-disabled", "open-source-rds-extended-support"])
        .default("open-source-rds-extended-support-disabled"),
      allocatedStorageGb: z.number().int().min(20).max(65_536).default(20),
      databaseName: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "must start with a letter and hold only letters, digits and _")
        .default("app"),
      backupRetentionDays: z.number().int().min(1).max(35).default(7),
      multiAz: z.boolean().default(false),
      vpcCidr: z
        .string()
        .regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, "must be an IPv4 CIDR block from /16 to /24")
        .default("10.40.0.0/16"),
      availabilityZones: z.number().int().min(2).max(3).default(2),
      /**
       * The setup applies the accounts table's migration (creates `users` and the purge index). `false`
       * when the application owns that table and its migrations: the setup then only creates the login.
       */
      applyMigrations: z.boolean().default(true),
    })
    .prefault({}),
  alarms: z
    .strictObject({
      /** Where alarms are mailed (the subscription must be confirmed from the mail). */
      email: z.email("must be an email address").optional(),
      /** A purge run deleting more than this many users or rows raises an alarm. */
      purgeDeletionsThreshold: z.number().int().min(1).default(500),
    })
    .prefault({}),
  restore: z
    .strictObject({
      /** Other pools (ids) the restore function may restore into, besides the stack's own. */
      targetUserPoolIds: z
        .array(z.string().regex(USER_POOL_ID, "must be a user pool id such as eu-west-1_AbC123xyz"))
        .default([]),
    })
    .prefault({}),
});

type ParsedConfig = z.infer<typeof stackConfigSchema>;

export type StackConfig = Omit<ParsedConfig, "purge"> & {
  readonly purge: PurgePolicy;
  /** The purge policy as the functions read it from `PURGE_POLICY`. */
  readonly purgePolicyJson: string;
  /** Settings that are valid but risky, each naming its key: printed at every preview. */
  readonly warnings: readonly string[];
};

/** Cognito's default sender: a few dozen mails a day for the whole account (Cognito's quotas page). */
const DEFAULT_SENDER_WARNING =
  `${PROJECT}:identity.email.sesSourceArn is not set while self sign-up is on: Cognito's default email ` +
  "sender has a small daily quota for the whole account, and once it is spent sign-up codes and password " +
  "resets stop being sent. Set a verified SES identity for any stack real users sign up on.";

/**
 * Validates the raw values of the project's namespace (`{ "deletionProtection": "false", "schedules":
 * "{\"snapshot\":…}" }`, as Pulumi hands them over: strings, objects as JSON).
 *
 * @throws ValidationError `CONFIG.INVALID` naming the key (`cognito-user-lifecycle:schedules.snapshot: …`);
 *   when several keys are wrong, every one of them, each on its line (`details.keys` lists them).
 */
export function parseStackConfig(raw: Readonly<Record<string, string>>): StackConfig {
  const values: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(raw)) values[key] = decode(text);

  const parsed = stackConfigSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue));
    const keys = problems.map((p) => p.key);
    if (problems.length === 1) {
      throw new ValidationError("CONFIG.INVALID", problems[0]!.key, problems[0]!.message, {
        details: { keys },
      });
    }
    throw new ValidationError(
      "CONFIG.INVALID",
      PROJECT,
      `${problems.length} settings are invalid:\n${problems.map((p) => `  ${p.key}: ${p.message}`).join("\n")}`,
      { details: { keys } },
    );
  }

  let purge: PurgePolicy;
  try {
    purge = parsePurgePolicy(parsed.data.purge, `${PROJECT}:purge`);
    // The identity purge carries its plan in its step's state: a larger cap would fail at its first run.
    checkIdentityPurgePolicy(purge, `${PROJECT}:purge`);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError("CONFIG.INVALID", error.field, error.message.slice(error.field.length + 2), {
      details: { keys: [error.field] },
    });
  }
  const purgePolicyJson = JSON.stringify({
    minAge: formatDuration(purge.minAgeMs),
    maxDeletionsPerRun: purge.maxDeletionsPerRun,
    maxShareOfPool: purge.maxShareOfPool,
    dryRun: purge.dryRun,
  });
  const email = parsed.data.identity.email;
  if (email.from !== undefined && email.sesSourceArn === undefined) {
    throw new ValidationError(
      "CONFIG.INVALID",
      `${PROJECT}:identity.email.from`,
      "needs identity.email.sesSourceArn (Cognito's default sender has a fixed address)",
      { details: { keys: [`${PROJECT}:identity.email.from`] } },
    );
  }
  const warnings =
    parsed.data.identity.selfSignUp && email.sesSourceArn === undefined ? [DEFAULT_SENDER_WARNING] : [];
  return { ...parsed.data, purge, purgePolicyJson, warnings };
}

/** Reads the stack's configuration from the Pulumi engine and validates it (see {@link parseStackConfig}). */
export function readStackConfig(): StackConfig {
  const prefix = `${PROJECT}:`;
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  const config = parseStackConfig(raw);
  for (const warning of config.warnings) void pulumi.log.warn(warning);
  return config;
}

/** Pulumi passes scalars as strings and objects as JSON; a plain word (`UTC`) is not JSON and stays text. */
function decode(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeIssue(issue: z.core.$ZodIssue): { key: string; message: string } {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(path);
    return {
      key: `${PROJECT}:${[...path, issue.keys[0]].join(".")}`,
      message: `is not a setting of this program (${issue.keys.join(", ")}); known here: ${known.join(", ")}`,
    };
  }
  return { key: `${PROJECT}:${path.join(".")}`, message: issue.message };
}

function knownKeys(path: readonly string[]): string[] {
  let shape: z.ZodType = stackConfigSchema;
  for (const segment of path) {
    const inner = unwrap(shape);
    if (!(inner instanceof z.ZodObject)) return [];
    shape = inner.shape[segment] as z.ZodType;
  }
  const inner = unwrap(shape);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodOptional
    ) {
      current = current.unwrap() as z.ZodType;
    } else return current;
  }
}
