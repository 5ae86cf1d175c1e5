/**
 * One user → one row of a user import file, or the reason the user cannot be imported.
 *
 * Facts from Amazon Cognito's developer guide that drive the rules (cited where used):
 * - "Creating the user import .csv file":
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html
 * - "User pool attributes": https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html
 * - "Quotas in Amazon Cognito": https://docs.aws.amazon.com/cognito/latest/developerguide/limits.html
 */
import { recordedUserId } from "../erasure/person.js";
import { LEGACY_SUB_ATTRIBUTE, type User, type UserStatus } from "../user/user.js";
import { escapeCsvField, formatCsvRow } from "./escape.js";
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
  const compiled = compileHeader(header);
  const fields: string[] = [];
  const problem = fillFields(compiled, user, fields);
  if (problem !== undefined) return { kind: "skip", skipped: problem };
  const line = formatCsvRow(fields);
  if (line.length > MAX_ROW_LENGTH) return { kind: "skip", skipped: rowTooLong(user, line) };
  return { kind: "row", fields, line, droppedAttributes: droppedAttributes(compiled.columnSet, user) };
}

/** A user's import row as {@link writeImportFiles} needs it: the line with its `\n`, and its UTF-8 size. */
export interface ImportRow {
  readonly kind: "row";
  /** The escaped record followed by `\n`. */
  readonly text: string;
  readonly bytes: number;
}

/**
 * {@link mapUserToRow}, for writing files: the row as text plus its size, or why the user is skipped. Only the
 * text is built (no field array or dropped-attribute list is kept): a restore plan holds this text per user.
 */
export function importRowOf(header: ImportHeader, user: User): ImportRow | SkippedRow {
  const compiled = compileHeader(header);
  const fields: string[] = [];
  const problem = fillFields(compiled, user, fields);
  if (problem !== undefined) return { kind: "skip", skipped: problem };
  // formatCsvRow's record with the terminator joined in, so the remembered text is one flat string.
  const escaped = fields.map(escapeCsvField);
  escaped[escaped.length - 1] += "\n";
  const text = escaped.join(",");
  if (text.length - 1 > MAX_ROW_LENGTH) {
    return { kind: "skip", skipped: rowTooLong(user, text.slice(0, -1)) };
  }
  return { kind: "row", text, bytes: utf8Length(text) };
}

export interface SkippedRow {
  readonly kind: "skip";
  readonly skipped: SkippedUser;
}

/** Names of the user's attributes the header has no column for (see {@link MappedUser}). */
export function droppedAttributesOf(header: ImportHeader, user: User): string[] {
  return droppedAttributes(compileHeader(header).columnSet, user);
}

function rowTooLong(user: User, line: string): SkippedUser {
  return {
    username: user.username,
    reason: "ROW_TOO_LONG",
    detail: `row: ${line.length} characters, Cognito accepts at most ${MAX_ROW_LENGTH}`,
  };
}

const enum ColumnKind {
  Username,
  MfaEnabled,
  LegacySub,
  VerifiedFlag,
  PhoneNumber,
  UpdatedAt,
  Birthdate,
  Other,
}

/** What mapping needs from a header, worked out once per header rather than once per user. */
interface CompiledHeader {
  readonly columns: readonly string[];
  readonly kinds: readonly ColumnKind[];
  readonly columnSet: ReadonlySet<string>;
  /** The mfa value forced by the pool, or undefined when each user's own flag is written. */
  readonly forcedMfa: string | undefined;
  /** Per verifiable contact the header carries (flag and value column), their indices. */
  readonly contactColumns: readonly {
    readonly contact: VerifiableContact;
    readonly flag: number;
    readonly value: number;
  }[];
  readonly contacts: readonly VerifiableContact[];
  /** Required attributes with their column index (-1: no such column, so never written). */
  readonly required: readonly { readonly name: string; readonly index: number }[];
}

// Compiled headers by header object, and by content so that two equal headers (parsed twice from the same
// GetCSVHeader answer) share one.
const compiledByHeader = new WeakMap<ImportHeader, CompiledHeader>();
const compiledByKey = new Map<string, CompiledHeader>();
const MAX_COMPILED_BY_KEY = 64;

