import { randomBytes } from "node:crypto";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { LifecycleError, ValidationError } from "../../core/errors.js";
import { asUnreachable } from "../shared/network-errors.js";

/** A login's name and password, as its secret holds them (`{"username": …, "password": …}`). */
export interface LoginCredentials {
  readonly username: string;
  readonly password: string;
}

/** 32 random bytes as base64url: 43 characters MySQL takes as they are, no quote, no backslash. */
export function generatePassword(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * A database login's own secret, created empty by the stack (so no password ever passes through Pulumi's
 * state) and filled on first use: the password is generated here, in the function, and written to the
 * secret before any database is told about it, so a crash in between leaves a secret the next run reuses.
 */
export class SecretsManagerLoginSecret {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly generate: () => string = generatePassword,
  ) {
    if (secretId.trim() === "") {
      throw new ValidationError("CONFIG.INVALID", "secretId", "is empty: give the secret's ARN or name");
    }
  }

  /**
   * The login's credentials: the secret's current value, or, when it has none yet, `username` with a new
   * password, written as the secret's first version. A value for another user name is refused.
   * @throws LifecycleError `SECRET.UNAVAILABLE` (unreadable or unwritable) or `SECRET.INVALID` (a value that
   *   is not `{username, password}` for `username`), naming the secret, never its value.
   */
  async readOrCreate(username: string): Promise<LoginCredentials> {
    const current = await this.current();
    if (current !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(current);
      } catch {
        parsed = undefined;
      }
      const value = parsed as Partial<LoginCredentials> | undefined;
      if (typeof value?.password !== "string" || value.password.length < 16 || value.username !== username) {
        throw new LifecycleError(
          "SECRET.INVALID",
          `Secret ${this.secretId} does not hold {username: "${username}", password} (a password of 16 characters or more)`,
          { details: { secretId: this.secretId } },
        );
      }
      return { username, password: value.password };
    }
    const created = { username, password: this.generate() };
    try {
      await this.client.send(
        new PutSecretValueCommand({ SecretId: this.secretId, SecretString: JSON.stringify(created) }),
      );
    } catch (error) {
      throw unavailable(this.secretId, "PutSecretValue", error);
    }
    return created;
  }

  /** The current value, or undefined when the secret has no version yet. */
  private async current(): Promise<string | undefined> {
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      return result.SecretString;
    } catch (error) {
      // A secret created without a value: GetSecretValue says it cannot find the AWSCURRENT version.
      if ((error as { name?: unknown }).name === "ResourceNotFoundException") return undefined;
      throw unavailable(this.secretId, "GetSecretValue", error);
    }
  }
}

function unavailable(secretId: string, operation: string, error: unknown): LifecycleError {
  const unreachable = asUnreachable("Secrets Manager", operation, error);
  if (unreachable) return unreachable;
  const name = error instanceof Error ? error.name : "UnknownError";
  return new LifecycleError("SECRET.UNAVAILABLE", `Secret ${secretId}: ${operation} failed (${name})`, {
    cause: error,
    details: { secretId, reason: name },
  });
}
