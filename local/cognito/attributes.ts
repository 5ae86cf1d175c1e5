/**
 * Attribute rules Cognito applies and cognito-local does not.
 *
 * - An app client's write list (`WriteAttributes`): SignUp and UpdateUserAttributes with an attribute the
 *   client may not write are refused with NotAuthorizedException "A client attempted to write unauthorized
 *   attribute". A client created without the list may write every attribute it could be given, as in Cognito.
 * - An app client's read list (`ReadAttributes`): GetUser gives the client only those (and `sub`).
 * - Sizes (API reference, AttributeType): a name is 1–32 characters, a value at most 2,048 characters; beyond
 *   that the request fails validation (InvalidParameterException, AWS's "1 validation error detected" text).
 * - The schema: a name that is neither a standard attribute nor one of the pool's custom attributes (`__proto__`,
 *   `favorite_flavor`, an undeclared `custom:` name), or `sub` (Cognito assigns it), is refused
 *   (InvalidParameterException "Attributes did not conform to the schema: <name>: Attribute does not exist in the
 *   schema."), whoever calls.
 * - `phone_number`: a plus sign, the country code and digits only (the attributes guide), else
 *   InvalidParameterException "Invalid phone number format.".
 */
import { A_POOL_CSV_HEADER } from "../../core/testing/csv.js";
import { cognitoError, type UserPool } from "./cognito-local.js";

export const MAX_ATTRIBUTE_VALUE_LENGTH = 2048;
export const MAX_ATTRIBUTE_NAME_LENGTH = 32;

/** The standard attributes of every user pool (besides `sub`), in the order GetCSVHeader lists them. */
export const STANDARD_ATTRIBUTES: readonly string[] = A_POOL_CSV_HEADER.filter(
  (column) => !/^(custom|cognito):/.test(column),
);

/** E.164: a plus sign, a country code that does not start with 0, at most 15 digits in all. */
export const E164 = /^\+[1-9]\d{1,14}$/;

interface Attribute {
  readonly Name?: string;
  readonly Value?: string;
}

/** The attribute list of a request, checked for sizes and for the pool's schema. */
export function checkAttributes(pool: UserPool, attributes: unknown, parameter: string): void {
  if (attributes === undefined || attributes === null) return;
  if (!Array.isArray(attributes))
    throw cognitoError("InvalidParameterException", `${parameter} must be a list`);
  const known = new Set<string>(STANDARD_ATTRIBUTES);
  for (const attribute of pool.options.SchemaAttributes ?? []) {
    if (attribute.Name?.startsWith("custom:")) known.add(attribute.Name);
  }
  (attributes as Attribute[]).forEach((attribute, index) => {
    const at = `${parameter}.${index + 1}.member`;
    const name = attribute.Name ?? "";
    if (name.length < 1 || name.length > MAX_ATTRIBUTE_NAME_LENGTH) {
      throw cognitoError(
        "InvalidParameterException",
        `1 validation error detected: Value at '${at}.name' failed to satisfy constraint: Member must have length ${name.length < 1 ? "greater than or equal to 1" : `less than or equal to ${MAX_ATTRIBUTE_NAME_LENGTH}`}`,
      );
    }
    if ((attribute.Value ?? "").length > MAX_ATTRIBUTE_VALUE_LENGTH) {
      throw cognitoError(
        "InvalidParameterException",
        `1 validation error detected: Value at '${at}.value' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ATTRIBUTE_VALUE_LENGTH}`,
      );
    }
    if (name === "sub") {
      // Cognito assigns it; nobody sets it, not even an administrator.
      throw cognitoError(
        "InvalidParameterException",
        "Attributes did not conform to the schema: sub: Attribute cannot be updated. (changing an immutable attribute)",
      );
    }
    if (!known.has(name)) {
      throw cognitoError(
        "InvalidParameterException",
        `Attributes did not conform to the schema: ${name}: Attribute does not exist in the schema.`,
      );
    }
    if (name === "phone_number" && !E164.test(attribute.Value ?? "")) {
      throw cognitoError("InvalidParameterException", "Invalid phone number format.");
    }
  });
}

/** The longest username (API reference: UsernameType, 1–128 characters). */
export const MAX_USERNAME_LENGTH = 128;

/** Refuses a username over 128 characters with the API's validation message. */
export function checkUsername(username: unknown): void {
  if (typeof username === "string" && username.length > MAX_USERNAME_LENGTH) {
    throw cognitoError(
      "InvalidParameterException",
      `1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to ${MAX_USERNAME_LENGTH}`,
    );
  }
}

/** Refuses an attribute the app client may not write (when the client has a write list). */
export function checkWritable(writeAttributes: readonly string[] | undefined, attributes: unknown): void {
  if (!writeAttributes || !Array.isArray(attributes)) return;
  const writable = new Set(writeAttributes);
  if ((attributes as Attribute[]).some((attribute) => !writable.has(attribute.Name ?? ""))) {
    throw cognitoError("NotAuthorizedException", "A client attempted to write unauthorized attribute");
  }
}

/** What a client with this read list sees of a user's attributes (`sub` always). */
export function readable<T extends Attribute>(
  readAttributes: readonly string[] | undefined,
  attributes: T[],
): T[] {
  if (!readAttributes) return attributes;
  const visible = new Set([...readAttributes, "sub"]);
  return attributes.filter((attribute) => visible.has(attribute.Name ?? ""));
}
