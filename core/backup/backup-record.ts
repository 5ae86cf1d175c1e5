/**
 * Backup record v1: one user of a pool, as one JSON object. Written when a user confirms sign-up, by
 * reconcile, and as the lines of a snapshot part. The user sits in Cognito's own `UserType` shape (what
 * ListUsers returns), so ListUsers dumps made by other tools read the same way; groups and the MFA flag,
 * which `UserType` does not carry, sit beside it.
 */
import type { ErrorCode } from "../errors.js";
import { isUserStatus, normalizeGroups, USER_STATUSES, type User, type UserStatus } from "../user/user.js";
import {
  child,
  expectArray,
  expectBoolean,
  expectDate,
  expectObject,
  expectOnlyKeys,
  expectString,
  fail,
  field,
  formatDate,
  item,
  jsonType,
  parseJsonText,
  type ReadContext,
  required,
} from "./json-reader.js";

/** The `format` every backup record carries, so a record is recognised wherever it is found. */
export const BACKUP_FORMAT = "cognito-user-lifecycle/backup";

export const BACKUP_SOURCE_KINDS = ["post-confirmation", "snapshot", "reconcile", "foreign"] as const;
export type BackupSourceKind = (typeof BACKUP_SOURCE_KINDS)[number];

/** What took the backup: the Post Confirmation trigger, a snapshot, reconcile, or an import of a foreign dump. */
export interface BackupSource {
  readonly kind: BackupSourceKind;
  readonly userPoolId?: string;
  /** The trigger source for `post-confirmation`, e.g. `PostConfirmation_ConfirmSignUp`. */
  readonly trigger?: string;
}

export interface BackupRecord {
  readonly version: 1;
  readonly capturedAt: Date;
  readonly source: BackupSource;
  readonly user: User;
}

/** Cognito's `AttributeType`. */
export interface CognitoAttributeType {
  readonly Name: string;
  readonly Value: string;
}

/**
 * Cognito's `UserType` (the element of ListUsers' `Users`) as this project writes it: dates as ISO 8601
 * strings with milliseconds, attributes sorted by name, `sub` always among them.
 */
export interface CognitoUserType {
  readonly Username: string;
  readonly Attributes: readonly CognitoAttributeType[];
  readonly UserCreateDate?: string;
  readonly UserLastModifiedDate?: string;
  readonly Enabled: boolean;
  readonly UserStatus: UserStatus;
}

// Limits from the Cognito API reference: UserType.Username 1-128 characters; AttributeType.Name 1-32 and
// AttributeType.Value at most 2048; GroupType.GroupName (CreateGroup) 1-128. A value past them cannot have
// come from Cognito, so it is a damaged backup, not data to carry into a restore.
const USERNAME_MAX = 128;
const ATTRIBUTE_NAME_MAX = 32;
const ATTRIBUTE_VALUE_MAX = 2048;
export const GROUP_NAME_MAX = 128;

/**
 * UserPoolId in the Cognito API reference is 1-55 characters (pattern `[\w-]+_[0-9a-zA-Z]+`). Only the length
 * is enforced: the pool id in a backup says where it came from and is never used to address anything, so a
 * record is not refused over an id from an emulator or a test.
 */
export const USER_POOL_ID_MAX = 55;

const RECORD_KEYS = ["format", "version", "capturedAt", "source", "user", "groups", "mfaEnabled"] as const;
const SOURCE_KEYS = ["kind", "userPoolId", "trigger"] as const;

function malformed(location?: string): ReadContext {
  return { code: "BACKUP.MALFORMED", location };
}

/**
 * The user in Cognito's `UserType` shape. `Attributes` are sorted by name (code unit order, the same in every
 * locale) and hold `sub` set to `user.sub`, whatever `user.attributes` says about it.
 *
 * @throws ValidationError `BACKUP.MALFORMED` (field `user.UserCreateDate` / `user.UserLastModifiedDate`)
 *   when a date is not a valid Date.
 */
export function toUserType(user: User): CognitoUserType {
  const ctx = malformed();
  const attributes = Object.entries({ ...user.attributes, sub: user.sub })
    .map(([Name, Value]) => ({ Name, Value }))
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  return {
    Username: user.username,
    Attributes: attributes,
    ...(user.createdAt ? { UserCreateDate: formatDate(user.createdAt, "user.UserCreateDate", ctx) } : {}),
    ...(user.modifiedAt
      ? { UserLastModifiedDate: formatDate(user.modifiedAt, "user.UserLastModifiedDate", ctx) }
      : {}),
    Enabled: user.enabled,
    UserStatus: user.status,
  };
}

