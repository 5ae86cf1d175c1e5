import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arbUser } from "../testing/arbitraries.js";
import { aUser } from "../testing/builders.js";
import { A_POOL_CSV_HEADER, anImportHeader } from "../testing/csv.js";
import type { User, UserStatus } from "../user/user.js";
import { parseCsv } from "./escape.js";
import { type MfaConfiguration, parseImportHeader } from "./import-header.js";
import { importRowOf, type MappedUser, mapUserToRow, type SkipReason } from "./map-user.js";

const header = anImportHeader();

function rowOf(mapped: MappedUser): Record<string, string> {
  if (mapped.kind !== "row") throw new Error(`expected a row, got a skip: ${mapped.skipped.detail}`);
  return Object.fromEntries(mapped.fields.map((value, i) => [header.columns[i], value]));
}

function skipOf(mapped: MappedUser): { reason: SkipReason; detail: string; username: string } {
  if (mapped.kind !== "skip") throw new Error("expected a skip, got a row");
  return mapped.skipped;
}

describe("mapUserToRow — a valid user", () => {
  it("fills every header column, in header order, with the user's values", () => {
    const user = aUser({
      username: "jane",
      sub: "11111111-1111-4111-8111-111111111111",
      mfaEnabled: true,
      attributes: { email: "jane@example.com", email_verified: "true", given_name: "Jane", locale: "en" },
    });
    const mapped = mapUserToRow(header, user);
    expect(mapped.kind).toBe("row");
    if (mapped.kind !== "row") return;
    expect(mapped.fields).toHaveLength(A_POOL_CSV_HEADER.length);
    expect(rowOf(mapped)).toMatchObject({
      "cognito:username": "jane",
      "cognito:mfa_enabled": "true",
      "custom:legacy_sub": "11111111-1111-4111-8111-111111111111",
      email: "jane@example.com",
      email_verified: "true",
      phone_number_verified: "false",
      given_name: "Jane",
      locale: "en",
      name: "",
    });
    expect(parseCsv(mapped.line)).toEqual([mapped.fields]);
  });

  it("never writes sub: Cognito assigns a new one", () => {
    const mapped = mapUserToRow(header, aUser({ sub: "22222222-2222-4222-8222-222222222222" }));
    expect(Object.keys(rowOf(mapped))).not.toContain("sub");
  });

  it("writes false for a user without MFA", () => {
    expect(rowOf(mapUserToRow(header, aUser({ mfaEnabled: false })))["cognito:mfa_enabled"]).toBe("false");
  });

  it.each<UserStatus>(["CONFIRMED", "RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"])(
    "imports a %s user",
    (status) => {
      expect(mapUserToRow(header, aUser({ status })).kind).toBe("row");
    },
  );

  it("keeps the first sub of a user restored before (custom:legacy_sub wins over sub)", () => {
    const user = aUser({
      sub: "33333333-3333-4333-8333-333333333333",
      attributes: { "custom:legacy_sub": "00000000-aaaa-4aaa-8aaa-000000000001" },
    });
    expect(rowOf(mapUserToRow(header, user))["custom:legacy_sub"]).toBe(
      "00000000-aaaa-4aaa-8aaa-000000000001",
    );
  });

  it("escapes a comma in a value with a backslash", () => {
    const mapped = mapUserToRow(header, aUser({ attributes: { address: "100 Main Street, Anytown" } }));
    expect(mapped.kind === "row" && mapped.line).toContain("100 Main Street\\, Anytown");
  });

  it("trims values, as Cognito would", () => {
    expect(rowOf(mapUserToRow(header, aUser({ attributes: { given_name: "  Jane\t" } }))).given_name).toBe(
      "Jane",
    );
  });

  it("writes booleans in lower case", () => {
    const user = aUser({ attributes: { email_verified: "TRUE" } });
    expect(rowOf(mapUserToRow(header, user)).email_verified).toBe("true");
  });

  it("writes a verified flag that is true for an empty value as false, and uses the other contact", () => {
    const user = aUser({
      attributes: {
        email: "",
        email_verified: "true",
        phone_number: "+12065551212",
        phone_number_verified: "true",
      },
    });
    const row = rowOf(mapUserToRow(header, user));
    expect(row.email_verified).toBe("false");
    expect(row.phone_number_verified).toBe("true");
  });

  it("keeps an unverified but valid phone number next to a verified email", () => {
    const user = aUser({ attributes: { phone_number: "+12065551212", phone_number_verified: "false" } });
    const row = rowOf(mapUserToRow(header, user));
    expect(row.phone_number).toBe("+12065551212");
    expect(row.phone_number_verified).toBe("false");
  });

  it("rewrites a YYYY-MM-DD birthdate as mm/dd/yyyy and keeps mm/dd/yyyy", () => {
    expect(rowOf(mapUserToRow(header, aUser({ attributes: { birthdate: "1985-02-01" } }))).birthdate).toBe(
      "02/01/1985",
    );
    expect(rowOf(mapUserToRow(header, aUser({ attributes: { birthdate: "02/01/1985" } }))).birthdate).toBe(
      "02/01/1985",
    );
  });

  it("keeps updated_at in epoch seconds", () => {
    expect(rowOf(mapUserToRow(header, aUser({ attributes: { updated_at: "1471453471" } }))).updated_at).toBe(
      "1471453471",
    );
  });

  it("names the attributes the header has no column for, but not sub while custom:legacy_sub carries it", () => {
    const mapped = mapUserToRow(
      header,
      aUser({ attributes: { "custom:tenant": "acme", "custom:plan": "pro" } }),
    );
    expect(mapped.kind === "row" && mapped.droppedAttributes.sort()).toEqual([
      "custom:plan",
      "custom:tenant",
    ]);
  });

  it("counts sub and custom:legacy_sub as dropped when the header has no custom:legacy_sub column", () => {
    const noLegacy = parseImportHeader(
      A_POOL_CSV_HEADER.filter((name) => name !== "custom:legacy_sub"),
      { requireLegacySub: false },
    );
    const user = aUser({ attributes: { "custom:legacy_sub": "00000000-aaaa-4aaa-8aaa-000000000001" } });
    const mapped = mapUserToRow(noLegacy, user);
    expect(mapped.kind === "row" && mapped.droppedAttributes.sort()).toEqual(["custom:legacy_sub", "sub"]);
  });
});

