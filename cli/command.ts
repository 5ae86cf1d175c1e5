/**
 * What every command of the CLI shares: the target options, the run of a command (target, connection,
 * output as text or one JSON document, exit code), typed failures, confirmation, and the strict parse of a
 * command's options with its own schema. Each command lives in `commands/<command>.ts` and exports a
 * factory of its commander `Command`; `main.ts` puts them together.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import * as z from "zod/mini";
import "../core/validation.js";
import { errorCode, issuePath, LifecycleError, ValidationError } from "../core/errors.js";
import { formatDuration } from "../core/purge/index.js";
import type { Connect, Connection } from "./connection.js";
import { type CliIo, Progress } from "./io.js";
import { LOCAL_STACK_FILE, OUTPUT_KEYS, resolveTarget, type Target, TargetError } from "./target.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const SERVICE = "user-lifecycle";

/** A mistake in the command line that commander cannot see (a combination, a value format). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A destructive command that was not confirmed: nothing was changed. */
export class NotConfirmedError extends Error {
  override name = "NotConfirmedError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The target and output options every command takes (see {@link withCommonOptions}). */
export const commonOptions = {
  local: z.optional(z.boolean()),
  region: z.optional(z.string()),
  profile: z.optional(z.string()),
  outputs: z.optional(z.string()),
  json: z.optional(z.boolean()),
};

/** `--dry-run` of a command that changes something. */
export const dryRunOption = { dryRun: z.optional(z.boolean()) };

/** `--dry-run` and `--yes` of a command that asks before it deletes or writes. */
export const destructiveOptions = { ...dryRunOption, yes: z.optional(z.boolean()) };

/** The options of a command whose only own flag is `--dry-run`. */
export const dryRunOnlyOptions = z.strictObject({ ...commonOptions, ...dryRunOption });

/** What one command produced: its exit code, the JSON document and the human lines (stdout). */
export interface Outcome {
  readonly code: number;
  readonly data: Record<string, unknown>;
  readonly human: readonly string[];
}

export interface Context {
  readonly io: CliIo;
  readonly json: boolean;
  readonly target: Target;
  readonly conn: Connection;
  readonly progress: Progress;
  /** A line for the operator on stderr (never stdout). */
  note(line: string): void;
}

/** What a command needs from the program: where it writes, how it connects, where its exit code goes. */
export interface CliRuntime {
  readonly io: CliIo;
  readonly connect: Connect;
  readonly setExit: (code: number) => void;
}

export interface CommandSpec<S extends z.ZodMiniType<Record<string, unknown>>> {
  readonly name: string;
  readonly description: string;
  readonly examples: readonly string[];
  /** The command's options as commander hands them over, checked strictly: an unknown one is refused. */
  readonly options: S;
  /** Adds the command's own options (the target options are added for every command). */
  readonly configure: (command: Command) => Command;
  readonly run: (ctx: Context, options: z.infer<S>) => Promise<Outcome>;
}

/** A command of this program: its options (the target's too), help, strict option parsing and its run. */
export function lifecycleCommand<S extends z.ZodMiniType<Record<string, unknown>>>(
  runtime: CliRuntime,
  spec: CommandSpec<S>,
): Command {
  const command = spec
    .configure(withCommonOptions(new Command(spec.name).description(spec.description)))
    .addHelpText("after", `\nExamples:\n${spec.examples.join("\n")}\n${TARGET_HELP}`)
    .action(async (raw: Record<string, unknown>) => {
      runtime.setExit(
        await runCommand(spec.name, runtime, raw, (ctx) => spec.run(ctx, parseOptions(spec.options, raw))),
      );
    });
  for (const option of command.options) refuseFlagsAsValues(option);
  return command;
}

/**
 * The options commander parsed, checked by the command's schema. commander already refuses unknown flags;
 * this is the second lock, and it catches combinations and formats commander cannot see.
 * @throws UsageError naming the flag.
 */
export function parseOptions<S extends z.ZodMiniType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issuePath(issue?.path ?? []);
  const unknown = issue?.code === "unrecognized_keys" ? issue.keys.map(flagOf).join(", ") : undefined;
  if (unknown !== undefined) throw new UsageError(`unknown option ${unknown}: nothing was run`);
  throw new UsageError(`${key === "" ? "options" : flagOf(key)}: ${issue?.message ?? "is invalid"}`);
}

/** `dryRun` → `--dry-run`. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/**
 * commander gives an option that takes a value the next argument whatever it is, so `--user --dry-run --yes`
 * would restore a user named "--dry-run" for real. A value that is one of this program's flags (`--x`, `-h`)
 * is refused as a usage error instead, before anything runs. A value may still start with a single `-`
 * followed by more characters (a negative number, an odd username).
 */
export function refuseFlagsAsValues(option: Option): void {
  if (!option.required && !option.optional) return;
  const parse = option.parseArg;
  option.argParser((value: string, previous: unknown) => {
    if (/^--./.test(value) || /^-[A-Za-z]$/.test(value)) {
      throw new InvalidArgumentError(
        `${option.long ?? option.flags} takes a value, not the flag ${value}: nothing was run`,
      );
    }
    if (parse) return parse(value, previous);
    if (!option.variadic) return value;
    return Array.isArray(previous) && previous !== option.defaultValue ? [...previous, value] : [value];
  });
}

function withCommonOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--local", `target the local stack described by ${LOCAL_STACK_FILE}`).conflicts([
        "region",
        "profile",
        "outputs",
      ]),
    )
    .option("--region <region>", "AWS region of the stack (else AWS_REGION or the outputs' region)")
    .option("--profile <name>", "AWS profile for the SDK's default credential chain (sets AWS_PROFILE)")
    .option("--outputs <file>", "stack outputs (`pulumi stack output --json`) naming the resources")
    .option("--json", "print one JSON document on stdout; human text and progress go to stderr only");
}

export const TARGET_HELP = `
Targets:
  --local             uses the "env" object of ${LOCAL_STACK_FILE} (written by the local stack).
  otherwise (AWS)     the environment variables of the Lambda functions, overridden by --outputs keys:
${Object.entries(OUTPUT_KEYS)
  .map(([key, variable]) => `                        ${key.padEnd(20)} -> ${variable}`)
  .join("\n")}
                      and by --region. Credentials: the SDK's default chain (--profile sets AWS_PROFILE).
                      Accounts without a secret: ACCOUNTS_DB_HOST/PORT/NAME/USER/PASSWORD.`;

/** Runs one command: resolves the target, connects, writes the outcome, closes; resolves with the exit code. */
async function runCommand(
  name: string,
  runtime: CliRuntime,
  options: Record<string, unknown>,
  body: (ctx: Context) => Promise<Outcome>,
): Promise<number> {
  const { io } = runtime;
  const json = options["json"] === true;
  const progress = new Progress(io.stderr, !json && io.stderr.isTTY === true);
  let conn: Connection | undefined;
  let target: Target | undefined;
  try {
    target = resolveTarget(options, io);
    conn = runtime.connect(target.env);
    const ctx: Context = {
      io,
      json,
      target,
      conn,
      progress,
      note: (line) => io.stderr.write(`${line}\n`),
    };
    const outcome = await body(ctx);
    progress.done();
    if (json) {
      const document = {
        command: name,
        ok: outcome.code === EXIT_OK,
        target: target.description,
        ...outcome.data,
      };
      io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    } else {
      for (const line of outcome.human) io.stdout.write(`${line}\n`);
    }
    return outcome.code;
  } catch (error) {
    progress.done();
    const { code, message, exitCode } = describeFailure(error, target);
    io.stderr.write(`error: ${message}\n`);
    if (json) {
      const document = { command: name, ok: false, error: { code, message } };
      io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    }
    return exitCode;
  } finally {
    await conn?.close().catch(() => undefined);
  }
}

export function describeFailure(
  error: unknown,
  target: Target | undefined,
): { code: string; message: string; exitCode: number } {
  if (error instanceof UsageError) return { code: "USAGE", message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof NotConfirmedError) {
    return { code: "NOT_CONFIRMED", message: error.message, exitCode: error.exitCode };
  }
  if (error instanceof TargetError) return { code: "TARGET", message: error.message, exitCode: EXIT_FAILURE };
  if (error instanceof ValidationError && error.code === "CONFIG.INVALID") {
    const hint = target?.hint(error.field);
    return {
      code: error.code,
      message: `${error.message}${hint ? ` (${hint})` : ""}`,
      exitCode: EXIT_FAILURE,
    };
  }
  if (error instanceof LifecycleError) {
    return { code: error.code, message: `${error.code}: ${error.message}`, exitCode: EXIT_FAILURE };
  }
  const code = errorCode(error);
  const message = error instanceof Error ? `${code}: ${error.message}` : code;
  return { code, message, exitCode: EXIT_FAILURE };
}

/**
 * Asks before destructive work. `--yes` skips the question; without a terminal and without `--yes` the
 * command is refused before anything is done.
 */
export function requireConsentPossible(
  ctx: Pick<Context, "io">,
  yes: boolean | undefined,
  what: string,
): void {
  if (yes || ctx.io.stdinIsTTY) return;
  throw new NotConfirmedError(
    `${what} needs confirmation and no terminal is attached: nothing was changed. ` +
      "Run it again with --yes to proceed without a question, or with --dry-run to see what it would do.",
    EXIT_USAGE,
  );
}

export async function confirm(ctx: Context, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  ctx.progress.done();
  const answer = await ctx.io.prompt(`${question} [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new NotConfirmedError("Not confirmed: nothing was changed.", EXIT_FAILURE);
  }
}

/** A duration for people: whole minutes past a minute, else whole seconds. */
export function formatAge(ms: number): string {
  const rounded = ms >= 60_000 ? Math.floor(ms / 60_000) * 60_000 : Math.floor(ms / 1000) * 1000;
  return rounded === 0 ? "0s" : formatDuration(rounded);
}

/** "code n, code m" of a count per code. */
export function countsText(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .map(([code, count]) => `${code} ${count}`)
    .join(", ");
}
