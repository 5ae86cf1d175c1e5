import type { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import * as z from "zod/mini";
import "../../core/validation.js";
import { LifecycleError, ValidationError } from "../../core/errors.js";
import { asUnreachable } from "../shared/network-errors.js";

/** What the accounts purge needs to open its MySQL connection. */
export interface DatabaseCredentials {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
}

/** How long a container keeps the credentials before it reads the secret again (rotation picks up within it). */
export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

const nonEmpty = z.string().check(z.minLength(1));
const credentialsSchema = z.object({
  username: nonEmpty,
  password: nonEmpty,
  host: nonEmpty,
  // RDS-generated secrets hold the port as a number; hand-made ones often as a string.
  port: z.pipe(
    z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number))]),
    z.number().check(z.int(), z.minimum(1), z.maximum(65535)),
  ),
  dbname: nonEmpty,
});

export interface SecretDatabaseCredentialsOptions {
  /** Seconds the value is cached per container (default {@link DEFAULT_SECRET_MAX_AGE_SECONDS}). */
  readonly maxAgeSeconds?: number;
  /**
   * Values used for fields the secret lacks. A secret managed by RDS itself (`ManageMasterUserPassword`)
   * holds only `username` and `password`; host, port and database name then come from the stack.
   */
  readonly fallback?: Partial<Pick<DatabaseCredentials, "host" | "port" | "dbname">>;
}

/**
 * Database credentials from a Secrets Manager secret (a JSON object
 * `{username, password, host, port, dbname}`), read through Powertools' SecretsProvider so each container
 * caches them for a while. Every read is validated: a missing or empty field is a `SECRET.INVALID` error
 * naming the field — never its value.
 */
export class SecretDatabaseCredentials {
  private readonly maxAge: number;

  constructor(
    private readonly provider: SecretsProvider,
    private readonly secretId: string,
    private readonly options: SecretDatabaseCredentialsOptions = {},
  ) {
    if (secretId.trim() === "") {
      throw new ValidationError("CONFIG.INVALID", "secretId", "is empty: give the secret's ARN or name");
    }
    this.maxAge = options.maxAgeSeconds ?? DEFAULT_SECRET_MAX_AGE_SECONDS;
  }

  /**
   * The credentials, from the container's cache while fresh. `refresh: true` reads the secret again, for a
   * caller whose login was refused (the password may just have been rotated).
   */
  async get(options: { refresh?: boolean } = {}): Promise<DatabaseCredentials> {
    const raw = await this.read(options.refresh ?? false);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ValidationError("SECRET.INVALID", "secret", "is not a JSON object", {
        details: { secretId: this.secretId },
      });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ValidationError("SECRET.INVALID", "secret", "is not a JSON object", {
        details: { secretId: this.secretId },
      });
    }
    const withFallback = { ...this.options.fallback, ...withoutEmpty(parsed as Record<string, unknown>) };
    const result = credentialsSchema.safeParse(withFallback);
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = String(issue?.path[0] ?? "secret");
      const missing = withFallback[field as keyof typeof withFallback] === undefined;
      throw new ValidationError(
        "SECRET.INVALID",
        `secret.${field}`,
        missing
          ? "is missing"
          : "is not valid (port must be an integer from 1 to 65535; other fields non-empty text)",
        { details: { secretId: this.secretId } },
      );
    }
    return result.data;
  }

  private async read(forceFetch: boolean): Promise<string> {
    let value: unknown;
    try {
      value = await this.provider.get(this.secretId, { maxAge: this.maxAge, forceFetch });
    } catch (error) {
      throw secretReadError(this.secretId, error);
    }
    if (typeof value === "string") return value;
    if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
    throw new LifecycleError("SECRET.UNAVAILABLE", `Secret ${this.secretId} has no value`, {
      details: { secretId: this.secretId },
    });
  }
}

/** Drops empty strings, so a blank field in the secret falls back like a missing one. */
function withoutEmpty(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== "" && value !== null));
}

/** One clear error for a secret that cannot be read, whatever layer the failure came from. */
function secretReadError(secretId: string, error: unknown): LifecycleError {
  const unreachable = asUnreachable("Secrets Manager", "GetSecretValue", error);
  if (unreachable) return unreachable;
  const cause = rootCause(error);
  const name = cause instanceof Error ? cause.name : "UnknownError";
  const reason: Record<string, string> = {
    ResourceNotFoundException: "does not exist",
    AccessDeniedException:
      "cannot be read with this role (secretsmanager:GetSecretValue or kms:Decrypt denied)",
    DecryptionFailure: "cannot be decrypted with its KMS key",
    InvalidRequestException: "is scheduled for deletion or otherwise unusable",
  };
  return new LifecycleError(
    "SECRET.UNAVAILABLE",
    `Secret ${secretId} ${reason[name] ?? `cannot be read (${name})`}`,
    {
      cause: error,
      details: { secretId, reason: name },
    },
  );
}

function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error && current.cause !== undefined; depth++) {
    current = current.cause;
  }
  return current;
}
