/**
 * Small strict readers for JSON documents, shared by the backup record, foreign dump and snapshot parsers.
 * Each failure throws a `ValidationError` whose field is the JSON path of the bad value. Problems describe the
 * expected shape and the JSON type found, never the value itself: values are user attributes (emails, phone
 * numbers) and must not reach logs through error messages.
 */
import { type ErrorCode, ValidationError } from "../errors.js";

/** Which code a document's failures carry, and where the document came from (prefixed to every field). */
export interface ReadContext {
  readonly code: ErrorCode;
  readonly location?: string | undefined;
}

/** `path` as reported: `location: path`, the location alone for the whole document, `$` when neither. */
export function fieldName(ctx: ReadContext, path: string): string {
  if (ctx.location === undefined) return path === "" ? "$" : path;
  return path === "" ? ctx.location : `${ctx.location}: ${path}`;
}

export function fail(ctx: ReadContext, path: string, problem: string, code: ErrorCode = ctx.code): never {
  throw new ValidationError(code, fieldName(ctx, path), problem);
}

export function child(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** The JSON type of a value, for messages that must not show the value. */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Text is parsed as JSON; anything else is taken as an already parsed document.
 * The parser's own message is dropped (and not kept as `cause`): V8 quotes the text around the error, which
 * may be an email.
 */
export function parseJsonText(input: unknown, ctx: ReadContext): unknown {
  if (typeof input !== "string") return input;
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return fail(ctx, "", "not valid JSON");
  }
}

