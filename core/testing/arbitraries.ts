/**
 * fast-check arbitraries for property tests: users, backup records, groups, snapshot manifests. Attribute
 * values are hostile on purpose (quotes, backslashes, newlines, separators, unicode, lone surrogates, empty
 * strings), because every format that carries them must survive them.
 */
import fc from "fast-check";
import { BACKUP_SOURCE_KINDS, type BackupRecord, type BackupSource } from "../backup/backup-record.js";
import {
  type SnapshotManifest,
  type SnapshotPartEntry,
  snapshotIdFor,
  snapshotPartName,
} from "../backup/snapshot.js";
import { type Group, LEGACY_SUB_ATTRIBUTE, makeUser, USER_STATUSES, type User } from "../user/user.js";

const HOSTILE_VALUES = [
  "",
  " ",
  '"',
  '\\"',
  "\\",
  "\n",
  "line one\nline two",
  "\r\n",
  "a,b;c\td",
  "'; DROP TABLE users; --",
  "=cmd|'/c calc'!A0",
  "\u2028\u2029",
  "\u0000",
  "\ud800",
  "\udfff lone",
  "😀👩‍👩‍👧",
  "e\u0301",
  "名前",
  "مرحبا",
  "null",
  "{}",
  "[]",
  "true",
  "__proto__",
  "alice+tag@example.com",
  "+81 90-0000-0000",
];

/** Attribute values as Cognito stores them: anything up to a few dozen characters, often hostile. */
export function arbAttributeValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...HOSTILE_VALUES),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.string({ unit: "grapheme", maxLength: 10 }),
    fc.emailAddress(),
  );
}

/** Standard attribute names and custom ones (`custom:` + up to 20 characters, within Cognito's 32). */
export function arbAttributeName(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      "email",
      "email_verified",
      "phone_number",
      "phone_number_verified",
      "name",
      "given_name",
      "family_name",
      "preferred_username",
      "locale",
      "zoneinfo",
      "address",
      "custom:legacy_sub",
      "custom:tenant",
      "custom:名前",
    ),
    fc.stringMatching(/^custom:[A-Za-z0-9_]{1,20}$/),
  );
}

export function arbUsername(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.uuid(),
    fc.stringMatching(/^[A-Za-z0-9._@+-]{1,40}$/),
    fc.string({ unit: "grapheme-composite", minLength: 1, maxLength: 20 }),
  );
}

export function arbGroupName(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom("admins", "staff", "beta-testers", "Über"),
    fc.string({ unit: "grapheme-composite", minLength: 1, maxLength: 30 }),
  );
}

/** Dates between 2000 and 2100, whole milliseconds. */
export function arbDate(): fc.Arbitrary<Date> {
  return fc.date({
    min: new Date("2000-01-01T00:00:00.000Z"),
    max: new Date("2100-01-01T00:00:00.000Z"),
    noInvalidDate: true,
  });
}

export function arbUserPoolId(): fc.Arbitrary<string> {
  return fc.stringMatching(/^(us-east-1|eu-west-1|ap-northeast-1)_[0-9A-Za-z]{9}$/);
}

/** Any user a pool may hold: every status, enabled or not, with or without dates, groups and MFA. */
export function arbUser(): fc.Arbitrary<User> {
  return fc
    .record({
      username: arbUsername(),
      sub: fc.uuid(),
      attributes: fc.dictionary(arbAttributeName(), arbAttributeValue(), { maxKeys: 8 }),
      status: fc.constantFrom(...USER_STATUSES),
      enabled: fc.boolean(),
      mfaEnabled: fc.boolean(),
      createdAt: fc.option(arbDate(), { nil: undefined }),
      modifiedAt: fc.option(arbDate(), { nil: undefined }),
      groups: fc.uniqueArray(arbGroupName(), { maxLength: 4 }),
      legacySub: fc.option(fc.uuid(), { nil: undefined }),
    })
    .map(({ createdAt, modifiedAt, legacySub, attributes, ...fields }) =>
      makeUser({
        ...fields,
        // A stable id is a UUID (anything else is refused before it is stored, see stableUserId).
        attributes: Object.fromEntries([
          ...Object.entries(attributes).filter(([name]) => name !== LEGACY_SUB_ATTRIBUTE),
          ...(legacySub === undefined ? [] : [[LEGACY_SUB_ATTRIBUTE, legacySub]]),
        ]),
        ...(createdAt === undefined ? {} : { createdAt }),
        ...(modifiedAt === undefined ? {} : { modifiedAt }),
      }),
    );
}

export function arbBackupSource(): fc.Arbitrary<BackupSource> {
  return fc
    .record({
      kind: fc.constantFrom(...BACKUP_SOURCE_KINDS),
      userPoolId: fc.option(arbUserPoolId(), { nil: undefined }),
      trigger: fc.option(
        fc.constantFrom("PostConfirmation_ConfirmSignUp", "PostConfirmation_ConfirmForgotPassword"),
        {
          nil: undefined,
        },
      ),
    })
    .map(({ kind, userPoolId, trigger }) => ({
      kind,
      ...(userPoolId === undefined ? {} : { userPoolId }),
      ...(trigger === undefined ? {} : { trigger }),
    }));
}

export function arbBackupRecord(): fc.Arbitrary<BackupRecord> {
  return fc.record({
    version: fc.constant(1 as const),
    capturedAt: arbDate(),
    source: arbBackupSource(),
    user: arbUser(),
  });
}

export function arbGroup(): fc.Arbitrary<Group> {
  return fc
    .record({
      name: arbGroupName(),
      description: fc.option(arbAttributeValue(), { nil: undefined }),
      precedence: fc.option(fc.nat({ max: 2 ** 31 - 1 }), { nil: undefined }),
      roleArn: fc.option(fc.stringMatching(/^arn:aws:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_-]{1,64}$/), {
        nil: undefined,
      }),
    })
    .map(({ name, description, precedence, roleArn }) => ({
      name,
      ...(description === undefined ? {} : { description }),
      ...(precedence === undefined ? {} : { precedence }),
      ...(roleArn === undefined ? {} : { roleArn }),
    }));
}

/** A manifest that satisfies every rule: parts numbered in order, counts adding up, completedAt ≥ startedAt. */
export function arbSnapshotManifest(): fc.Arbitrary<SnapshotManifest> {
  const arbPart = fc.record({
    records: fc.integer({ min: 1, max: 50_000 }),
    bytes: fc.nat({ max: 64 * 1024 * 1024 }),
    sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
  });
  return fc
    .record({
      startedAt: arbDate(),
      durationMs: fc.nat({ max: 6 * 60 * 60 * 1000 }),
      userPoolId: arbUserPoolId(),
      groups: fc.uniqueArray(arbGroup(), { maxLength: 5, selector: (group) => group.name }),
      parts: fc.array(arbPart, { maxLength: 6 }),
    })
    .map(({ startedAt, durationMs, userPoolId, groups, parts }) => {
      const entries: SnapshotPartEntry[] = parts.map((part, index) => ({
        name: snapshotPartName(index + 1),
        ...part,
      }));
      return {
        version: 1 as const,
        snapshotId: snapshotIdFor(startedAt),
        userPoolId,
        startedAt,
        completedAt: new Date(startedAt.getTime() + durationMs),
        userCount: entries.reduce((sum, part) => sum + part.records, 0),
        groups,
        parts: entries,
      };
    });
}
