import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LifecycleError } from "../errors.js";
import { arbBackupRecord, arbUser } from "../testing/arbitraries.js";
import { aBackupRecord, editedAt, REMOVE } from "../testing/backup.js";
import { aUser } from "../testing/builders.js";
import { makeUser } from "../user/user.js";
import {
  type BackupRecord,
  fromUserType,
  parseBackupRecord,
  serializeBackupRecord,
  toUserType,
} from "./backup-record.js";
import { errorOf } from "../testing/errors.js";

const EMAIL = "alice.secret@example.com";

function aliceRecord(): BackupRecord {
  return {
    version: 1,
    capturedAt: new Date("2026-11-21T05:38:54.123Z"),
    source: {
      kind: "post-confirmation",
      userPoolId: "eu-west-1_AbCdEf123",
      trigger: "PostConfirmation_ConfirmSignUp",
    },
    user: makeUser({
      username: "alice",
      sub: "0f6a2c3e-1111-4222-8333-444455556666",
      attributes: { email_verified: "true", email: EMAIL, "custom:tenant": "acme" },
      createdAt: new Date("2026-01-02T03:04:05.006Z"),
      modifiedAt: new Date("2026-01-03T00:00:00.000Z"),
      groups: ["staff", "admins"],
    }),
  };
}

/** The record as written, parsed back into a plain value to be damaged by a test. */
function aliceWire(): unknown {
  return JSON.parse(serializeBackupRecord(aliceRecord()));
}

describe("serializeBackupRecord", () => {
  it("writes the documented v1 shape: UserType beside groups and the MFA flag, attributes sorted", () => {
    expect(serializeBackupRecord(aliceRecord())).toBe(
      '{"format":"cognito-user-lifecycle/backup","version":1,"capturedAt":"2026-11-21T05:38:54.123Z",' +
        '"source":{"kind":"post-confirmation","userPoolId":"eu-west-1_AbCdEf123","trigger":"PostConfirmation_ConfirmSignUp"},' +
        '"user":{"Username":"alice","Attributes":[{"Name":"custom:tenant","Value":"acme"},' +
        `{"Name":"email","Value":"${EMAIL}"},{"Name":"email_verified","Value":"true"},` +
        '{"Name":"sub","Value":"0f6a2c3e-1111-4222-8333-444455556666"}],' +
        '"UserCreateDate":"2026-01-02T03:04:05.006Z","UserLastModifiedDate":"2026-01-03T00:00:00.000Z",' +
        '"Enabled":true,"UserStatus":"CONFIRMED"},"groups":["admins","staff"],"mfaEnabled":false}',
    );
  });

  it("leaves out dates and source fields the record does not have", () => {
    const user = makeUser({ username: "bob", sub: "b0b" });
    const text = serializeBackupRecord({ ...aliceRecord(), source: { kind: "reconcile" }, user });
    const wire = JSON.parse(text);
    expect(wire.source).toEqual({ kind: "reconcile" });
    expect(Object.keys(wire.user)).toEqual(["Username", "Attributes", "Enabled", "UserStatus"]);
  });

  it("keeps a record on one line whatever its values hold", () => {
    const record = aBackupRecord({ user: aUser({ attributes: { name: "line one\nline two\r\n\u2028" } }) });
    expect(serializeBackupRecord(record)).not.toContain("\n");
  });

  it("refuses to write a record that would not read back, naming the field", () => {
    const noSub = {
      ...aliceRecord(),
      user: { ...aliceRecord().user, sub: "", attributes: { email: EMAIL } },
    };
    expect(errorOf(() => serializeBackupRecord(noSub))).toMatchObject({
      code: "BACKUP.MALFORMED",
      field: "user.Attributes[1].Value",
    });
    const badDate = { ...aliceRecord(), capturedAt: new Date(Number.NaN) };
    expect(errorOf(() => serializeBackupRecord(badDate))).toMatchObject({
      code: "BACKUP.MALFORMED",
      field: "capturedAt",
    });
    const longValue = aBackupRecord({ user: aUser({ attributes: { name: "x".repeat(2049) } }) });
    expect(errorOf(() => serializeBackupRecord(longValue)).field).toMatch(/^user\.Attributes\[\d\]\.Value$/);
  });

  it("gives the same text whatever order the attributes were set in", () => {
    fc.assert(
      fc.property(arbBackupRecord(), (record) => {
        const reversed = Object.fromEntries(Object.entries(record.user.attributes).reverse());
        const shuffled = { ...record, user: { ...record.user, attributes: reversed } };
        expect(serializeBackupRecord(shuffled)).toBe(serializeBackupRecord(record));
      }),
      { numRuns: 100 },
    );
  });
});

