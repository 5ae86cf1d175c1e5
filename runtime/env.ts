/**
 * The environment each function reads at cold start, validated once: a missing or bad variable stops the
 * container with an error that names the variable (never its value, which may be a secret's ARN or a key).
 */
import { type ErrorCode, ValidationError } from "../core/errors.js";

type Env = Readonly<Record<string, string | undefined>>;

/** Reads variables from `env`, each failure naming the variable. */
export class EnvReader {
  constructor(private readonly env: Env = process.env) {}

  /** A required, non-empty variable. */
  text(name: string): string {
    const value = this.env[name];
    if (value === undefined || value.trim() === "") {
      throw new ValidationError("CONFIG.INVALID", name, "environment variable is missing or empty");
    }
    return value;
  }

  /** An optional variable; empty counts as absent. */
  optionalText(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === "" ? undefined : value;
  }

  /** A variable that must be one of `choices`, or `fallback` when absent. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.optionalText(name);
    if (value === undefined) return fallback;
    if (!(choices as readonly string[]).includes(value)) {
      throw new ValidationError("CONFIG.INVALID", name, `must be one of ${choices.join(", ")}`);
    }
    return value as T;
  }

  /** `true`/`false`, or `fallback` when absent. */
  flag(name: string, fallback: boolean): boolean {
    return this.choice(name, ["true", "false"], fallback ? "true" : "false") === "true";
  }

  /** A whole number within [min, max], or `fallback` when absent. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.optionalText(name);
    if (value === undefined) return fallback;
    const parsed = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new ValidationError("CONFIG.INVALID", name, `must be a whole number from ${min} to ${max}`);
    }
    return parsed;
  }

  /**
   * A JSON value read by `parse` (which names `name` in its errors); `parse(undefined)` when the variable
   * is absent, so the parser supplies the defaults.
   */
  json<T>(name: string, parse: (value: unknown, key: string) => T, code: ErrorCode = "CONFIG.INVALID"): T {
    const value = this.optionalText(name);
    if (value === undefined) return parse(undefined, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ValidationError(code, name, "is not valid JSON");
    }
    return parse(parsed, name);
  }

  /** An ARN of the given service (`arn:aws:<service>:…`). */
  arn(name: string, service: string): string {
    const value = this.text(name);
    if (!new RegExp(`^arn:aws[a-z-]*:${service}:`).test(value)) {
      throw new ValidationError(
        "CONFIG.INVALID",
        name,
        `must be an ARN of ${service} (arn:aws:${service}:…)`,
      );
    }
    return value;
  }

  /** A Cognito user pool id (`<region>_<id>`). */
  userPoolId(name: string): string {
    const value = this.text(name);
    if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(value)) {
      throw new ValidationError("CONFIG.INVALID", name, "must be a user pool id like eu-west-1_AbC123xyz");
    }
    return value;
  }

  /** An http(s) URL, or `undefined` when absent: endpoint overrides for the local stack. */
  optionalUrl(name: string): string | undefined {
    const value = this.optionalText(name);
    if (value === undefined) return undefined;
    if (!/^https?:\/\/[^\s/]+/.test(value)) {
      throw new ValidationError("CONFIG.INVALID", name, "must be an http:// or https:// URL");
    }
    return value;
  }
}
