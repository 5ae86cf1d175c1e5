/**
 * One user → one row of a user import file, or the reason the user cannot be imported.
 *
 * Facts from Amazon Cognito's developer guide that drive the rules (cited where used):
 * - "Creating the user import .csv file":
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html
 * - "User pool attributes": https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html
 * - "Quotas in Amazon Cognito": https://docs.aws.amazon.com/cognito/latest/developerguide/limits.html
 */
import { LEGACY_SUB_ATTRIBUTE, stableUserId, type User, type UserStatus } from "../user/user.js";
import { formatCsvRow } from "./escape.js";
import {
  type ImportHeader,
  MFA_ENABLED_COLUMN,
  USERNAME_COLUMN,
  VERIFIED_FLAG_COLUMN,
  type VerifiableContact,
} from "./import-header.js";

export type SkipReason =
  | "UNCONFIRMED"
  | "EXTERNAL_PROVIDER"
  | "STATUS_NOT_IMPORTABLE"
  | "NO_VERIFIED_CONTACT"
  | "INVALID_USERNAME"
  | "INVALID_PHONE_NUMBER"
  | "INVALID_VALUE"
  | "ROW_TOO_LONG"
  | "DUPLICATE_USERNAME"
  | "MISSING_REQUIRED_ATTRIBUTE";

export interface SkippedUser {
  username: string;
  reason: SkipReason;
  /** Names the attribute and the rule it breaks; never contains the attribute's value. */
  detail: string;
}

export type MappedUser =
  | {
      kind: "row";
      /** One value per header column, in header order, unescaped. */
      fields: string[];
      /** The escaped record, without a line terminator. */
      line: string;
      /** Names of the user's attributes the header has no column for, so they are not imported. */
      droppedAttributes: string[];
    }
  | { kind: "skip"; skipped: SkippedUser };

/** "The maximum row length is 16,000 characters." Counted in UTF-16 code units, never fewer than characters. */
export const MAX_ROW_LENGTH = 16_000;

/**
 * "Standard and custom attribute values can be any string up to 2048 characters" (User pool attributes), while
 * the quotas page gives "Maximum characters per attribute: 2,048 bytes". Counting UTF-8 bytes meets both.
 */
export const MAX_ATTRIBUTE_BYTES = 2048;

/** "Your users are in a RESET_REQUIRED state when imported", whichever of these they had. */
const IMPORTABLE_STATUSES: ReadonlySet<UserStatus> = new Set([
  "CONFIRMED",
  "RESET_REQUIRED",
  "FORCE_CHANGE_PASSWORD",
]);

const BOOLEAN_COLUMNS = new Set(Object.values(VERIFIED_FLAG_COLUMN));

// "A phone number must start with a plus (+) sign, followed immediately by the country code. A phone number can
// only contain the + sign and digits" (User pool attributes) — E.164: a country code never starts with 0 and the
// whole number has at most 15 digits.
const E164 = /^\+[1-9]\d{1,14}$/;

// "The updated_at field value is expected to be epoch time in seconds, for example: 1471453471."
const EPOCH_SECONDS = /^\d+$/;

// "The birthdate values, if present, must be in the format mm/dd/yyyy." Cognito itself stores the OIDC form
// YYYY-MM-DD, which is what a backup holds, so that form is rewritten.
const BIRTHDATE_CSV = /^(0[1-9]|1[0-2])\/(0[1-9]|[12]\d|3[01])\/\d{4}$/;
const BIRTHDATE_ISO = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

// "The cognito:username ... can be any Unicode string. However, it cannot contain spaces or tabs." Any
// whitespace is refused: line breaks would also end the row.
const WHITESPACE = /\s/u;

/**
 * Characters whose meaning inside a value Cognito does not document. Only `\,` is documented (see escape.ts);
 * a value holding one of these could be imported differently from what it says, so the user is skipped.
 */
