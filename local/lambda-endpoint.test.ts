import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  functionNameOf,
  invokeLocal,
  MAX_INVOKE_PAYLOAD_BYTES,
  MAX_RESPONSE_PAYLOAD_BYTES,
  type LambdaEndpoint,
  type LocalFunctionDefinition,
  startLambdaEndpoint,
} from "./lambda-endpoint.js";

const functions = new Map<string, LocalFunctionDefinition>([
  ["echo", { timeoutMs: 5_000, handler: async (event) => event }],
  [
    "fails",
    {
      timeoutMs: 5_000,
      handler: async () => {
        throw new TypeError("bad input");
      },
    },
  ],
]);
// A result of `size` bytes once serialized (a JSON string).
functions.set("sized", { timeoutMs: 5_000, handler: async (event) => "x".repeat(Number(event) - 2) });
let echoed = 0;
functions.set("counts", {
  timeoutMs: 5_000,
  handler: async () => {
    echoed += 1;
    return echoed;
  },
});
let endpoint: LambdaEndpoint;
beforeAll(async () => {
  endpoint = await startLambdaEndpoint({ functions });
});
afterAll(() => endpoint.close());

describe("the local Lambda endpoint", () => {
  it("returns the handler's result as JSON with status 200", async () => {
    const response = await fetch(`${endpoint.url}/2015-03-31/functions/echo/invocations`, {
      method: "POST",
      body: JSON.stringify({ a: 1 }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-amz-function-error")).toBeNull();
    expect(await response.json()).toEqual({ a: 1 });
    expect(endpoint.received.at(-1)).toMatchObject({ functionName: "echo", event: { a: 1 } });
  });

  it("answers a thrown error as Lambda does: Unhandled, with errorType and errorMessage", async () => {
    const response = await fetch(`${endpoint.url}/2015-03-31/functions/fails/invocations`, {
      method: "POST",
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-amz-function-error")).toBe("Unhandled");
    expect(await response.json()).toEqual({ errorType: "TypeError", errorMessage: "bad input" });
    expect(await invokeLocal(endpoint.url, "fails", {})).toEqual({
      ok: false,
      errorType: "TypeError",
      errorMessage: "bad input",
    });
  });

  it("answers an unknown function with 404 ResourceNotFoundException", async () => {
    const response = await fetch(`${endpoint.url}/2015-03-31/functions/nope/invocations`, {
      method: "POST",
      body: "{}",
    });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-amzn-errortype")).toBe("ResourceNotFoundException");
    await expect(invokeLocal(endpoint.url, "nope", {})).rejects.toThrow(/ResourceNotFoundException/);
  });

  it("accepts a function ARN or a qualified name", async () => {
    expect(functionNameOf("arn:aws:lambda:us-east-1:000000000000:function:echo")).toBe("echo");
    expect(functionNameOf("arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aecho%3Alive")).toBe(
      "echo",
    );
    expect(functionNameOf("echo:live")).toBe("echo");
    expect(await invokeLocal(endpoint.url, "arn:aws:lambda:us-east-1:000000000000:function:echo", 7)).toEqual(
      {
        ok: true,
        result: 7,
      },
    );
  });

  it("fails a result over Lambda's response limit as Lambda does (Function.ResponseSizeTooLarge), not sending it", async () => {
    const tooLarge = await fetch(`${endpoint.url}/2015-03-31/functions/sized/invocations`, {
      method: "POST",
      body: String(MAX_RESPONSE_PAYLOAD_BYTES + 1),
    });
    expect(tooLarge.status).toBe(200);
    expect(tooLarge.headers.get("x-amz-function-error")).toBe("Unhandled");
    expect(await tooLarge.json()).toEqual({
      errorType: "Function.ResponseSizeTooLarge",
      errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_PAYLOAD_BYTES} bytes).`,
    });
    const atLimit = await invokeLocal(endpoint.url, "sized", MAX_RESPONSE_PAYLOAD_BYTES);
    expect(atLimit).toMatchObject({ ok: true });
    expect(JSON.stringify((atLimit as { result: unknown }).result).length).toBe(MAX_RESPONSE_PAYLOAD_BYTES);
  });

  it("refuses a payload over Lambda's 6 MB as Lambda does, without running the function", async () => {
    const before = echoed;
    // A JSON string of exactly one byte too many.
    const tooLarge = JSON.stringify("x".repeat(MAX_INVOKE_PAYLOAD_BYTES - 1));
    expect(Buffer.byteLength(tooLarge)).toBe(MAX_INVOKE_PAYLOAD_BYTES + 1);
    const response = await fetch(`${endpoint.url}/2015-03-31/functions/counts/invocations`, {
      method: "POST",
      body: tooLarge,
    });
    expect(response.status).toBe(413);
    expect(response.headers.get("x-amzn-errortype")).toBe("RequestEntityTooLargeException");
    expect(await response.json()).toMatchObject({
      message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    });
    expect(echoed).toBe(before);

    // Exactly 6,291,456 bytes still runs.
    const atLimit = JSON.stringify("x".repeat(MAX_INVOKE_PAYLOAD_BYTES - 2));
    expect(await invokeLocal(endpoint.url, "counts", JSON.parse(atLimit))).toEqual({
      ok: true,
      result: before + 1,
    });
  });
});
