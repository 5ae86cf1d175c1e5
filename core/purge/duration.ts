/**
 * Durations as operators write them in stack config: compact (`90s`, `30m`, `24h`, `1d`, `1d12h`) or
 * ISO 8601 (`PT24H`, `P1D`, `P1DT12H`). Parsed to whole milliseconds.
 */
import { ValidationError } from "../errors.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const ACCEPTED =
  'expected a positive duration such as "90s", "30m", "24h", "1d", "1d12h" (units d, h, m, s, ms, largest first) ' +
  'or ISO 8601 such as "PT24H", "P1D", "P1DT12H" (years and months are not accepted: their length varies)';

// Compact form: each unit at most once, largest first, so "1h1d" or "1d1d" cannot hide a typo.
const COMPACT = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
// ISO 8601 durations without years and months, whose length depends on the calendar.
const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
// Caught separately so the message can say why a calendar unit is refused.
const ISO_CALENDAR = /^P[^T]*[YM]/;

/**
 * Parses a duration to milliseconds.
 *
 * @param text compact (`1d12h`) or ISO 8601 (`P1DT12H`) duration; surrounding whitespace is ignored.
 * @param key where the value came from, named in the error (`purge.minAge`); defaults to `duration`.
 * @returns a positive, safe integer number of milliseconds.
 * @throws ValidationError `CONFIG.INVALID_DURATION` when the text is not one of the accepted forms,
 *   is zero, or is too large to be represented exactly.
 */
export function parseDuration(text: string, key?: string): number {
  const field = key ?? "duration";
  if (typeof text !== "string") {
    throw new ValidationError("CONFIG.INVALID_DURATION", field, `must be a string; ${ACCEPTED}`);
  }
  const trimmed = text.trim();
  const ms = parseCompact(trimmed) ?? parseIso(trimmed);
  if (ms === undefined) {
    const problem = ISO_CALENDAR.test(trimmed) ? "uses years or months" : "is not understood";
    throw new ValidationError("CONFIG.INVALID_DURATION", field, `${problem}; ${ACCEPTED}`);
  }
  if (!Number.isSafeInteger(ms)) {
    throw new ValidationError("CONFIG.INVALID_DURATION", field, "is too large");
  }
  if (ms <= 0) {
    throw new ValidationError("CONFIG.INVALID_DURATION", field, `must be greater than zero; ${ACCEPTED}`);
  }
  return ms;
}

function parseCompact(text: string): number | undefined {
  const match = COMPACT.exec(text);
  if (match === null || text === "") return undefined;
  const [, d, h, m, s, milliseconds] = match;
  return sum([
    [d, DAY],
    [h, HOUR],
    [m, MINUTE],
    [s, SECOND],
    [milliseconds, 1],
  ]);
}

function parseIso(text: string): number | undefined {
  const match = ISO.exec(text);
  // "P" alone and "P1DT" (a time designator with nothing after it) are not valid ISO 8601.
  if (match === null || text === "P" || text.endsWith("T")) return undefined;
  const [, w, d, h, m, s] = match;
  return sum([
    [w, WEEK],
    [d, DAY],
    [h, HOUR],
    [m, MINUTE],
    [s, SECOND],
  ]);
}

function sum(parts: ReadonlyArray<readonly [string | undefined, number]>): number {
  let total = 0;
  for (const [digits, unit] of parts) {
    if (digits !== undefined) total += Number(digits) * unit;
  }
  return total;
}

/**
 * Formats milliseconds in the compact form `parseDuration` reads back (`1d12h`; 90 000 → `1m30s`).
 * Sub-second remainders are shown as `ms` (`1s500ms`) so the output never hides a difference; zero is `0s`.
 *
 * @throws ValidationError `CONFIG.INVALID_DURATION` for negative, fractional or unsafe numbers.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new ValidationError(
      "CONFIG.INVALID_DURATION",
      "duration",
      "must be a non-negative whole number of ms",
    );
  }
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of [
    ["d", DAY],
    ["h", HOUR],
    ["m", MINUTE],
    ["s", SECOND],
    ["ms", 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