export function expectObject(
  value: unknown,
  path: string,
  ctx: ReadContext,
): Readonly<Record<string, unknown>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(ctx, path, `expected an object, got ${jsonType(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Rejects fields a document version does not define, so a typo or a newer writer is not silently dropped. */
export function expectOnlyKeys(
  object: Readonly<Record<string, unknown>>,
  known: readonly string[],
  path: string,
  ctx: ReadContext,
): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) fail(ctx, child(path, key), "unknown field");
  }
}

/** The field's value; `undefined` only when the field is absent. */
export function field(object: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

export function required(
  object: Readonly<Record<string, unknown>>,
  key: string,
  path: string,
  ctx: ReadContext,
): unknown {
  if (!Object.hasOwn(object, key)) fail(ctx, child(path, key), "missing");
  return object[key];
}

export function expectArray(value: unknown, path: string, ctx: ReadContext): readonly unknown[] {
  if (!Array.isArray(value)) fail(ctx, path, `expected an array, got ${jsonType(value)}`);
  return value as unknown[];
}

export function expectBoolean(value: unknown, path: string, ctx: ReadContext): boolean {
  if (typeof value !== "boolean") fail(ctx, path, `expected true or false, got ${jsonType(value)}`);
  return value as boolean;
}

export interface StringRules {
  /** In code points, as AWS documents its length constraints. */
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  /** Says what the pattern means, e.g. "a user pool id like eu-west-1_AbCdEf123". */
  readonly patternHint?: string;
}

export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length += 1;
  return length;
}

export function expectString(
  value: unknown,
  path: string,
  ctx: ReadContext,
  rules: StringRules = {},
): string {
  if (typeof value !== "string") return fail(ctx, path, `expected a string, got ${jsonType(value)}`);
  const length = rules.minLength !== undefined || rules.maxLength !== undefined ? codePointLength(value) : 0;
  if (rules.minLength !== undefined && length < rules.minLength) {
    fail(
      ctx,
      path,
      rules.minLength === 1 ? "must not be empty" : `must be at least ${rules.minLength} characters`,
    );
  }
  if (rules.maxLength !== undefined && length > rules.maxLength) {
    fail(ctx, path, `must be at most ${rules.maxLength} characters (is ${length})`);
  }
  if (rules.pattern !== undefined && !rules.pattern.test(value)) {
    fail(ctx, path, `must be ${rules.patternHint ?? `of the form ${rules.pattern.source}`}`);
  }
  return value;
}

/** A non-negative safe integer (a count or a size). */
export function expectCount(value: unknown, path: string, ctx: ReadContext): number {
  if (typeof value !== "number")
    return fail(ctx, path, `expected a non-negative integer, got ${jsonType(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) fail(ctx, path, "must be a non-negative integer");
  return value;
}

// Extended ISO 8601 date-time with a mandatory offset: what toISOString writes (`...T05:38:54.123Z`) and what
// the AWS CLI v2 prints through Python's isoformat (`...T14:38:54.123000+09:00`, microseconds, local offset).
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/** The instant an ISO 8601 date-time names, or `undefined` when it is not one (or names no real day). */
export function parseIsoDateTime(text: string): Date | undefined {
  const time = canonicalIsoTime(text);
  if (time !== undefined) return new Date(time);
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const offsetHours = zulu ? 0 : Number(oh);
  const offsetMinutes = zulu ? 0 : Number(om);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  // Milliseconds are all a Date holds; finer digits (Python prints microseconds) are dropped, not rounded,
  // so a value never moves into the next second.
  const millis = fraction === undefined ? 0 : Number(fraction.padEnd(3, "0").slice(0, 3));
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined; // e.g. 2026-02-30
  date.setUTCHours(hour, minute, second, millis);
  const offset = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  return new Date(date.getTime() - offset * 60_000);
}

/**
 * The instant of a date-time written exactly as `toISOString` writes it for years 0100-9999
 * (`2026-01-31T12:00:00.000Z`), the form every document of this project holds, read without a regular
 * expression; `undefined` for any other text, which takes the general reader ({@link parseIsoDateTime}), as
 * does an impossible date or time (2026-02-30, 24:00:00).
 */
function canonicalIsoTime(text: string): number | undefined {
  if (text.length !== 24) return undefined;
  for (let i = 0; i < 24; i++) {
    const unit = text.charCodeAt(i);
    const expected = CANONICAL_SEPARATORS[i];
    if (expected === 0 ? unit < 48 || unit > 57 : unit !== expected) return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  // Date.UTC reads years 0-99 as 1900-1999: those take the general reader.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, digits(text, 20, 3));
}

// `YYYY-MM-DDTHH:MM:SS.sssZ`: 0 where a digit goes, else the character's code.
const CANONICAL_SEPARATORS = [...Array.from("0000-00-00T00:00:00.000Z")].map((character) =>
  character === "0" ? 0 : character.charCodeAt(0),
);

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) value = value * 10 + (text.charCodeAt(i) - 48);
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Year 10000 and later cannot be written back as a four-digit ISO year; epoch milliseconds mistaken for
// seconds land there (1.7e12 s is the year 55,000), so they are refused rather than read as nonsense.
const MAX_EPOCH_SECONDS = 253_402_300_800;

/**
 * A date written as an ISO 8601 string with an offset; with `epochSeconds`, also a number of seconds since
 * 1970 (fractions allowed), which is how Cognito puts timestamps on the wire and how the AWS CLI prints them
 * with `cli_timestamp_format = wire` (the AWS CLI v1 default).
 */
export function expectDate(
  value: unknown,
  path: string,
  ctx: ReadContext,
  options: { epochSeconds: boolean },
): Date {
  if (typeof value === "string") {
    const date = parseIsoDateTime(value);
    if (date === undefined || Number.isNaN(date.getTime())) {
      fail(ctx, path, "expected an ISO 8601 date-time with offset, like 2026-01-31T12:00:00.000Z");
    }
    return date as Date;
  }
  if (options.epochSeconds && typeof value === "number") {
    if (!Number.isFinite(value) || value < 0 || value >= MAX_EPOCH_SECONDS) {
      fail(ctx, path, "epoch seconds out of range (milliseconds are not accepted)");
    }
    // Rounding to the millisecond undoes binary fractions: 1689030181.63 * 1000 is not exactly an integer.
    return new Date(Math.round(value * 1000));
  }
  return fail(
    ctx,
    path,
    options.epochSeconds
      ? `expected an ISO 8601 date-time or epoch seconds, got ${jsonType(value)}`
      : `expected an ISO 8601 date-time string, got ${jsonType(value)}`,
  );
}

/** `date` as written in every document: ISO 8601, UTC, milliseconds. Refuses an invalid Date. */
export function formatDate(date: Date, path: string, ctx: ReadContext): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return fail(ctx, path, "not a valid date");
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) fail(ctx, path, "year must be between 0000 and 9999");
  return date.toISOString();
}
