/**
 * Stands in for `iconv-lite` in the Lambda bundles that carry mysql2 (`scripts/build.ts` aliases it there).
 * iconv-lite and its code tables are about 490 KB of a bundle whose database connection only ever needs UTF-8.
 *
 * mysql2 (3.24.5) calls iconv-lite from one place, `lib/parsers/string.js`, and only for an encoding Node's
 * Buffer does not know (`Buffer.isEncoding` is checked first). It calls `getDecoder` and `getEncoder`, nothing
 * else. The only such encoding a utf8mb4 connection meets is CESU-8: mysql2 decodes the server version of
 * every handshake and an auth-switch plugin name as `cesu8`, and maps the utf8mb3 collations (a utf8mb3
 * server default or column) to it. CESU-8 is implemented here, as iconv-lite does it. Every other charset
 * (cp1250, sjis, gbk, …) fails with an error naming it, never a wrong string.
 */

/** A decoder as mysql2 uses it: `write` a whole value, then `end` (mysql2 keeps the decoder for the next). */
export interface StringDecoderLike {
  write(buffer: Buffer): string;
  end(): string | undefined;
}

export interface StringEncoderLike {
  write(text: string): Buffer;
  end(): Buffer | undefined;
}

/** A charset the bundle cannot convert: the code reads like Node's own `ERR_UNKNOWN_ENCODING`. */
export class CharsetNotBundledError extends Error {
  readonly code = "ERR_CHARSET_NOT_BUNDLED";

  constructor(readonly charset: string) {
    super(
      `the ${charset} character set needs iconv-lite, which this function's bundle leaves out; ` +
        "the accounts database connection uses utf8mb4",
    );
    this.name = "CharsetNotBundledError";
  }
}

const REPLACEMENT = "\ufffd";

/** iconv-lite's spelling rule for encoding names: "CESU-8", "cesu_8" and "cesu8" are one encoding. */
function canonical(encoding: unknown): string {
  return String(encoding)
    .toLowerCase()
    .replace(/:\d{4}$|[^0-9a-z]/g, "");
}

/**
 * CESU-8 is UTF-8 in which a character above U+FFFF is written as its two UTF-16 surrogates, three bytes each;
 * Node's UTF-8 decoder turns those into U+FFFD, hence a decoder of its own. It decodes sequences of one to three
 * bytes into UTF-16 code units (a surrogate pair comes out as the character), accepts C0 80 for U+0000 (Modified
 * UTF-8, as iconv-lite does) and gives U+FFFD for any other overlong, broken or four-byte sequence.
 *
 * Unlike iconv-lite's, `end` resets the decoder (mysql2 reuses it for the next value) and a leading U+FEFF is
 * kept: iconv-lite strips it from the first string its cached decoder ever sees, and from no other.
 */
class Cesu8Decoder implements StringDecoderLike {
  private codePoint = 0;
  private pending = 0;
  private length = 0;

  write(buffer: Buffer): string {
    let text = "";
    for (const byte of buffer) {
      if ((byte & 0xc0) === 0x80) {
        if (this.pending === 0) {
          text += REPLACEMENT; // A continuation byte nothing announced.
          continue;
        }
        this.codePoint = (this.codePoint << 6) | (byte & 0x3f);
        this.length++;
        if (--this.pending > 0) continue;
        const overlong =
          (this.length === 2 && this.codePoint > 0 && this.codePoint < 0x80) ||
          (this.length === 3 && this.codePoint < 0x800);
        text += overlong ? REPLACEMENT : String.fromCharCode(this.codePoint);
        continue;
      }
      if (this.pending > 0) {
        text += REPLACEMENT; // The sequence before this lead byte was cut short.
        this.pending = 0;
      }
      if (byte < 0x80) {
        text += String.fromCharCode(byte);
      } else if (byte < 0xe0) {
        this.start(byte & 0x1f, 1);
      } else if (byte < 0xf0) {
        this.start(byte & 0x0f, 2);
      } else {
        text += REPLACEMENT; // Four-byte sequences do not exist in CESU-8.
      }
    }
    return text;
  }

  end(): string | undefined {
    const truncated = this.pending > 0;
    this.pending = 0;
    return truncated ? REPLACEMENT : undefined;
  }

  private start(bits: number, continuations: number): void {
    this.codePoint = bits;
    this.pending = continuations;
    this.length = 1;
  }
}

/** UTF-16 code units to CESU-8: a surrogate is encoded on its own, like any other unit of U+0800 and above. */
class Cesu8Encoder implements StringEncoderLike {
  write(text: string): Buffer {
    const bytes = Buffer.alloc(text.length * 3);
    let offset = 0;
    for (let index = 0; index < text.length; index++) {
      const unit = text.charCodeAt(index);
      if (unit < 0x80) {
        bytes[offset++] = unit;
      } else if (unit < 0x800) {
        bytes[offset++] = 0xc0 | (unit >>> 6);
        bytes[offset++] = 0x80 | (unit & 0x3f);
      } else {
        bytes[offset++] = 0xe0 | (unit >>> 12);
        bytes[offset++] = 0x80 | ((unit >>> 6) & 0x3f);
        bytes[offset++] = 0x80 | (unit & 0x3f);
      }
    }
    return bytes.subarray(0, offset);
  }

  end(): undefined {
    return undefined;
  }
}

/** iconv-lite's `getDecoder`, for CESU-8 only. */
export function getDecoder(encoding: string, _options?: unknown): StringDecoderLike {
  if (canonical(encoding) === "cesu8") return new Cesu8Decoder();
  throw new CharsetNotBundledError(String(encoding));
}

/** iconv-lite's `getEncoder`, for CESU-8 only. */
export function getEncoder(encoding: string, _options?: unknown): StringEncoderLike {
  if (canonical(encoding) === "cesu8") return new Cesu8Encoder();
  throw new CharsetNotBundledError(String(encoding));
}