describe("parseBackupRecord", () => {
  it("reads back exactly what was written (property)", () => {
    fc.assert(
      fc.property(arbBackupRecord(), (record) => {
        expect(parseBackupRecord(serializeBackupRecord(record))).toEqual(record);
      }),
      { numRuns: 200 },
    );
  });

  it("accepts an already parsed value as well as text", () => {
    expect(parseBackupRecord(aliceWire())).toEqual(aliceRecord());
  });

  // Each case damages one value of a valid record; the error must name that value's JSON path.
  const damaged: [description: string, path: string, edit: unknown, field?: string][] = [
    ["an unknown format", "format", "something/else"],
    ["a missing format", "format", REMOVE],
    ["a version given as text", "version", "1"],
    ["a missing capture date", "capturedAt", REMOVE],
    ["a capture date that is not ISO 8601", "capturedAt", "21/11/2026"],
    ["a capture date on a day that does not exist", "capturedAt", "2026-02-30T00:00:00.000Z"],
    ["a capture date without offset", "capturedAt", "2026-01-30T00:00:00.000"],
    ["a capture date in epoch seconds (own records are ISO)", "capturedAt", 1_700_000_000],
    ["an unknown field", "comment", "hello"],
    ["an unknown source kind", "source.kind", "manual"],
    ["an empty user pool id", "source.userPoolId", ""],
    ["an unknown source field", "source.region", "eu-west-1"],
    ["a missing user", "user", REMOVE],
    ["an unknown status", "user.UserStatus", "ACTIVE"],
    ["a status holding the email", "user.UserStatus", EMAIL],
    ["a missing status", "user.UserStatus", REMOVE],
    ["Enabled as text", "user.Enabled", "true"],
    ["an empty username", "user.Username", ""],
    ["an attribute value that is a number", "user.Attributes[2].Value", 42],
    ["an attribute without a value", "user.Attributes[1].Value", REMOVE],
    ["an over-long attribute value", "user.Attributes[1].Value", `${EMAIL}${"x".repeat(2048)}`],
    ["an attribute that is not an object", "user.Attributes[0]", EMAIL],
    [
      "a duplicate attribute name",
      "user.Attributes[4]",
      { Name: "email", Value: EMAIL },
      "user.Attributes[4].Name",
    ],
    ["a user without sub", "user.Attributes[3]", REMOVE, "user.Attributes"],
    ["an empty sub", "user.Attributes[3].Value", ""],
    ["a creation date that is not a date", "user.UserCreateDate", EMAIL],
    ["a creation date in epoch milliseconds", "user.UserCreateDate", 1_700_000_000_123],
    ["a group that is not a string", "groups[1]", 7],
    ["an empty group name", "groups[0]", ""],
    ["missing groups", "groups", REMOVE],
    ["a missing MFA flag", "mfaEnabled", REMOVE],
  ];

  it.each(damaged)("rejects %s, naming the path and never the values", (_, path, edit, field = path) => {
    const error = errorOf(() => parseBackupRecord(JSON.stringify(editedAt(aliceWire(), path, edit))));
    expect(error).toBeInstanceOf(LifecycleError);
    expect(error.code).toBe("BACKUP.MALFORMED");
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.message).not.toContain(EMAIL);
    expect(JSON.stringify(error.details)).not.toContain(EMAIL);
  });

  it("prefixes the location to the path", () => {
    const wire = editedAt(aliceWire(), "user.UserStatus", "ACTIVE");
    const error = errorOf(() => parseBackupRecord(JSON.stringify(wire), "users/abc.json"));
    expect(error.field).toBe("users/abc.json: user.UserStatus");
    expect(error.message).toMatch(/^users\/abc\.json: user\.UserStatus: unknown user status/);
  });

  it("reports another version as unsupported rather than malformed", () => {
    const wire = { ...editedAt(aliceWire(), "version", 2), someFutureField: true };
    expect(errorOf(() => parseBackupRecord(wire, "users/abc.json"))).toMatchObject({
      code: "BACKUP.UNSUPPORTED_VERSION",
      field: "users/abc.json: version",
    });
  });

  it("rejects invalid JSON naming the location, without quoting the text", () => {
    const text = `{"user":{"Attributes":[{"Name":"email","Value":${EMAIL}}]}}`;
    // The runtime's own message quotes the text around the error: here, the start of the email.
    expect(() => JSON.parse(text)).toThrow(/alice/);
    const error = errorOf(() => parseBackupRecord(text, "users/abc.json"));
    expect(error).toMatchObject({ code: "BACKUP.MALFORMED", field: "users/abc.json" });
    expect(error.message).not.toContain("alice");
    expect(error.cause).toBeUndefined();
  });

  it("rejects JSON that is not an object", () => {
    expect(errorOf(() => parseBackupRecord("[]"))).toMatchObject({ code: "BACKUP.MALFORMED", field: "$" });
    expect(errorOf(() => parseBackupRecord(null, "users/x.json"))).toMatchObject({ field: "users/x.json" });
  });

  it("normalises the group list: sorted, without repeats", () => {
    const wire = editedAt(aliceWire(), "groups", ["staff", "admins", "staff"]);
    expect(parseBackupRecord(wire).user.groups).toEqual(["admins", "staff"]);
  });

  it("keeps an attribute named __proto__ as an attribute", () => {
    const wire = editedAt(aliceWire(), "user.Attributes[4]", { Name: "__proto__", Value: "x" });
    const user = parseBackupRecord(JSON.stringify(wire)).user;
    expect(Object.hasOwn(user.attributes, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(user.attributes)).toBe(Object.prototype);
  });
});

