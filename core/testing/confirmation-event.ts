/** Readable Post Confirmation trigger events. Used by tests only. */

let counter = 0;

export interface ConfirmationEventOverrides {
  readonly triggerSource?: string;
  readonly userName?: string;
  readonly userPoolId?: string;
  readonly region?: string;
  /** Merged over the default attributes; a value of `undefined` removes that attribute. */
  readonly userAttributes?: Record<string, string | undefined>;
  readonly clientMetadata?: Record<string, string>;
}

/**
 * A Post Confirmation event shaped like the ones Amazon Cognito sends for a sign-up confirmation:
 * a unique sub used as the username (email sign-in), an email, and Cognito's `cognito:*` entries.
 */
export function aConfirmationEvent(overrides: ConfirmationEventOverrides = {}): Record<string, unknown> {
  counter += 1;
  const n = counter.toString().padStart(12, "0");
  const sub = `00000000-0000-4000-9000-${n}`;
  const attributes: Record<string, string | undefined> = {
    sub,
    email: `person-${counter}@example.com`,
    email_verified: "true",
    "cognito:user_status": "CONFIRMED",
    "cognito:email_alias": `person-${counter}@example.com`,
    ...overrides.userAttributes,
  };
  const userAttributes = Object.fromEntries(
    Object.entries(attributes).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return {
    version: "1",
    region: overrides.region ?? "eu-west-1",
    userPoolId: overrides.userPoolId ?? "eu-west-1_AbCdEf123",
    userName: overrides.userName ?? sub,
    callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "1example23456789" },
    triggerSource: overrides.triggerSource ?? "PostConfirmation_ConfirmSignUp",
    request: {
      userAttributes,
      ...(overrides.clientMetadata ? { clientMetadata: overrides.clientMetadata } : {}),
    },
    response: {},
  };
}