describe("mapUserToRow — pool settings", () => {
  it("writes true for every user when the pool requires MFA, false when MFA is off", () => {
    const on = anImportHeader({ mfaConfiguration: "ON" });
    const off = anImportHeader({ mfaConfiguration: "OFF" });
    const mapRow = (h: typeof on, user: User) => {
      const mapped = mapUserToRow(h, user);
      if (mapped.kind !== "row") throw new Error("expected a row");
      return mapped.fields[h.columns.indexOf("cognito:mfa_enabled")];
    };
    expect(mapRow(on, aUser({ mfaEnabled: false }))).toBe("true");
    expect(mapRow(off, aUser({ mfaEnabled: true }))).toBe("false");
  });

  it("requires the one auto-verified contact when the pool has only one", () => {
    const phoneOnly = anImportHeader({ autoVerifiedAttributes: ["phone_number"] });
    const emailVerifiedOnly = aUser({ attributes: { email_verified: "true" } });
    expect(skipOf(mapUserToRow(phoneOnly, emailVerifiedOnly)).reason).toBe("NO_VERIFIED_CONTACT");
    const phoneVerified = aUser({
      attributes: { phone_number: "+12065551212", phone_number_verified: "true" },
    });
    expect(mapUserToRow(phoneOnly, phoneVerified).kind).toBe("row");
  });

  it("skips a user without a value for an attribute the pool requires", () => {
    const requiresName = anImportHeader({ requiredAttributes: ["given_name"] });
    const skipped = skipOf(mapUserToRow(requiresName, aUser()));
    expect(skipped.reason).toBe("MISSING_REQUIRED_ATTRIBUTE");
    expect(skipped.detail).toContain("given_name");
    expect(mapUserToRow(requiresName, aUser({ attributes: { given_name: "Jane" } })).kind).toBe("row");
  });
});

