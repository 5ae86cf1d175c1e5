/**
 * Strict parsing of the event Amazon Cognito sends to a Post Confirmation Lambda trigger.
 *
 * Shape (Cognito developer guide, "Post confirmation Lambda trigger" and the common trigger parameters):
 * `{ version, triggerSource, region, userPoolId, userName, callerContext: { awsSdkVersion, clientId },
 *    request: { userAttributes: { [name]: string }, clientMetadata?: { [key]: string } }, response: {} }`.
 * The guide documents `version` as a number; real events carry the string "1" and cognito-local sends 0,
 * so both are accepted.
 *
 * Errors name the bad field and never echo a value: the message of an exception thrown in this trigger
 * can reach the end user (the client gets a UserLambdaValidationException), and attribute values are PII.
 */
import { ValidationError } from "../errors.js";
import { makeUser, type User } from "./user.js";

/**
 * The two sources Cognito uses for this trigger: it runs on ConfirmSignUp, AdminConfirmSignUp and
 * ConfirmForgotPassword (sign-up confirmations share `PostConfirmation_ConfirmSignUp`).
 */
export const POST_CONFIRMATION_TRIGGER_SOURCES = {
  PostConfirmation_ConfirmSignUp: "ConfirmSignUp",
  PostConfirmation_ConfirmForgotPassword: "ConfirmForgotPassword",
} as const;

export type ConfirmationTrigger =
  (typeof POST_CONFIRMATION_TRIGGER_SOURCES)[keyof typeof POST_CONFIRMATION_TRIGGER_SOURCES];

export interface ConfirmationEvent {
  readonly userPoolId: string;
  readonly region: string;
  /** Why the trigger fired. `ConfirmForgotPassword` means the user existed before: handle it as an update. */
  readonly trigger: ConfirmationTrigger;
  /** Cognito's own name for the source, e.g. `PostConfirmation_ConfirmSignUp`. */
  readonly triggerSource: string;
  /**
   * The confirmed user: CONFIRMED, enabled, MFA off, no groups and no dates (the event carries none of
   * them); attributes without Cognito's `cognito:*` bookkeeping entries.
   */
  readonly user: User;
}

// UserPoolId in the Cognito API reference: length 1–55, pattern [\w-]+_[0-9a-zA-Z]+.
const USER_POOL_ID = /^[\w-]+_[0-9a-zA-Z]+$/;
const USER_POOL_ID_MAX_LENGTH = 55;
// Trigger source names are not PII; echoing one that looks like a name helps find a miswired trigger.
const TRIGGER_SOURCE_NAME = /^[A-Za-z]{1,40}_[A-Za-z]{1,40}$/;

function invalid(field: string, problem: string): ValidationError {
  return new ValidationError("EVENT.INVALID", field, problem);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== "string") throw invalid(field, "must be a string");
  if (value === "") throw invalid(field, "must not be empty");
  return value;
}

function requireRecord(value: unknown, field: string): Record<string, unknown> {
  if (!isRecord(value)) throw invalid(field, "must be an object");
  return value;
}

/** A map whose every value is a string; the error names the key (a schema name), never the value. */
function requireStringMap(value: unknown, field: string): Record<string, string> {
  const record = requireRecord(value, field);
  for (const [key, item] of Object.entries(record)) {
    if (typeof item !== "string") throw invalid(`${field}.${key}`, "must be a string");
  }
  return record as Record<string, string>;
}

/**
 * Parses a Post Confirmation trigger event.
 *
 * @returns the pool, the region, which confirmation it was, and the user it confirmed.
 * @throws ValidationError `EVENT.INVALID` naming the first bad field (`userPoolId`,
 *   `request.userAttributes.sub`, `triggerSource`, ...) when a required field is missing, empty or of the
 *   wrong type, when the pool id is malformed, or when the trigger source is not a Post Confirmation one.
 *   Messages contain field names only.
 */
export function parsePostConfirmationEvent(event: unknown): ConfirmationEvent {
  const root = requireRecord(event, "event");

  if (typeof root.version !== "string" && typeof root.version !== "number") {
    throw invalid("version", "must be a string or a number");
  }

  const triggerSource = requireString(root.triggerSource, "triggerSource");
  if (!Object.hasOwn(POST_CONFIRMATION_TRIGGER_SOURCES, triggerSource)) {
    const got = TRIGGER_SOURCE_NAME.test(triggerSource) ? ` (got ${triggerSource})` : "";
    throw invalid(
      "triggerSource",
      `must be PostConfirmation_ConfirmSignUp or PostConfirmation_ConfirmForgotPassword${got}`,
    );
  }
  const trigger =
    POST_CONFIRMATION_TRIGGER_SOURCES[triggerSource as keyof typeof POST_CONFIRMATION_TRIGGER_SOURCES];

  const region = requireString(root.region, "region");
  const userPoolId = requireString(root.userPoolId, "userPoolId");
  if (userPoolId.length > USER_POOL_ID_MAX_LENGTH || !USER_POOL_ID.test(userPoolId)) {
    throw invalid("userPoolId", "is not a user pool id (expected <region>_<id>)");
  }
  const username = requireString(root.userName, "userName");

  const callerContext = requireRecord(root.callerContext, "callerContext");
  if (typeof callerContext.awsSdkVersion !== "string") {
    throw invalid("callerContext.awsSdkVersion", "must be a string");
  }
  // Cognito sends CLIENT_ID_NOT_APPLICABLE for admin-initiated confirmations; cognito-local leaves it out.
  if (callerContext.clientId !== undefined && typeof callerContext.clientId !== "string") {
    throw invalid("callerContext.clientId", "must be a string");
  }

  const request = requireRecord(root.request, "request");
  const userAttributes = requireStringMap(request.userAttributes, "request.userAttributes");
  if (request.clientMetadata !== undefined && request.clientMetadata !== null) {
    requireStringMap(request.clientMetadata, "request.clientMetadata");
  }
  if (root.response !== undefined && !isRecord(root.response)) {
    throw invalid("response", "must be an object");
  }

  const sub = requireString(userAttributes.sub, "request.userAttributes.sub");

  // `cognito:user_status`, `cognito:email_alias`, ... describe Cognito's state, not the user's profile,
  // and cannot be written back through the API; the status is already known to be CONFIRMED.
  const attributes = Object.fromEntries(
    Object.entries(userAttributes).filter(([name]) => !name.startsWith("cognito:")),
  );

  const user = makeUser({
    username,
    sub,
    attributes,
    status: "CONFIRMED",
    enabled: true,
    mfaEnabled: false,
    groups: [],
  });
  return { userPoolId, region, trigger, triggerSource, user };
}
