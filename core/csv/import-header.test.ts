import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { A_POOL_CSV_HEADER } from "../testing/csv.js";
import { type ImportHeaderOptions, parseImportHeader } from "./import-header.js";

function headerError(csvHeader: readonly string[], options?: ImportHeaderOptions): ValidationError {
  try {
    parseImportHeader(csvHeader, options);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("parseImportHeader accepted the header");
}

const without = (...names: string[]): string[] => A_POOL_CSV_HEADER.filter((name) => !names.includes(name));

describe("parseImportHeader", () => {
  it("keeps the pool's columns in GetCSVHeader's order, with permissive pool settings by default", () => {
    const header = parseImportHeader(A_POOL_CSV_HEADER);
    expect(header.columns).toEqual(A_POOL_CSV_HEADER);
    expect(header.verifiedContacts).toEqual(["email", "phone_number"]);
    expect(header.requiredAttributes).toEqual([]);
    expect(header.mfaConfiguration).toBe("OPTIONAL");
  });

  it("copies the columns, so a later change to the input does not reach the header", () => {
    const input = [...A_POOL_CSV_HEADER];
    const header = parseImportHeader(input);
    input.pop();
    expect(header.columns).toEqual(A_POOL_CSV_HEADER);
  });

  it("refuses an empty header", () => {
    const error = headerError([]);
    expect(error.code).toBe("CSV.INVALID_HEADER");
    expect(error.field).toBe("csvHeader");
  });

  it("refuses a duplicated column and names its position", () => {
    const error = headerError([...A_POOL_CSV_HEADER, "email"]);
    expect(error.code).toBe("CSV.INVALID_HEADER");
    expect(error.field).toBe(`csvHeader[${A_POOL_CSV_HEADER.length}]`);
  });

  it.each([[""], ["given name"], ["a,b"], ['a"b'], ["a\\b"]])("refuses the column name %j", (name) => {
    expect(headerError([...A_POOL_CSV_HEADER, name]).code).toBe("CSV.INVALID_HEADER");
  });

  it("refuses a sub column: Cognito assigns subs", () => {
    expect(headerError([...A_POOL_CSV_HEADER, "sub"]).message).toContain("sub");
  });

  it.each([["cognito:username"], ["cognito:mfa_enabled"]])("refuses a header without %s", (column) => {
    const error = headerError(without(column));
    expect(error.code).toBe("CSV.INVALID_HEADER");
    expect(error.message).toContain(column);
  });

  it("refuses a header with neither verified contact column", () => {
    const error = headerError(without("email_verified", "phone_number_verified"));
    expect(error.code).toBe("CSV.INVALID_HEADER");
    expect(error.message).toContain("email_verified");
  });

  it("refuses a header whose verified flags lack their value columns", () => {
    expect(headerError(without("email", "phone_number")).code).toBe("CSV.INVALID_HEADER");
  });

  it("accepts a header with only one verifiable contact and counts only that one", () => {
    const header = parseImportHeader(without("phone_number", "phone_number_verified"));
    expect(header.verifiedContacts).toEqual(["email"]);
  });

  it("requires custom:legacy_sub by default and says the pool needs the custom attribute legacy_sub", () => {
    const error = headerError(without("custom:legacy_sub"));
    expect(error.code).toBe("CSV.INVALID_HEADER");
    expect(error.field).toBe("csvHeader");
    expect(error.message).toMatch(/custom attribute legacy_sub/);
  });

  it("accepts a header without custom:legacy_sub when it is not required", () => {
    const header = parseImportHeader(without("custom:legacy_sub"), { requireLegacySub: false });
    expect(header.columns).not.toContain("custom:legacy_sub");
  });

  it("narrows the verified contacts to the pool's auto-verified attributes", () => {
    const header = parseImportHeader(A_POOL_CSV_HEADER, { autoVerifiedAttributes: ["phone_number"] });
    expect(header.verifiedContacts).toEqual(["phone_number"]);
  });

  it("refuses a pool without auto-verified attributes: Cognito would not start the job", () => {
    const error = headerError(A_POOL_CSV_HEADER, { autoVerifiedAttributes: [] });
    expect(error.code).toBe("CSV.INVALID_HEADER");
    expect(error.field).toBe("options.autoVerifiedAttributes");
  });

  it("refuses an auto-verified attribute the header cannot carry", () => {
    const error = headerError(without("phone_number_verified"), { autoVerifiedAttributes: ["phone_number"] });
    expect(error.field).toBe("options.autoVerifiedAttributes[0]");
  });

  it("keeps the pool's required attributes and refuses one that is not a column", () => {
    expect(
      parseImportHeader(A_POOL_CSV_HEADER, { requiredAttributes: ["email"] }).requiredAttributes,
    ).toEqual(["email"]);
    expect(headerError(A_POOL_CSV_HEADER, { requiredAttributes: ["custom:tenant"] }).field).toBe(
      "options.requiredAttributes[0]",
    );
  });

  it("keeps the pool's MFA setting", () => {
    expect(parseImportHeader(A_POOL_CSV_HEADER, { mfaConfiguration: "ON" }).mfaConfiguration).toBe("ON");
  });
});