describe("mapUserToRow — users that cannot be imported", () => {
  const cases: [string, User, SkipReason, string][] = [
    ["an unconfirmed user", aUser({ status: "UNCONFIRMED" }), "UNCONFIRMED", "UNCONFIRMED"],
    ["a federated user", aUser({ status: "EXTERNAL_PROVIDER" }), "EXTERNAL_PROVIDER", "EXTERNAL_PROVIDER"],
    [
      "a user with linked identities",
      aUser({ attributes: { identities: '[{"providerName":"Google","userId":"1"}]' } }),
      "EXTERNAL_PROVIDER",
      "identities",
    ],
    ["an archived user", aUser({ status: "ARCHIVED" }), "STATUS_NOT_IMPORTABLE", "ARCHIVED"],
    ["a compromised user", aUser({ status: "COMPROMISED" }), "STATUS_NOT_IMPORTABLE", "COMPROMISED"],
    ["a user of unknown status", aUser({ status: "UNKNOWN" }), "STATUS_NOT_IMPORTABLE", "UNKNOWN"],
    ["an empty username", aUser({ username: "" }), "INVALID_USERNAME", "cognito:username"],
    ["a username with a space", aUser({ username: "jane roe" }), "INVALID_USERNAME", "cognito:username"],
    ["a username with a tab", aUser({ username: "jane\troe" }), "INVALID_USERNAME", "cognito:username"],
    [
      "a username with a line break",
      aUser({ username: "jane\nroe" }),
      "INVALID_USERNAME",
      "cognito:username",
    ],
    ["a username with a quote", aUser({ username: 'jane"roe' }), "INVALID_USERNAME", "cognito:username"],
    [
      "no verified contact",
      aUser({ attributes: { email_verified: "false", phone_number_verified: "false" } }),
      "NO_VERIFIED_CONTACT",
      "email_verified or phone_number_verified",
    ],
    [
      "a verified email flag without an email",
      aUser({ attributes: { email: "", email_verified: "true" } }),
      "NO_VERIFIED_CONTACT",
      "email_verified",
    ],
    [
      "a phone number outside E.164, even with a verified email",
      aUser({ attributes: { phone_number: "(206) 555-1212" } }),
      "INVALID_PHONE_NUMBER",
      "phone_number",
    ],
    [
      "a phone number starting with +0",
      aUser({ attributes: { phone_number: "+0123456" } }),
      "INVALID_PHONE_NUMBER",
      "phone_number",
    ],
    [
      "a phone number over 15 digits",
      aUser({ attributes: { phone_number: "+1234567890123456" } }),
      "INVALID_PHONE_NUMBER",
      "phone_number",
    ],
    [
      "a verified flag that is not a boolean",
      aUser({ attributes: { email_verified: "yes" } }),
      "INVALID_VALUE",
      "email_verified",
    ],
    [
      "a value with a line break",
      aUser({ attributes: { address: "1 Main St\nAnytown" } }),
      "INVALID_VALUE",
      "address",
    ],
    [
      "a value with a double quote",
      aUser({ attributes: { nickname: 'The "Rock"' } }),
      "INVALID_VALUE",
      "nickname",
    ],
    ["a value with a backslash", aUser({ attributes: { website: "a\\b" } }), "INVALID_VALUE", "website"],
    ["a value over 2048 bytes", aUser({ attributes: { name: "é".repeat(1025) } }), "INVALID_VALUE", "name"],
    [
      "updated_at not in epoch seconds",
      aUser({ attributes: { updated_at: "2026-01-01T00:00:00Z" } }),
      "INVALID_VALUE",
      "updated_at",
    ],
    [
      "a birthdate in another format",
      aUser({ attributes: { birthdate: "1 Feb 1985" } }),
      "INVALID_VALUE",
      "birthdate",
    ],
  ];

  it.each(cases)("skips %s", (_, user, reason, named) => {
    const skipped = skipOf(mapUserToRow(header, user));
    expect(skipped.reason).toBe(reason);
    expect(skipped.detail).toContain(named);
    expect(skipped.username).toBe(user.username);
  });

  it("skips a row over 16,000 characters", () => {
    const columns = Array.from({ length: 9 }, (_, i) => `custom:notes${i}`);
    const wide = anImportHeader({ extraColumns: columns });
    const attributes = Object.fromEntries(columns.map((column) => [column, "x".repeat(2000)]));
    const skipped = skipOf(mapUserToRow(wide, aUser({ attributes })));
    expect(skipped.reason).toBe("ROW_TOO_LONG");
    const fewer = Object.fromEntries(columns.slice(0, 7).map((column) => [column, "x".repeat(2000)]));
    expect(mapUserToRow(wide, aUser({ attributes: fewer })).kind).toBe("row");
  });

  it("names the attribute in the detail, never its value", () => {
    const email = "private.person@example.com";
    const phone = "206-555-0100";
    const skipped = skipOf(
      mapUserToRow(header, aUser({ attributes: { email, email_verified: "true", phone_number: phone } })),
    );
    expect(skipped.detail).toContain("phone_number");
    expect(skipped.detail).not.toContain(phone);
    expect(skipped.detail).not.toContain(email);
    const quoted = skipOf(mapUserToRow(header, aUser({ attributes: { nickname: 'Secret "Nick"' } })));
    expect(quoted.detail).not.toContain("Secret");
  });
});

describe("importRowOf — the row as written into files", () => {
  it("is mapUserToRow's line with its terminator, or the same skip", () => {
    fc.assert(
      fc.property(
        arbUser(),
        fc.constantFrom("OPTIONAL", "ON", "OFF") as fc.Arbitrary<MfaConfiguration>,
        (user, mfa) => {
          const poolHeader = anImportHeader({ mfaConfiguration: mfa });
          const mapped = mapUserToRow(poolHeader, user);
          const row = importRowOf(poolHeader, user);
          if (mapped.kind === "skip") {
            expect(row).toEqual(mapped);
            return;
          }
          const text = `${mapped.line}\n`;
          expect(row).toEqual({ kind: "row", text, bytes: Buffer.byteLength(text, "utf8") });
          // Asked again, also through another header object with the same content (one compiled header).
          expect(importRowOf(poolHeader, user)).toEqual(row);
          expect(importRowOf(anImportHeader({ mfaConfiguration: mfa }), user)).toEqual(row);
        },
      ),
    );
  });

  it("works the row out again for a header with other columns or pool settings", () => {
    const user = aUser({ mfaEnabled: false, attributes: { "custom:tenant": "acme" } });
    const optional = importRowOf(header, user);
    const forced = importRowOf(anImportHeader({ mfaConfiguration: "ON" }), user);
    const wider = importRowOf(anImportHeader({ extraColumns: ["custom:tenant"] }), user);
    expect(optional.kind === "row" && optional.text).toContain(",false,");
    expect(forced.kind === "row" && forced.text).not.toContain(",false,false");
    expect(forced).not.toEqual(optional);
    expect(wider.kind === "row" && wider.text).toMatch(/,acme\n$/);
  });
});