function compileHeader(header: ImportHeader): CompiledHeader {
  const known = compiledByHeader.get(header);
  if (known !== undefined && sameColumns(known.columns, header.columns)) return known;
  const key = JSON.stringify([
    header.columns,
    header.verifiedContacts ?? null,
    header.requiredAttributes ?? [],
    header.mfaConfiguration ?? null,
  ]);
  let compiled = compiledByKey.get(key);
  if (compiled === undefined) {
    compiled = buildCompiledHeader(header);
    if (compiledByKey.size >= MAX_COMPILED_BY_KEY) compiledByKey.clear();
    compiledByKey.set(key, compiled);
  }
  compiledByHeader.set(header, compiled);
  return compiled;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function buildCompiledHeader(header: ImportHeader): CompiledHeader {
  const columns = [...header.columns];
  const columnSet = new Set(columns);
  const kinds = columns.map((column): ColumnKind => {
    if (column === USERNAME_COLUMN) return ColumnKind.Username;
    if (column === MFA_ENABLED_COLUMN) return ColumnKind.MfaEnabled;
    if (column === LEGACY_SUB_ATTRIBUTE) return ColumnKind.LegacySub;
    if (BOOLEAN_COLUMNS.has(column)) return ColumnKind.VerifiedFlag;
    if (column === "phone_number") return ColumnKind.PhoneNumber;
    if (column === "updated_at") return ColumnKind.UpdatedAt;
    if (column === "birthdate") return ColumnKind.Birthdate;
    return ColumnKind.Other;
  });
  const contactColumns = (["email", "phone_number"] as const)
    .filter((contact) => columnSet.has(VERIFIED_FLAG_COLUMN[contact]))
    .map((contact) => ({
      contact,
      flag: columns.indexOf(VERIFIED_FLAG_COLUMN[contact]),
      value: columns.indexOf(contact),
    }));
  return {
    columns,
    kinds,
    columnSet,
    forcedMfa:
      header.mfaConfiguration === "ON" ? "true" : header.mfaConfiguration === "OFF" ? "false" : undefined,
    contactColumns,
    contacts: [...(header.verifiedContacts ?? carriedContacts(columnSet))],
    required: (header.requiredAttributes ?? []).map((name) => ({ name, index: columns.indexOf(name) })),
  };
}

/**
 * Fills `fields` with the user's values in header order (see {@link mapUserToRow}); returns why the user is
 * skipped instead, checking in the documented order.
 */
function fillFields(header: CompiledHeader, user: User, fields: string[]): SkippedUser | undefined {
  const skip = (reason: SkipReason, detail: string): SkippedUser => ({
    username: user.username,
    reason,
    detail,
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

  const { columns, kinds } = header;
  for (let i = 0; i < columns.length; i++) {
    const value = columnValue(header, kinds[i] as ColumnKind, user, columns[i] as string);
    if (typeof value !== "string") return skip(value.reason, `${columns[i]}: ${value.rule}`);
    fields.push(value);
  }

  // "At least one of the auto-verified attributes must be true for each user", and "email (if email_verified
  // is true)" / "phone_number (if phone_number_verified is true)" are required.
  let verifiedEmail = false;
  let verifiedPhone = false;
  for (const { contact, flag, value } of header.contactColumns) {
    if (fields[flag] !== "true") continue;
    if ((fields[value] ?? "") === "") {
      fields[flag] = "false";
    } else if (contact === "email") {
      verifiedEmail = true;
    } else {
      verifiedPhone = true;
    }
  }
  if (!header.contacts.some((contact) => (contact === "email" ? verifiedEmail : verifiedPhone))) {
    const flags = header.contacts.map((contact) => VERIFIED_FLAG_COLUMN[contact]).join(" or ");
    return skip("NO_VERIFIED_CONTACT", `${flags}: none is true with its value present`);
  }

  for (const { name, index } of header.required) {
    if ((fields[index] ?? "") === "") {
      return skip("MISSING_REQUIRED_ATTRIBUTE", `${name}: the pool requires it and the user has no value`);
    }
  }
  return undefined;
}

type ColumnProblem = { reason: SkipReason; rule: string };

// One test for the characters of UNDOCUMENTED: most values hold none of them.
const ANY_UNDOCUMENTED = /[\r\n"\\]/;

/** The value written for one column, or why the user cannot be imported. */
function columnValue(
  header: CompiledHeader,
  kind: ColumnKind,
  user: User,
  column: string,
): string | ColumnProblem {
  if (kind === ColumnKind.Username) return user.username;
  if (kind === ColumnKind.MfaEnabled) {
    // "If you've set MFA to be required in your user pool, this field must be true for all users. If you've set
    // MFA to be off, this field must be false for all users. [If optional] it can't be empty."
    return header.forcedMfa ?? (user.mfaEnabled ? "true" : "false");
  }

  let raw: string | undefined;
  if (kind === ColumnKind.LegacySub) {
    const id = recordedUserId(user);
    if (id === undefined) return { reason: "INVALID_VALUE", rule: "is not a user id (a lowercase UUID)" };
    raw = id;
  } else {
    raw = user.attributes[column];
  }
  if (raw === undefined || raw === "") return emptyValue(kind);
  const value = raw.trim();
  if (ANY_UNDOCUMENTED.test(value)) {
    for (const { pattern, rule } of UNDOCUMENTED) {
      if (pattern.test(value)) return { reason: "INVALID_VALUE", rule };
    }
  }
  // At most 3 UTF-8 bytes per UTF-16 code unit: only long values need counting.
  if (value.length * 3 > MAX_ATTRIBUTE_BYTES && utf8Length(value) > MAX_ATTRIBUTE_BYTES) {
    return { reason: "INVALID_VALUE", rule: `is longer than ${MAX_ATTRIBUTE_BYTES} bytes` };
  }
  if (value === "") return emptyValue(kind);

  switch (kind) {
    case ColumnKind.VerifiedFlag: {
      const lower = value.toLowerCase();
      if (lower !== "true" && lower !== "false")
        return { reason: "INVALID_VALUE", rule: "must be true or false" };
      return lower;
    }
    case ColumnKind.PhoneNumber:
      return E164.test(value)
        ? value
        : {
            reason: "INVALID_PHONE_NUMBER",
            rule: "is not an E.164 number (+, country code, at most 15 digits)",
          };
    case ColumnKind.UpdatedAt:
      return EPOCH_SECONDS.test(value)
        ? value
        : { reason: "INVALID_VALUE", rule: "must be epoch time in seconds" };
    case ColumnKind.Birthdate: {
      if (BIRTHDATE_CSV.test(value)) return value;
      const iso = BIRTHDATE_ISO.exec(value);
      if (!iso) return { reason: "INVALID_VALUE", rule: "must be a date as YYYY-MM-DD or mm/dd/yyyy" };
      return `${iso[2]}/${iso[3]}/${iso[1]}`;
    }
    default:
      return value;
  }
}

/** The value written for a column the user has no value for (after trimming). */
function emptyValue(kind: ColumnKind): string | ColumnProblem {
  if (kind === ColumnKind.LegacySub)
    return { reason: "INVALID_VALUE", rule: "the user has no sub to carry over" };
  if (kind === ColumnKind.VerifiedFlag) return "false";
  return "";
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
