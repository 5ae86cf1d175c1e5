import { describe, expect, it } from "vitest";
import { asUnreachable, unreachableReason } from "./network-errors.js";

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });

describe("unreachableReason", () => {
  it("finds the socket error where Node, fetch and the SDK put it", () => {
    expect(unreachableReason(refused())).toBe("ECONNREFUSED");
    expect(unreachableReason(new TypeError("fetch failed", { cause: refused() }))).toBe("ECONNREFUSED");
    expect(unreachableReason(new AggregateError([new Error("x"), refused()]))).toBe("ECONNREFUSED");
    expect(unreachableReason(Object.assign(new Error("getaddrinfo"), { code: "ENOTFOUND" }))).toBe(
      "ENOTFOUND",
    );
    expect(unreachableReason(Object.assign(new Error("socket timed out"), { name: "TimeoutError" }))).toBe(
      "TimeoutError",
    );
  });

  it("leaves an answer of the service alone", () => {
    expect(
      unreachableReason(Object.assign(new Error("User does not exist."), { name: "UserNotFoundException" })),
    ).toBeUndefined();
    expect(unreachableReason("ECONNREFUSED")).toBeUndefined();
    const answered = Object.assign(new Error("Service unavailable"), { $fault: "server", code: "ETIMEDOUT" });
    expect(unreachableReason(answered)).toBeUndefined();
    expect(asUnreachable("Amazon Cognito", "ListUsers", new Error("boom"))).toBeUndefined();
  });

  it("names the service, operation and reason, and keeps the cause only when asked", () => {
    const error = asUnreachable("Amazon Cognito", "ListUsers", refused());
    expect(error).toMatchObject({
      code: "SERVICE.UNREACHABLE",
      details: { service: "Amazon Cognito", operation: "ListUsers", reason: "ECONNREFUSED" },
    });
    expect(error?.message).toMatch(/Amazon Cognito.*ECONNREFUSED.*ListUsers/);
    expect(error?.cause).toBeDefined();
    expect(asUnreachable("S3", "upload", refused(), { keepCause: false })?.cause).toBeUndefined();
  });
});
