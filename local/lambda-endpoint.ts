/**
 * A local stand-in for the Lambda Invoke API: an HTTP server on 127.0.0.1 that answers
 * `POST /2015-03-31/functions/<name>/invocations` by running the real handler of `<name>` in this process.
 *
 * It answers as Lambda does: the handler's result as JSON with status 200; a handler that throws gives status
 * 200 too, with the header `X-Amz-Function-Error: Unhandled` and `{"errorType","errorMessage"}` as the body
 * (what the local Cognito, the AWS SDKs and the CLI read); an unknown function gives 404
 * `ResourceNotFoundException`. `X-Amz-Invocation-Type: Event` runs the function in the background (202),
 * `DryRun` only checks that it exists (204).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The part of the Lambda context the handlers read. */
export interface LocalInvocationContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  getRemainingTimeInMillis(): number;
}

export type LocalFunction = (event: unknown, context: LocalInvocationContext) => Promise<unknown>;

export interface LocalFunctionDefinition {
  readonly handler: LocalFunction;
  /** The function's timeout, as configured on AWS (what `getRemainingTimeInMillis` counts down from). */
  readonly timeoutMs: number;
}

/** One invocation as it arrived, for tests that replay an event (e.g. the trigger event the local Cognito sent). */
export interface ReceivedInvocation {
  readonly functionName: string;
  readonly event: unknown;
  readonly at: Date;
}

export interface LambdaEndpoint {
  /** `http://127.0.0.1:<port>`: the endpoint for a Lambda client (or the local Cognito's triggers). */
  readonly url: string;
  readonly port: number;
  /** The last invocations received, oldest first (at most 100). */
  readonly received: readonly ReceivedInvocation[];
  close(): Promise<void>;
}

export interface LambdaEndpointOptions {
  /** Looked up on every request, so functions may be registered after the server is listening. */
  readonly functions: ReadonlyMap<string, LocalFunctionDefinition>;
  /** One line per invocation (name, outcome, duration). */
  readonly log?: (line: string) => void;
  /** Default: a free port. */
  readonly port?: number;
}

/** Lambda's quota on an invocation's request payload (synchronous): 6 MB, counted in bytes. */
export const MAX_INVOKE_PAYLOAD_BYTES = 6_291_456;
/**
 * The largest result a synchronous invocation returns (6 MB and 100 bytes, as Lambda's runtime API reports it:
 * "Exceeded maximum allowed payload size (6291556 bytes)."). A larger result is not sent: the caller gets the
 * function error `Function.ResponseSizeTooLarge`.
 */
export const MAX_RESPONSE_PAYLOAD_BYTES = 6_291_556;

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
const MAX_RECEIVED = 100;

/** `<name>`, `arn:aws:lambda:<region>:<account>:function:<name>` or `…:<name>:<qualifier>` → `<name>`. */
export function functionNameOf(pathPart: string): string {
  const decoded = decodeURIComponent(pathPart);
  const arn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/.exec(decoded);
  if (arn?.[1]) return arn[1];
  return decoded.split(":")[0] ?? decoded;
}

/** The body Lambda returns for a function error: the error's name and message, never its stack here. */
export function lambdaError(error: unknown): { errorType: string; errorMessage: string } {
  if (error instanceof Error) return { errorType: error.name || "Error", errorMessage: error.message };
  return { errorType: "Error", errorMessage: String(error) };
}

/**
 * The request body, or `undefined` once it passes `limit` bytes: the rest is read and dropped (never kept), so
 * the client gets the answer rather than a broken connection.
 */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    request.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
    ...headers,
  });
  response.end(text);
}

function serviceError(response: ServerResponse, status: number, type: string, message: string): void {
  send(response, status, { Type: "User", message }, { "x-amzn-errortype": type });
}