/**
 * Reads one Cognito `UserType`, from this project's records or from another tool's ListUsers output.
 * Dates may be ISO 8601 strings (any offset; finer than milliseconds is truncated) or epoch seconds as
 * numbers, as Cognito sends them and the AWS CLI prints them by default in v1. `Username`, `Attributes`
 * (with a non-empty `sub`), `Enabled` and `UserStatus` are required; fields Cognito may add later, and the
 * retired `MFAOptions`, are ignored. The user comes back with no groups and MFA off: `UserType` carries
 * neither.
 *
 * @param field the JSON path of `value`, prefixed to the field of every error (default `user`).
 * @throws ValidationError `BACKUP.MALFORMED` naming the path of the first bad value (e.g.
 *   `user.Attributes[2].Value`); messages never contain attribute values.
 */
export function fromUserType(value: unknown, field = "user"): User {
  return readUserType(value, field, malformed());
}

/** {@link fromUserType} with the caller's context, so errors carry its location and code. */
export function readUserType(value: unknown, path: string, ctx: ReadContext): User {
  const object = expectObject(value, path, ctx);
  const username = expectString(required(object, "Username", path, ctx), child(path, "Username"), ctx, {
    minLength: 1,
    maxLength: USERNAME_MAX,
  });
  const attributesPath = child(path, "Attributes");
  const list = expectArray(required(object, "Attributes", path, ctx), attributesPath, ctx);
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  list.forEach((entry, index) => {
    const entryPath = item(attributesPath, index);
    const attribute = expectObject(entry, entryPath, ctx);
    const name = expectString(required(attribute, "Name", entryPath, ctx), child(entryPath, "Name"), ctx, {
      minLength: 1,
      maxLength: ATTRIBUTE_NAME_MAX,
    });
    if (seen.has(name)) fail(ctx, child(entryPath, "Name"), "duplicate attribute name");
    seen.add(name);
    const attributeValue = expectString(
      required(attribute, "Value", entryPath, ctx),
      child(entryPath, "Value"),
      ctx,
      {
        maxLength: ATTRIBUTE_VALUE_MAX,
      },
    );
    if (name === "sub" && attributeValue === "")
      fail(ctx, child(entryPath, "Value"), "sub must not be empty");
    entries.push([name, attributeValue]);
  });
  // fromEntries defines own properties, so an attribute named `__proto__` stays an attribute.
  const attributes: Record<string, string> = Object.fromEntries(entries);
  const sub = Object.hasOwn(attributes, "sub") ? attributes.sub : undefined;
  if (sub === undefined) fail(ctx, attributesPath, "no sub attribute (every Cognito user has one)");

  const createdAt = field(object, "UserCreateDate");
  const modifiedAt = field(object, "UserLastModifiedDate");
  const enabled = expectBoolean(required(object, "Enabled", path, ctx), child(path, "Enabled"), ctx);
  const statusPath = child(path, "UserStatus");
  const status = required(object, "UserStatus", path, ctx);
  if (typeof status !== "string") fail(ctx, statusPath, `expected a string, got ${jsonType(status)}`);
  if (!isUserStatus(status))
    fail(ctx, statusPath, `unknown user status (expected one of ${USER_STATUSES.join(", ")})`);

  return {
    username,
    sub: sub as string,
    attributes,
    status: status as UserStatus,
    enabled,
    mfaEnabled: false,
    ...(createdAt === undefined
      ? {}
      : { createdAt: expectDate(createdAt, child(path, "UserCreateDate"), ctx, { epochSeconds: true }) }),
    ...(modifiedAt === undefined
      ? {}
      : {
          modifiedAt: expectDate(modifiedAt, child(path, "UserLastModifiedDate"), ctx, {
            epochSeconds: true,
          }),
        }),
    groups: [],
  };
}

function toWire(record: BackupRecord, ctx: ReadContext): Record<string, unknown> {
  const { kind, userPoolId, trigger } = record.source;
  return {
    format: BACKUP_FORMAT,
    version: record.version,
    capturedAt: formatDate(record.capturedAt, "capturedAt", ctx),
    source: {
      kind,
      ...(userPoolId === undefined ? {} : { userPoolId }),
      ...(trigger === undefined ? {} : { trigger }),
    },
    user: toUserType(record.user),
    groups: [...record.user.groups],
    mfaEnabled: record.user.mfaEnabled,
  };
}

