/**
 * `user-lifecycle`: the operator CLI. Every command runs the same jobs and use cases as the Lambda
 * functions, on the adapters of a target (the local stack or an AWS stack); each command is one file of
 * `commands/`, exporting its commander `Command`, its options checked by its own schema.
 *
 * `run(argv, io)` is the whole program: it parses `argv` (the arguments after the program name), writes to
 * `io` and resolves with the exit code — 0 success, 1 failure, 2 usage error (or a destructive command
 * refused for want of `--yes`). It never calls `process.exit`.
 */
import { Command, CommanderError } from "commander";
import {
  type CliRuntime,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  refuseFlagsAsValues,
  SERVICE,
  TARGET_HELP,
} from "./command.js";
import { eraseCommand } from "./commands/erase.js";
import { executionsCommand } from "./commands/executions.js";
import { purgeUnconfirmedCommand } from "./commands/purge-unconfirmed.js";
import { reconcileCommand } from "./commands/reconcile.js";
import { restoreCommand } from "./commands/restore.js";
import { snapshotCommand } from "./commands/snapshot.js";
import { statusCommand } from "./commands/status.js";
import { type Connect, containerConnection } from "./connection.js";
import type { CliIo } from "./io.js";

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./command.js";

export interface RunOptions {
  /** Builds the adapters from the target's environment; default: the runtime's composition root. */
  readonly connect?: Connect;
}

/** Every command, in the order of the help. */
const COMMANDS: readonly ((runtime: CliRuntime) => Command)[] = [
  purgeUnconfirmedCommand,
  snapshotCommand,
  restoreCommand,
  reconcileCommand,
  eraseCommand,
  statusCommand,
  executionsCommand,
];

export async function run(argv: readonly string[], io: CliIo, options: RunOptions = {}): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram({
    io,
    connect: options.connect ?? containerConnection,
    setExit: (code) => {
      exitCode = code;
    },
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }
}

function buildProgram(runtime: CliRuntime): Command {
  const { io } = runtime;
  const program = new Command(SERVICE)
    .description(
      "Operate the user lifecycle of a Cognito user pool: purge never-confirmed users, snapshot, restore, " +
        "reconcile and erase users, and show what exists.",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", PROGRAM_HELP);
  for (const option of program.options) refuseFlagsAsValues(option);
  // A command added whole takes the program's settings (exit override, output, help after an error) this way.
  for (const command of COMMANDS) program.addCommand(command(runtime).copyInheritedSettings(program));
  return program;
}

const PROGRAM_HELP = `
Every command accepts --local | --region/--profile/--outputs (the target) and --json.
Commands that change something accept --dry-run; purge-unconfirmed, restore and erase ask for
confirmation unless --yes (and refuse, changing nothing, when no terminal is attached).
Progress is shown on stderr when it is a terminal and --json is not given.

Exit codes: 0 success, 1 failure (including a purge or reconcile with failures, a refused purge, an
incomplete restore), 2 usage error or missing --yes without a terminal.

Run "${SERVICE} <command> --help" for a command's flags.

Examples:
  $ ${SERVICE} status --local
  $ ${SERVICE} purge-unconfirmed --local --dry-run
  $ ${SERVICE} snapshot --outputs prod.json --region eu-west-1 --profile ops
  $ ${SERVICE} restore --source latest --dry-run --json
  $ ${SERVICE} erase --local --username alice --dry-run
${TARGET_HELP}
`;
