/**
 * `npm start`: the local stack (the local Cognito, dynalite, s3rver, MariaDB when installed, and a local Lambda
 * endpoint running the real handlers), a walk through the lifecycle on it, then it stays up until Ctrl-C.
 * `npm start -- --no-demo` skips the walk-through; `--handler-logs` prints the handlers' own log lines;
 * `--confirm-disabled` makes the local Cognito let a disabled user confirm (AWS does not document which it does),
 * to watch the Post Confirmation trigger hold such a confirmation (the purge's fence). Any other flag is refused.
 */
import { runDemo } from "../local/demo.js";
import { type LocalStack, startLocalStack } from "../local/stack.js";

// The SDK's notice about Node 22 in 2027 (the versions are pinned) would interrupt the walk-through.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const known = ["--no-demo", "--handler-logs", "--confirm-disabled"];
  const unknown = args.filter((arg) => !known.includes(arg));
  if (unknown.length > 0) {
    console.error(`Unknown option ${unknown.join(", ")}. Options: ${known.join(", ")}`);
    process.exit(2);
  }
  const demo = !args.includes("--no-demo");
  const handlerLogs = args.includes("--handler-logs");
  const confirmDisabled = args.includes("--confirm-disabled");
  const log = (line: string) => console.log(line);
  let stack: LocalStack | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping…");
    await stack?.stop();
    console.log("stopped.");
    process.exit(code);
  };
  // A Ctrl-C during startup stops it as soon as startLocalStack returns (or its own cleanup on failure).
  let interrupted = false;
  const onSignal = () => {
    if (stack) void stop(0);
    else interrupted = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    stack = await startLocalStack({
      log,
      ...(handlerLogs ? { handlerLog: (line: string) => console.log(`   · ${line}`) } : {}),
      ...(confirmDisabled ? { disabledConfirmSignUp: "confirm" as const } : {}),
    });
  } catch (error) {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  }
  if (interrupted) return stop(0);
  if (demo) {
    try {
      await runDemo(stack, log);
    } catch (error) {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      return stop(1);
    }
  }
  console.log(
    `\nThe local stack is up (functions: ${stack.endpoints.lambda}/2015-03-31/functions/<name>/invocations).` +
      "\nPress Ctrl-C to stop it.",
  );
}

void main();