/**
 * One line of JSON: compact, keys in a fixed order, attributes sorted by name, dates in ISO 8601 with
 * milliseconds, no trailing newline (JSON escapes every newline inside values). The same record always gives
 * the same text.
 *
 * @throws ValidationError `BACKUP.MALFORMED` when the record would not read back (an invalid date, a user
 *   without sub, an over-long value...): the record is checked with the reader before it is written, so no
 *   backup is ever stored that a restore would refuse.
 */
export function serializeBackupRecord(record: BackupRecord): string {
  const ctx = malformed();
  const wire = toWire(record, ctx);
  readRecord(wire, ctx);
  return JSON.stringify(wire);
}

/**
 * Reads a backup record from JSON text, or from an already parsed value.
 *
 * @param location where the record was read from (an object key, `part-00003.jsonl line 17`); prefixed to
 *   every error field, e.g. `users/abc.json: user.UserStatus`.
 * @throws ValidationError `BACKUP.UNSUPPORTED_VERSION` (field `version`) for a record of another version;
 *   `BACKUP.MALFORMED` naming the JSON path of the first bad value for invalid JSON, an unknown `format`,
 *   missing, unknown or ill-typed fields, an unknown status, duplicate attribute names, a user without `sub`
 *   or a bad date. Messages never contain attribute values.
 */
export function parseBackupRecord(input: string | unknown, location?: string): BackupRecord {
  const ctx = malformed(location);
  return readRecord(parseJsonText(input, ctx), ctx);
}

function readRecord(value: unknown, ctx: ReadContext): BackupRecord {
  const object = expectObject(value, "", ctx);
  const format = required(object, "format", "", ctx);
  if (format !== BACKUP_FORMAT) fail(ctx, "format", `expected "${BACKUP_FORMAT}"`);
  // The version is read before the rest: a newer record may have fields this reader does not know.
  const version = required(object, "version", "", ctx);
  if (version !== 1) {
    const code: ErrorCode = Number.isInteger(version) ? "BACKUP.UNSUPPORTED_VERSION" : "BACKUP.MALFORMED";
    fail(ctx, "version", "this reader supports backup record version 1 only", code);
  }
  expectOnlyKeys(object, RECORD_KEYS, "", ctx);

  const capturedAt = expectDate(required(object, "capturedAt", "", ctx), "capturedAt", ctx, {
    epochSeconds: false,
  });
  const source = readSource(required(object, "source", "", ctx), ctx);
  const user = readUserType(required(object, "user", "", ctx), "user", ctx);
  const groupList = expectArray(required(object, "groups", "", ctx), "groups", ctx);
  const groups = groupList.map((group, index) =>
    expectString(group, item("groups", index), ctx, { minLength: 1, maxLength: GROUP_NAME_MAX }),
  );
  const mfaEnabled = expectBoolean(required(object, "mfaEnabled", "", ctx), "mfaEnabled", ctx);

  return { version: 1, capturedAt, source, user: { ...user, groups: normalizeGroups(groups), mfaEnabled } };
}

function readSource(value: unknown, ctx: ReadContext): BackupSource {
  const object = expectObject(value, "source", ctx);
  expectOnlyKeys(object, SOURCE_KEYS, "source", ctx);
  const kind = expectString(required(object, "kind", "source", ctx), "source.kind", ctx);
  if (!(BACKUP_SOURCE_KINDS as readonly string[]).includes(kind)) {
    fail(ctx, "source.kind", `unknown source (expected one of ${BACKUP_SOURCE_KINDS.join(", ")})`);
  }
  const userPoolId = field(object, "userPoolId");
  const trigger = field(object, "trigger");
  return {
    kind: kind as BackupSourceKind,
    ...(userPoolId === undefined
      ? {}
      : {
          userPoolId: expectString(userPoolId, "source.userPoolId", ctx, {
            minLength: 1,
            maxLength: USER_POOL_ID_MAX,
          }),
        }),
    ...(trigger === undefined
      ? {}
      : { trigger: expectString(trigger, "source.trigger", ctx, { minLength: 1, maxLength: 128 }) }),
  };
}
