/**
 * Where the CLI points: the local stack (`--local`, from `.local/stack.json`) or an AWS stack (the
 * environment, `--region`, `--profile` and the keys of a `pulumi stack output --json` file). The result is
 * the environment `new Container(env)` reads, plus hints that turn "variable X is missing" into advice.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Environment } from "../runtime/composition-root.js";
import type { CliIo } from "./io.js";

/** The path of the local stack's description, relative to the working directory. */
export const LOCAL_STACK_FILE = join(".local", "stack.json");

/**
 * The keys read from a `--outputs` file (`pulumi stack output --json`) and the variables they set. A key
 * that is absent leaves the variable as the environment has it.
 */
export const OUTPUT_KEYS = {
  region: "AWS_REGION",
  userPoolId: "USER_POOL_ID",
  profileTable: "PROFILE_TABLE",
  backupBucket: "BACKUP_BUCKET",
  backupKmsKeyId: "BACKUP_KMS_KEY_ID",
  importLogsRoleArn: "IMPORT_LOGS_ROLE_ARN",
  accountsDbSecretArn: "ACCOUNTS_DB_SECRET_ARN",
  accountsDbHost: "ACCOUNTS_DB_HOST",
  accountsDbName: "ACCOUNTS_DB_NAME",
} as const;

export interface TargetOptions {
  readonly local?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly outputs?: string;
}

export interface Target {
  /** `local` or `aws`, for messages. */
  readonly kind: "local" | "aws";
  /** What the target is, for humans (`local stack (.local/stack.json)`, `AWS eu-west-1 (profile ops)`). */
  readonly description: string;
  readonly env: Environment;
  /** Advice for a variable that turns out missing or bad: where it should have come from. */
  hint(variable: string): string | undefined;
}

/** The target's description could not be read; the message names the file or key and the fix. */
export class TargetError extends Error {
  override name = "TargetError";
}

export function resolveTarget(options: TargetOptions, io: CliIo): Target {
  return options.local ? localTarget(io) : awsTarget(options, io);
}

function localTarget(io: CliIo): Target {
  const path = resolve(io.cwd, LOCAL_STACK_FILE);
  const fix = "start the local stack first (it writes this file), or leave out --local to target AWS";
  const document = readJson(path, LOCAL_STACK_FILE, fix);
  const env = isRecord(document) ? document.env : undefined;
  if (!isRecord(env) || !Object.values(env).every((value) => typeof value === "string")) {
    throw new TargetError(
      `${LOCAL_STACK_FILE} (${path}) has no "env" object of strings (the environment of the local stack); ${fix}`,
    );
  }
  const hint = `missing from "env" in ${LOCAL_STACK_FILE}; restart the local stack to rewrite the file`;
  return {
    kind: "local",
    description: `local stack (${LOCAL_STACK_FILE})`,
    env: { ...(env as Record<string, string>) },
    hint: () => hint,
  };
}

function awsTarget(options: TargetOptions, io: CliIo): Target {
  const env: Record<string, string | undefined> = { ...io.env };
  const hints: Record<string, string> = {};
  for (const variable of Object.values(OUTPUT_KEYS)) {
    hints[variable] =
      `set the environment variable ${variable}, or pass --outputs <file> with the key ${keyOf(variable)}`;
  }
  if (options.outputs !== undefined) {
    const path = isAbsolute(options.outputs) ? options.outputs : resolve(io.cwd, options.outputs);
    const fix = "write it with `pulumi stack output --json > <file>`";
    const document = readJson(path, options.outputs, fix);
    if (!isRecord(document)) {
      throw new TargetError(`--outputs ${options.outputs}: must hold a JSON object (${fix})`);
    }
    for (const [key, variable] of Object.entries(OUTPUT_KEYS)) {
      const value = document[key];
      if (value === undefined || value === null) {
        hints[variable] =
          `the outputs file ${options.outputs} has no key "${key}": export it from the Pulumi stack ` +
          `(then \`pulumi stack output --json > ${options.outputs}\`), or set ${variable}`;
        continue;
      }
      if (typeof value !== "string" || value.trim() === "") {
        throw new TargetError(`--outputs ${options.outputs}: key "${key}" must be a non-empty string`);
      }
      env[variable] = value;
    }
  }
  if (options.region !== undefined) env.AWS_REGION = options.region;
  if (env.AWS_REGION === undefined) {
    hints.AWS_REGION = "pass --region, set AWS_REGION, or add the key region to the --outputs file";
  }
  if (options.profile !== undefined) {
    // The SDK's default credential chain reads AWS_PROFILE from the process environment.
    io.env.AWS_PROFILE = options.profile;
    env.AWS_PROFILE = options.profile;
  }
  const where = [env.AWS_REGION ?? "(no region)", options.profile ? `profile ${options.profile}` : undefined]
    .filter(Boolean)
    .join(", ");
  return { kind: "aws", description: `AWS ${where}`, env, hint: (variable) => hints[variable] };
}

function keyOf(variable: string): string {
  return Object.entries(OUTPUT_KEYS).find(([, v]) => v === variable)?.[0] ?? variable;
}

function readJson(path: string, shown: string, fix: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? "error"})`;
    throw new TargetError(`${shown} (${path}) ${problem}: ${fix}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new TargetError(`${shown} (${path}) is not valid JSON: ${fix}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
