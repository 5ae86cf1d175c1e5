import { describe, expect, it } from "vitest";
import { aConfirmationEvent } from "../testing/confirmation-event.js";
import { parsePostConfirmationEvent } from "./post-confirmation.js";
import { errorOf } from "../testing/errors.js";

const EMAIL = "jane.doe@example.com";
const SUB = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/** Marks a field to remove in {@link withChanges}. */
const REMOVE = Symbol("remove");

/** A fresh event with fields set (or removed) at dotted paths, so each case breaks exactly what it says. */
function withChanges(changes: Record<string, unknown>): Record<string, unknown> {
  const event = aConfirmationEvent({
    userAttributes: { sub: SUB, email: EMAIL },
    clientMetadata: { source: "web" },
  });
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split(".");
    const last = keys.pop() as string;
    let target = event;
    for (const key of keys) target = target[key] as Record<string, unknown>;
    if (value === REMOVE) delete target[last];
    else target[last] = value;
  }
  return event;
}

describe("parsePostConfirmationEvent", () => {
  it("reads a sign-up confirmation into a confirmed user", () => {
    const event = aConfirmationEvent({
      userName: "jane",
      userAttributes: { sub: SUB, email: EMAIL, name: "Jane Doe" },
    });
    const parsed = parsePostConfirmationEvent(event);
    expect(parsed).toEqual({
      userPoolId: "eu-west-1_AbCdEf123",
      region: "eu-west-1",
      trigger: "ConfirmSignUp",
      triggerSource: "PostConfirmation_ConfirmSignUp",
      user: {
        username: "jane",
        sub: SUB,
        attributes: { sub: SUB, email: EMAIL, email_verified: "true", name: "Jane Doe" },
        status: "CONFIRMED",
        enabled: true,
        mfaEnabled: false,
        groups: [],
      },
    });
    expect(parsed.user.createdAt).toBeUndefined();
    expect(parsed.user.modifiedAt).toBeUndefined();
  });

  it("reads a forgot-password confirmation", () => {
    const parsed = parsePostConfirmationEvent(
      aConfirmationEvent({ triggerSource: "PostConfirmation_ConfirmForgotPassword" }),
    );
    expect(parsed.trigger).toBe("ConfirmForgotPassword");
    expect(parsed.triggerSource).toBe("PostConfirmation_ConfirmForgotPassword");
  });

  it("drops Cognito's cognito:* attributes", () => {
    const parsed = parsePostConfirmationEvent(
      aConfirmationEvent({
        userAttributes: { "cognito:user_status": "CONFIRMED", "cognito:phone_number_alias": "+12065551212" },
      }),
    );
    expect(Object.keys(parsed.user.attributes).filter((name) => name.startsWith("cognito:"))).toEqual([]);
    expect(parsed.user.attributes.email_verified).toBe("true");
  });

  it("keeps custom attributes", () => {
    const parsed = parsePostConfirmationEvent(
      aConfirmationEvent({ userAttributes: { "custom:tenant": "acme" } }),
    );
    expect(parsed.user.attributes["custom:tenant"]).toBe("acme");
  });

  it("accepts the numeric version cognito-local sends, and a missing client id or metadata", () => {
    const event = withChanges({
      version: 0,
      "callerContext.clientId": REMOVE,
      "request.clientMetadata": REMOVE,
      response: REMOVE,
    });
    expect(parsePostConfirmationEvent(event).user.sub).toBe(SUB);
    expect(parsePostConfirmationEvent(withChanges({ "request.clientMetadata": null })).user.sub).toBe(SUB);
  });

  it.each<[string, string, unknown]>([
    ["missing version", "version", REMOVE],
    ["boolean version", "version", true],
    ["missing triggerSource", "triggerSource", REMOVE],
    ["numeric triggerSource", "triggerSource", 1],
    ["missing region", "region", REMOVE],
    ["empty region", "region", ""],
    ["missing userPoolId", "userPoolId", REMOVE],
    ["malformed userPoolId", "userPoolId", "not a pool"],
    ["overlong userPoolId", "userPoolId", `eu-west-1_${"a".repeat(50)}`],
    ["missing userName", "userName", REMOVE],
    ["empty userName", "userName", ""],
    ["numeric userName", "userName", 42],
    ["missing callerContext", "callerContext", REMOVE],
    ["callerContext as string", "callerContext", "ctx"],
    ["missing awsSdkVersion", "callerContext.awsSdkVersion", REMOVE],
    ["numeric clientId", "callerContext.clientId", 7],
    ["missing request", "request", REMOVE],
    ["request as array", "request", []],
    ["missing userAttributes", "request.userAttributes", REMOVE],
    ["null userAttributes", "request.userAttributes", null],
    ["non-string attribute", "request.userAttributes.email_verified", true],
    ["missing sub", "request.userAttributes.sub", REMOVE],
    ["empty sub", "request.userAttributes.sub", ""],
    ["clientMetadata as string", "request.clientMetadata", "x"],
    ["non-string clientMetadata value", "request.clientMetadata.n", 1],
    ["response as string", "response", "ok"],
  ])("rejects %s, naming %s", (_, field, value) => {
    const error = errorOf(() => parsePostConfirmationEvent(withChanges({ [field]: value })));
    expect(error.code).toBe("EVENT.INVALID");
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it.each([null, undefined, "event", 42, []])("rejects %j as a whole", (event) => {
    expect(errorOf(() => parsePostConfirmationEvent(event)).field).toBe("event");
  });

  it.each([
    "PreSignUp_SignUp",
    "PostAuthentication_Authentication",
    "PostConfirmation_AdminCreateUser",
    "postconfirmation_confirmsignup",
  ])("rejects the trigger source %s", (triggerSource) => {
    const error = errorOf(() => parsePostConfirmationEvent(aConfirmationEvent({ triggerSource })));
    expect(error.field).toBe("triggerSource");
    expect(error.message).toContain("PostConfirmation_ConfirmSignUp");
    expect(error.message).toContain(`got ${triggerSource}`);
  });

  it("does not echo a trigger source that does not look like one", () => {
    const error = errorOf(() => parsePostConfirmationEvent(aConfirmationEvent({ triggerSource: EMAIL })));
    expect(error.message).not.toContain(EMAIL);
  });

  it("never puts attribute values in its messages", () => {
    const phone = "+12065551212";
    const events = [
      withChanges({ "request.userAttributes.sub": "", "request.userAttributes.phone_number": phone }),
      withChanges({ "request.userAttributes.email": { address: EMAIL } }),
      withChanges({ userPoolId: EMAIL }),
      withChanges({ region: 5 }),
    ];
    for (const event of events) {
      const error = errorOf(() => parsePostConfirmationEvent(event));
      expect(error.message).not.toContain(EMAIL);
      expect(error.message).not.toContain("jane");
      expect(error.message).not.toContain(phone);
      expect(JSON.stringify(error.details)).not.toContain(EMAIL);
    }
  });

  it("keeps the event's attribute map untouched", () => {
    const event = aConfirmationEvent();
    const before = structuredClone(event);
    parsePostConfirmationEvent(event);
    expect(event).toEqual(before);
  });
});
