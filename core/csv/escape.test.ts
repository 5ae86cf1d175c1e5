import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { escapeCsvField, formatCsvRow, parseCsv } from "./escape.js";

function malformed(text: string): ValidationError {
  try {
    parseCsv(text);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("parseCsv accepted the text");
}

describe("escapeCsvField", () => {
  it("leaves ordinary values as they are, unquoted", () => {
    expect(escapeCsvField("Jane Roe")).toBe("Jane Roe");
    expect(escapeCsvField("")).toBe("");
    expect(escapeCsvField("Zoë 😀\tx")).toBe("Zoë 😀\tx");
  });

  it("puts a backslash before each comma, as Cognito's guide asks", () => {
    expect(escapeCsvField("100 Main Street, Anytown, WA")).toBe("100 Main Street\\, Anytown\\, WA");
  });

  it("escapes backslashes, double quotes and line breaks so they read back exactly", () => {
    expect(escapeCsvField('a\\b"c\r\nd')).toBe('a\\\\b\\"c\\\r\\\nd');
  });

  it("escapes U+FEFF at the start of a value, so a first field never reads as a byte order mark", () => {
    expect(escapeCsvField("\uFEFFx")).toBe("\\\uFEFFx");
    expect(parseCsv(formatCsvRow(["\uFEFFx", "y"]))).toEqual([["\uFEFFx", "y"]]);
  });
});

describe("formatCsvRow", () => {
  it("joins escaped fields with commas and adds no line terminator", () => {
    expect(formatCsvRow(["jane", "a,b", "", "true"])).toBe("jane,a\\,b,,true");
  });

  it("refuses a row without fields", () => {
    expect(() => formatCsvRow([])).toThrow(
      expect.objectContaining({ code: "CSV.MALFORMED", field: "fields" }),
    );
  });
});

describe("parseCsv", () => {
  it("reads records ended by LF or CRLF, without an empty record after the last terminator", () => {
    expect(parseCsv("a,b\r\nc,d\n")).toEqual([
      ["a", "b"],
      ["c", "d"],
    ]);
    expect(parseCsv("a,b")).toEqual([["a", "b"]]);
  });

  it("reads an escaped comma as part of the value", () => {
    expect(parseCsv("jane,100 Main Street\\, Anytown,true\n")).toEqual([
      ["jane", "100 Main Street, Anytown", "true"],
    ]);
  });

  it("keeps empty fields, and reads the empty text as one empty field (RFC 4180's record grammar)", () => {
    expect(parseCsv(",,\n")).toEqual([["", "", ""]]);
    expect(parseCsv("")).toEqual([[""]]);
    expect(parseCsv("a\n\nb\n")).toEqual([["a"], [""], ["b"]]);
  });

  it("refuses a byte order mark", () => {
    const error = malformed("\uFEFFcognito:username\n");
    expect(error.code).toBe("CSV.MALFORMED");
    expect(error.field).toBe("line 1");
  });

  it("refuses an unescaped double quote and names the line, not the content", () => {
    const error = malformed('a,b\nsecret-value,"Anytown, WA"\n');
    expect(error.code).toBe("CSV.MALFORMED");
    expect(error.field).toBe("line 2");
    expect(error.message).not.toContain("secret-value");
    expect(error.message).not.toContain("Anytown");
  });

  it("refuses a backslash at the end of the text", () => {
    expect(malformed("a\nb\\").field).toBe("line 2");
  });

  it("refuses a backslash before a character that is never escaped", () => {
    expect(malformed("C:\\path").field).toBe("line 1");
  });

  it("refuses a carriage return that does not end a line", () => {
    expect(malformed("a\rb\n").field).toBe("line 1");
  });

  it("counts escaped line breaks when it names a line", () => {
    expect(malformed('a\\\nb\nc"\n').field).toBe("line 3");
  });
});

// Characters that break naive CSV code, mixed with any code point (astral ones included).
const hostileCharacter = fc.oneof(
  fc.constantFrom(",", '"', "\\", "\r", "\n", "\r\n", "\t", " ", "😀", "\u2028", "\uFEFF", "\\,", '""'),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
// At least 2048 units: the longest attribute value Cognito stores (see map-user.ts). The codec has no limit.
const hostileString = fc.string({ unit: hostileCharacter, maxLength: 2048 });
const hostileRow = fc.array(hostileString, { minLength: 1, maxLength: 8 });

describe("round trip", () => {
  it("parseCsv(formatCsvRow(fields)) gives back exactly [fields]", () => {
    fc.assert(
      fc.property(hostileRow, (fields) => {
        expect(parseCsv(formatCsvRow(fields))).toEqual([fields]);
      }),
      { numRuns: 300 },
    );
  });

  it("a file of rows, each ended by LF, gives back the rows", () => {
    fc.assert(
      fc.property(fc.array(hostileRow, { minLength: 1, maxLength: 6 }), (rows) => {
        const text = rows.map((row) => `${formatCsvRow(row)}\n`).join("");
        expect(parseCsv(text)).toEqual(rows);
      }),
      { numRuns: 150 },
    );
  });
});