describe("toUserType / fromUserType", () => {
  it("round-trip a user, except groups and MFA which UserType does not carry (property)", () => {
    fc.assert(
      fc.property(arbUser(), (user) => {
        expect(fromUserType(toUserType(user))).toEqual({ ...user, groups: [], mfaEnabled: false });
      }),
      { numRuns: 200 },
    );
  });

  it("puts the user's sub among the attributes even when the attributes lack it", () => {
    const user = { ...aUser(), attributes: { email: EMAIL } };
    expect(toUserType(user).Attributes).toContainEqual({ Name: "sub", Value: user.sub });
  });

  it("reads epoch seconds, as Cognito sends dates and the AWS CLI v1 prints them", () => {
    const user = fromUserType({
      Username: "testuser",
      Attributes: [{ Name: "sub", Value: "eaad0219-2117-439f-8d46-4db20e59268f" }],
      Enabled: true,
      UserCreateDate: 1682955829.578,
      UserLastModifiedDate: 1689030181.63,
      UserStatus: "CONFIRMED",
    });
    expect(user.createdAt?.toISOString()).toBe("2023-05-01T15:43:49.578Z");
    expect(user.modifiedAt?.toISOString()).toBe("2023-07-10T23:03:01.630Z");
    expect(user).toMatchObject({
      sub: "eaad0219-2117-439f-8d46-4db20e59268f",
      groups: [],
      mfaEnabled: false,
    });
  });

  it("reads ISO dates with an offset and microseconds, as the AWS CLI v2 prints them", () => {
    const user = fromUserType({
      Username: "testuser",
      Attributes: [{ Name: "sub", Value: "s" }],
      Enabled: false,
      UserCreateDate: "2023-05-02T00:43:49.578123+09:00",
      UserLastModifiedDate: "2023-07-10T23:03:01+00:00",
      UserStatus: "RESET_REQUIRED",
    });
    expect(user.createdAt?.toISOString()).toBe("2023-05-01T15:43:49.578Z");
    expect(user.modifiedAt?.toISOString()).toBe("2023-07-10T23:03:01.000Z");
    expect(user).toMatchObject({ enabled: false, status: "RESET_REQUIRED" });
  });

  it("names errors under the given field", () => {
    expect(errorOf(() => fromUserType({ Username: "x", Attributes: [] }, "Users[4]"))).toMatchObject({
      code: "BACKUP.MALFORMED",
      field: "Users[4].Attributes",
    });
  });
});
