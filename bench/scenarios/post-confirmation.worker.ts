/**
 * Child process of scenario 4, bundled and run by plain node: loads one handler bundle and times it.
 * `<cold|warm> <bundle> <invocations> <tag>`; answers one message on IPC.
 * - cold: how long `require(bundle)` takes in a fresh process (module init: the code, its dependencies and
 *   the SDK packages it loads);
 * - warm: the first invocation, then `invocations` more, one after another, each with a new user.
 */
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";

export interface HandlerTimings {
  readonly initMs: number;
  readonly firstMs?: number;
  readonly latencies?: number[];
  readonly errors?: number;
  readonly errorSample?: string;
}

type Handler = (event: unknown, context?: { awsRequestId?: string }) => Promise<unknown>;

/** A Post Confirmation event for sign-up number `n`, shaped as Cognito sends it (synthetic values). */
function confirmationEvent(tag: string, n: number): Record<string, unknown> {
  const sub = `00000000-0000-4000-9${tag}-${n.toString(16).padStart(12, "0")}`;
  const email = `signup-${tag}-${n}@example.test`;
  return {
    version: "1",
    region: "us-east-1",
    userPoolId: "us-east-1_BenchPool1",
    userName: sub,
    callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "1example23456789" },
    triggerSource: "PostConfirmation_ConfirmSignUp",
    request: {
      userAttributes: {
        sub,
        email,
        email_verified: "true",
        "cognito:user_status": "CONFIRMED",
        "cognito:email_alias": email,
      },
    },
    response: {},
  };
}

async function main(): Promise<void> {
  const [mode, bundle = "", invocationsText = "0", tag = "000"] = process.argv.slice(2);
  const load = createRequire(__filename);
  const started = performance.now();
  const handler = (load(bundle) as { handler: Handler }).handler;
  const initMs = performance.now() - started;
  if (mode === "cold") {
    process.send?.({ initMs } satisfies HandlerTimings, () => process.exit(0));
    return;
  }
  let errors = 0;
  let errorSample: string | undefined;
  const invoke = async (n: number): Promise<number> => {
    const event = confirmationEvent(tag, n);
    const begun = performance.now();
    try {
      await handler(event, { awsRequestId: `bench-${tag}-${n}` });
    } catch (error) {
      errors += 1;
      errorSample ??= error instanceof Error ? error.name : String(error);
    }
    return performance.now() - begun;
  };
  const firstMs = await invoke(0);
  const latencies: number[] = [];
  for (let n = 1; n <= Number(invocationsText); n++) latencies.push(await invoke(n));
  process.send?.({ initMs, firstMs, latencies, errors, errorSample } satisfies HandlerTimings, () =>
    process.exit(0),
  );
}

void main();
