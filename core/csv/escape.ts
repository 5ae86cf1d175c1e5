/**
 * The text format of a Cognito user import file.
 *
 * It is not RFC 4180. Amazon Cognito's guide ("Creating the user import .csv file",
 * https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html)
 * says: "Attribute values that are strings should not be in quotation marks" and "If an attribute value
 * contains a comma, you must put a backslash (\) before the comma", and the file is "UTF-8 format without byte
 * order mark". AWS's own import writer (aws-solutions/cognito-user-profiles-export-reference-architecture,
 * source/workflow-import/import-users.js) does exactly that: `value.replace(/,/g, "\\,")`, no quotes.
 *
 * So the format here is: fields separated by commas, records ended by LF, nothing quoted, and a backslash
 * makes the next character literal. Only `\,` is documented; this codec also escapes the backslash itself,
 * the double quote, CR, LF and a leading U+FEFF so that every string survives a round trip (the parser needs that to read any
 * file back unambiguously). Cognito's reading of those other escapes is not documented, which is why the
 * user mapping (map-user.ts) never lets a value containing them into a file meant for Cognito: in practice
 * the only escape Cognito ever sees from this project is the documented `\,`.
 */
import { ValidationError } from "../errors.js";

const BACKSLASH = "\\";
const BOM = "\uFEFF";

/** Characters that take a backslash in front of them inside a field. */
const ESCAPED_CHARACTERS = new Set([",", BACKSLASH, '"', "\r", "\n", BOM]);
const NEEDS_ESCAPE = /[\\,"\r\n]/g;
const HAS_ESCAPE = /[\\,"\r\n]/;

/**
 * Escapes one field value: `,` becomes `\,` (the documented rule); `\`, `"`, CR and LF, and U+FEFF at the start
 * of the value, are also preceded by a backslash so the value can be parsed back exactly. Never quotes. Total:
 * accepts every string.
 */
export function escapeCsvField(value: string): string {
  // Most values need nothing: answer them without building a new string.
  if (!HAS_ESCAPE.test(value)) return value.charCodeAt(0) === 0xfeff ? `${BACKSLASH}${value}` : value;
  const escaped = value.replace(NEEDS_ESCAPE, (character) => `${BACKSLASH}${character}`);
  // A field that starts the file must not look like a byte order mark, which the parser refuses.
  return escaped.startsWith(BOM) ? `${BACKSLASH}${escaped}` : escaped;
}

/**
 * One record: the escaped fields joined by commas, without a line terminator (the caller adds `\n`).
 *
 * @throws ValidationError `CSV.MALFORMED` for an empty list: a record has at least one field.
 */
export function formatCsvRow(fields: readonly string[]): string {
  if (fields.length === 0) {
    throw new ValidationError("CSV.MALFORMED", "fields", "a row needs at least one field");
  }
  return fields.map(escapeCsvField).join(",");
}

/**
 * Reads a whole import file the way {@link formatCsvRow} writes it, strictly.
 *
 * Records end with LF or CRLF; one terminator at the very end of the text ends the last record and does not
 * start an empty one (so `"a\n"` and `"a"` are both `[["a"]]`). Following the record grammar of RFC 4180,
 * the empty text is one record holding one empty field. A backslash takes the next character literally.
 *
 * @throws ValidationError `CSV.MALFORMED` with field `line N` (1-based, counting every LF) for: a byte order
 *   mark at the start (Cognito wants UTF-8 without one), an unescaped double quote (values are never quoted in
 *   this format, so a quote means the file was written for another dialect), a backslash before any other
 *   character than `,` `\` `"` CR LF U+FEFF, a backslash at the end of the text, or a CR not followed by LF.
 *   Messages never repeat the file's content.
 */
export function parseCsv(text: string): string[][] {
  if (text.startsWith(BOM)) {
    throw new ValidationError(
      "CSV.MALFORMED",
      "line 1",
      "starts with a byte order mark; use UTF-8 without one",
    );
  }
  const records: string[][] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let endedWithTerminator = false;
  let i = 0;
  const endRecord = (): void => {
    fields.push(field);
    records.push(fields);
    fields = [];
    field = "";
  };

  while (i < text.length) {
    const character = text.charAt(i);
    endedWithTerminator = false;
    if (character === BACKSLASH) {
      if (i + 1 >= text.length) {
        throw new ValidationError(
          "CSV.MALFORMED",
          `line ${line}`,
          "ends with a backslash that escapes nothing",
        );
      }
      const escaped = text.charAt(i + 1);
      if (!ESCAPED_CHARACTERS.has(escaped)) {
        throw new ValidationError(
          "CSV.MALFORMED",
          `line ${line}`,
          "a backslash may only precede a comma, a backslash, a double quote, a line break or U+FEFF",
        );
      }
      if (escaped === "\n") line += 1;
      field += escaped;
      i += 2;
    } else if (character === ",") {
      fields.push(field);
      field = "";
      i += 1;
    } else if (character === "\n") {
      endRecord();
      line += 1;
      endedWithTerminator = true;
      i += 1;
    } else if (character === "\r") {
      if (text.charAt(i + 1) !== "\n") {
        throw new ValidationError(
          "CSV.MALFORMED",
          `line ${line}`,
          "has a carriage return that does not end the line",
        );
      }
      endRecord();
      line += 1;
      endedWithTerminator = true;
      i += 2;
    } else if (character === '"') {
      throw new ValidationError(
        "CSV.MALFORMED",
        `line ${line}`,
        "has an unescaped double quote; values are not quoted in the import format",
      );
    } else {
      field += character;
      i += 1;
    }
  }
  if (!endedWithTerminator) endRecord();
  return records;
}