const UNDOCUMENTED = [
  { pattern: /[\r\n]/, rule: "contains a line break, which would end the row" },
  { pattern: /"/, rule: "contains a double quote, which the import format does not define" },
  { pattern: /\\/, rule: "contains a backslash, which the import format only defines before a comma" },
] as const;

/**
 * Maps one user to a row of the given header, or says why the user must be left out.
 *
 * Skips (in this order): UNCONFIRMED status; EXTERNAL_PROVIDER status or linked identities (federated users
 * sign in through their provider); ARCHIVED, COMPROMISED, UNKNOWN status (STATUS_NOT_IMPORTABLE); a username
 * that is empty or holds whitespace, a quote or a backslash (INVALID_USERNAME); per column in header order, a
 * value Cognito would reject or misread (INVALID_PHONE_NUMBER for a phone number outside E.164 — even when the
 * email is verified, because Cognito would reject the whole row — else INVALID_VALUE); no verified contact
 * among the header's verified contacts (NO_VERIFIED_CONTACT; a flag that is true for an empty value does not
 * count); an empty required attribute (MISSING_REQUIRED_ATTRIBUTE); a record over 16,000 characters
 * (ROW_TOO_LONG). Duplicates are a property of a file, not a user: see `writeImportFiles`.
 *
 * Values written: `cognito:username` = the username; `cognito:mfa_enabled` = "true"/"false" from the user, or
 * forced by the pool's MFA setting; `custom:legacy_sub` = {@link stableUserId}, so a user restored twice keeps
 * the first sub; verified flags as "true"/"false" (a true flag with no value is written "false"); `birthdate`
 * as mm/dd/yyyy; every other column from the attribute of that name, trimmed ("Any leading or trailing white
 * space in an attribute value will be trimmed"), or empty. `sub` is never written: Cognito assigns a new one.
 * The enabled flag, groups and password are not part of the file.
 *
 * Pure and total: never throws for any user.
 */
export function mapUserToRow(header: ImportHeader, user: User): MappedUser {
  const skip = (reason: SkipReason, detail: string): MappedUser => ({
    kind: "skip",
    skipped: { username: user.username, reason, detail },
  });

  if (user.status === "UNCONFIRMED") {
    return skip("UNCONFIRMED", "status UNCONFIRMED: Cognito cannot import users who never confirmed");
  }
  if (user.status === "EXTERNAL_PROVIDER") {
    return skip(
      "EXTERNAL_PROVIDER",
      "status EXTERNAL_PROVIDER: federated users sign in through their provider",
    );
  }
  if (hasLinkedIdentities(user)) {
    return skip("EXTERNAL_PROVIDER", "identities: the user is linked to an external identity provider");
  }
  if (!IMPORTABLE_STATUSES.has(user.status)) {
    return skip("STATUS_NOT_IMPORTABLE", `status ${user.status} cannot be imported`);
  }

  const usernameProblem = checkUsername(user.username);
  if (usernameProblem !== undefined)
    return skip("INVALID_USERNAME", `${USERNAME_COLUMN}: ${usernameProblem}`);

  const columns = new Set(header.columns);
  const contacts = header.verifiedContacts ?? carriedContacts(columns);
  const verified = new Set<VerifiableContact>();
  const fields: string[] = [];

  for (const column of header.columns) {
    const value = columnValue(header, user, column);
    if (value.kind === "skip") return skip(value.reason, `${column}: ${value.rule}`);
    fields.push(value.value);
  }
  const written = (column: string): string => fields[header.columns.indexOf(column)] ?? "";

  // "At least one of the auto-verified attributes must be true for each user", and "email (if email_verified
  // is true)" / "phone_number (if phone_number_verified is true)" are required.
  for (const contact of ["email", "phone_number"] as const) {
    const flagColumn = VERIFIED_FLAG_COLUMN[contact];
    if (!columns.has(flagColumn) || written(flagColumn) !== "true") continue;
    if (written(contact) === "") {
      fields[header.columns.indexOf(flagColumn)] = "false";
    } else {
      verified.add(contact);
    }
  }
  if (!contacts.some((contact) => verified.has(contact))) {
    const flags = contacts.map((contact) => VERIFIED_FLAG_COLUMN[contact]).join(" or ");
    return skip("NO_VERIFIED_CONTACT", `${flags}: none is true with its value present`);
  }

  for (const required of header.requiredAttributes ?? []) {
    if (written(required) === "") {
      return skip(
        "MISSING_REQUIRED_ATTRIBUTE",
        `${required}: the pool requires it and the user has no value`,
      );
    }
  }

  const line = formatCsvRow(fields);
  if (line.length > MAX_ROW_LENGTH) {
    return skip("ROW_TOO_LONG", `row: ${line.length} characters, Cognito accepts at most ${MAX_ROW_LENGTH}`);
  }

  return { kind: "row", fields, line, droppedAttributes: droppedAttributes(columns, user) };
}

type ColumnValue = { kind: "value"; value: string } | { kind: "skip"; reason: SkipReason; rule: string };

function columnValue(header: ImportHeader, user: User, column: string): ColumnValue {
  const ok = (value: string): ColumnValue => ({ kind: "value", value });
  const invalid = (rule: string, reason: SkipReason = "INVALID_VALUE"): ColumnValue => ({
    kind: "skip",
    reason,
    rule,
  });

  if (column === USERNAME_COLUMN) return ok(user.username);
  if (column === MFA_ENABLED_COLUMN) {
    // "If you've set MFA to be required in your user pool, this field must be true for all users. If you've set
    // MFA to be off, this field must be false for all users. [If optional] it can't be empty."
    if (header.mfaConfiguration === "ON") return ok("true");
    if (header.mfaConfiguration === "OFF") return ok("false");
    return ok(user.mfaEnabled ? "true" : "false");
  }

  const raw = column === LEGACY_SUB_ATTRIBUTE ? stableUserId(user) : (user.attributes[column] ?? "");
  const value = raw.trim();
  for (const { pattern, rule } of UNDOCUMENTED) {
    if (pattern.test(value)) return invalid(rule);
  }
  if (utf8Length(value) > MAX_ATTRIBUTE_BYTES) return invalid(`is longer than ${MAX_ATTRIBUTE_BYTES} bytes`);

  if (column === LEGACY_SUB_ATTRIBUTE && value === "") return invalid("the user has no sub to carry over");
  if (BOOLEAN_COLUMNS.has(column)) {
    if (value === "") return ok("false");
    const lower = value.toLowerCase();
    if (lower !== "true" && lower !== "false") return invalid("must be true or false");
    return ok(lower);
  }
  if (value === "") return ok("");
  if (column === "phone_number" && !E164.test(value)) {
    return invalid("is not an E.164 number (+, country code, at most 15 digits)", "INVALID_PHONE_NUMBER");
  }
  if (column === "updated_at" && !EPOCH_SECONDS.test(value)) return invalid("must be epoch time in seconds");
  if (column === "birthdate") {
    if (BIRTHDATE_CSV.test(value)) return ok(value);
    const iso = BIRTHDATE_ISO.exec(value);
    if (!iso) return invalid("must be a date as YYYY-MM-DD or mm/dd/yyyy");
    return ok(`${iso[2]}/${iso[3]}/${iso[1]}`);
  }
  return ok(value);
}

function checkUsername(username: string): string | undefined {
  if (username === "") return "is empty";
  if (WHITESPACE.test(username)) return "contains whitespace";
  if (username.includes('"') || username.includes("\\")) {
    return "contains a double quote or a backslash, which the import format does not define";
  }
  if (utf8Length(username) > MAX_ATTRIBUTE_BYTES) return `is longer than ${MAX_ATTRIBUTE_BYTES} bytes`;
  return undefined;
}

function hasLinkedIdentities(user: User): boolean {
  const identities = user.attributes.identities?.trim() ?? "";
  return identities !== "" && identities !== "[]";
}

function carriedContacts(columns: ReadonlySet<string>): VerifiableContact[] {
  return (["email", "phone_number"] as const).filter(
    (contact) => columns.has(contact) && columns.has(VERIFIED_FLAG_COLUMN[contact]),
  );
}

function droppedAttributes(columns: ReadonlySet<string>, user: User): string[] {
  return Object.keys(user.attributes).filter((name) => {
    if (columns.has(name)) return false;
    // The sub travels in custom:legacy_sub when the header has that column; otherwise it is really lost.
    if (name === "sub") return !columns.has(LEGACY_SUB_ATTRIBUTE);
    return true;
  });
}

function utf8Length(value: string): number {
  return Buffer.byteLength(value, "utf8");
}
