import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CharsetNotBundledError, getDecoder, getEncoder } from "./iconv-lite-stub.js";

/** The iconv-lite mysql2 itself resolves, as the reference the stub must agree with on CESU-8. */
interface IconvLite {
  getDecoder(
    encoding: string,
    options?: { stripBOM?: boolean },
  ): { write(b: Buffer): string; end(): unknown };
  getEncoder(encoding: string): { write(s: string): Buffer; end(): Buffer | undefined };
}
const iconv = createRequire(require.resolve("mysql2"))("iconv-lite") as IconvLite;

/** What mysql2's string parser does with a decoder: one write, then end, the trail appended if any. */
function decodeWith(decoder: { write(b: Buffer): string; end(): unknown }, bytes: Buffer): string {
  const text = decoder.write(bytes);
  const trail = decoder.end();
  return trail ? text + String(trail) : text;
}

const MESSAGE =
  "the cp1250 character set needs iconv-lite, which this function's bundle leaves out; " +
  "the accounts database connection uses utf8mb4";

describe("the iconv-lite stand-in of the mysql2 bundles", () => {
  it("refuses any charset but CESU-8, naming it, for decoding and encoding alike", () => {
    expect(() => getDecoder("cp1250")).toThrow(new CharsetNotBundledError("cp1250"));
    expect(() => getDecoder("cp1250")).toThrow(MESSAGE);
    expect(() => getEncoder("cp1250")).toThrow(MESSAGE);
    expect(() => getDecoder("sjis")).toThrow(/^the sjis character set needs iconv-lite, /);
    // mysql2 asks for `undefined` when a server reports a collation it has no name for; iconv-lite throws too.
    expect(() => getDecoder(undefined as unknown as string)).toThrow(/^the undefined character set /);
  });

  it("gives the error a code and the charset, for logs and callers", () => {
    const error = (() => {
      try {
        getDecoder("koi8r");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(CharsetNotBundledError);
    expect(error).toMatchObject({
      name: "CharsetNotBundledError",
      code: "ERR_CHARSET_NOT_BUNDLED",
      charset: "koi8r",
    });
  });

  it("accepts CESU-8 under iconv-lite's other spellings of it", () => {
    for (const name of ["cesu8", "CESU-8", "cesu_8"])
      expect(decodeWith(getDecoder(name), Buffer.from("ok"))).toBe("ok");
  });

  it("decodes a server version, a supplementary character as CESU-8 writes it, and C0 80 as U+0000", () => {
    const decoder = getDecoder("cesu8");
    expect(decodeWith(decoder, Buffer.from("10.11.18-MariaDB-0+deb12u1"))).toBe("10.11.18-MariaDB-0+deb12u1");
    expect(decodeWith(decoder, Buffer.from("eda0bdedb2a9", "hex"))).toBe("💩");
    expect(decodeWith(decoder, Buffer.from("c080", "hex"))).toBe("\u0000");
    expect(decodeWith(decoder, Buffer.from("Zażółć"))).toBe("Zażółć");
  });

  it("marks broken input with U+FFFD and starts the next value afresh (mysql2 reuses a decoder)", () => {
    const decoder = getDecoder("cesu8");
    expect(decodeWith(decoder, Buffer.from("61e282", "hex"))).toBe("a\ufffd");
    expect(decodeWith(decoder, Buffer.from("62", "hex"))).toBe("b");
    expect(decodeWith(decoder, Buffer.from("f09f92a9", "hex"))).toBe("\ufffd".repeat(4));
    expect(decodeWith(decoder, Buffer.from("c1bf", "hex"))).toBe("\ufffd");
  });

  it("decodes any bytes as iconv-lite does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const input = Buffer.from(bytes);
        const reference = iconv.getDecoder("cesu8", { stripBOM: false });
        const text = reference.write(input);
        // iconv-lite's end() gives "0\ufffd" after a cut-short sequence (a number added to a string); the
        // character meant is U+FFFD alone.
        const expected = reference.end() ? `${text}\ufffd` : text;
        expect(decodeWith(getDecoder("cesu8"), input)).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it("encodes any UTF-16 string, lone surrogates included, as iconv-lite does", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 32 }), (units) => {
        const text = String.fromCharCode(...units);
        const encoder = getEncoder("cesu8");
        expect(encoder.write(text)).toEqual(iconv.getEncoder("cesu8").write(text));
        expect(encoder.end()).toBeUndefined();
      }),
      { numRuns: 2_000 },
    );
  });
});