/** Starts the endpoint on 127.0.0.1. */
export async function startLambdaEndpoint(options: LambdaEndpointOptions): Promise<LambdaEndpoint> {
  const received: ReceivedInvocation[] = [];
  const log = options.log ?? (() => undefined);

  const run = async (name: string, definition: LocalFunctionDefinition, event: unknown) => {
    const started = Date.now();
    const context: LocalInvocationContext = {
      awsRequestId: randomUUID(),
      functionName: name,
      getRemainingTimeInMillis: () => Math.max(0, definition.timeoutMs - (Date.now() - started)),
    };
    try {
      const result = await definition.handler(event, context);
      log(`λ ${name}: ok in ${Date.now() - started} ms`);
      return { ok: true as const, result };
    } catch (error) {
      const body = lambdaError(error);
      log(`λ ${name}: ${body.errorType} in ${Date.now() - started} ms`);
      return { ok: false as const, error: body };
    }
  };

  const server = createServer((request, response) => {
    void (async () => {
      const match = INVOKE_PATH.exec((request.url ?? "").split("?")[0] ?? "");
      if (request.method !== "POST" || !match?.[1]) {
        serviceError(response, 404, "UnknownOperationException", "Only Invoke is served here");
        return;
      }
      const name = functionNameOf(match[1]);
      const definition = options.functions.get(name);
      const body = await readBody(request, MAX_INVOKE_PAYLOAD_BYTES);
      if (body === undefined) {
        serviceError(
          response,
          413,
          "RequestEntityTooLargeException",
          `Request must be smaller than ${MAX_INVOKE_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        );
        return;
      }
      if (!definition) {
        serviceError(response, 404, "ResourceNotFoundException", `Function not found: ${name}`);
        return;
      }
      let event: unknown;
      try {
        event = body.trim() === "" ? {} : JSON.parse(body);
      } catch {
        serviceError(
          response,
          400,
          "InvalidRequestContentException",
          "Could not parse request body into json",
        );
        return;
      }
      received.push({ functionName: name, event, at: new Date() });
      if (received.length > MAX_RECEIVED) received.shift();

      const invocationType = String(request.headers["x-amz-invocation-type"] ?? "RequestResponse");
      if (invocationType === "DryRun") {
        send(response, 204, undefined);
        return;
      }
      if (invocationType === "Event") {
        send(response, 202, undefined);
        void run(name, definition, event);
        return;
      }
      const outcome = await run(name, definition, event);
      if (
        outcome.ok &&
        Buffer.byteLength(JSON.stringify(outcome.result ?? null)) > MAX_RESPONSE_PAYLOAD_BYTES
      ) {
        send(
          response,
          200,
          {
            errorType: "Function.ResponseSizeTooLarge",
            errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_PAYLOAD_BYTES} bytes).`,
          },
          { "x-amz-function-error": "Unhandled", "x-amz-executed-version": "$LATEST" },
        );
      } else if (outcome.ok)
        send(response, 200, outcome.result ?? null, { "x-amz-executed-version": "$LATEST" });
      else
        send(response, 200, outcome.error, {
          "x-amz-function-error": "Unhandled",
          "x-amz-executed-version": "$LATEST",
        });
    })().catch((error: unknown) => {
      if (!response.headersSent)
        serviceError(response, 500, "ServiceException", lambdaError(error).errorMessage);
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Invokes a function of a Lambda endpoint (local or not) the way the Lambda SDK does, without the SDK. */
export async function invokeLocal(
  endpoint: string,
  functionName: string,
  event: unknown,
): Promise<{ ok: true; result: unknown } | { ok: false; errorType: string; errorMessage: string }> {
  const response = await fetch(
    `${endpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event ?? {}),
    },
  );
  const text = await response.text();
  const body: unknown = text === "" ? null : JSON.parse(text);
  if (response.headers.get("x-amz-function-error")) {
    const error = body as { errorType?: string; errorMessage?: string };
    return { ok: false, errorType: error.errorType ?? "Error", errorMessage: error.errorMessage ?? "" };
  }
  if (!response.ok) {
    const type = response.headers.get("x-amzn-errortype") ?? `HTTP ${response.status}`;
    throw new Error(`Invoke ${functionName} failed: ${type}`);
  }
  return { ok: true, result: body };
}
