/**
 * EventBridge schedule expressions — `cron(...)`, `rate(...)` and EventBridge Scheduler's `at(...)` —
 * checked at preview time, so a bad expression fails `pulumi preview` with a message naming the field
 * instead of failing `pulumi up` with "Parameter ScheduleExpression is not valid".
 *
 * Sources for the rules (cited where each rule is enforced):
 * - [EB-CRON] EventBridge User Guide, "Cron expressions" (eb-create-rule-schedule / eb-cron-expressions):
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
 * - [EB-RATE] EventBridge User Guide, "Rate expressions":
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html
 * - [SCHED] EventBridge Scheduler API, CreateSchedule `ScheduleExpression`: `at(yyyy-mm-ddThh:mm:ss)`,
 *   `rate(value unit)`, `cron(fields)`; six cron fields; rate value "a positive integer":
 *   https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 *
 * Where AWS's documentation is silent (letter case of the keywords, whitespace around the expression or
 * between fields, leading zeros in a rate), this module accepts only the documented spelling: a preview
 * that passes something the deploy may refuse is the failure this module exists to prevent, and every
 * such rejection says exactly how to write the documented form.
 */
import { ValidationError } from "../errors.js";

/** The six cron fields, in the order EventBridge reads them. */
export const CRON_FIELDS = ["minutes", "hours", "dayOfMonth", "month", "dayOfWeek", "year"] as const;
export type CronField = (typeof CRON_FIELDS)[number];

export type ScheduleExpression =
  | { kind: "cron"; expression: string; fields: Record<CronField, string> }
  | { kind: "rate"; expression: string; value: number; unit: "minute" | "hour" | "day"; everyMs: number }
  | { kind: "at"; expression: string; at: string /* yyyy-mm-ddThh:mm:ss */ };

/** How each field is named in messages — the names AWS's documentation uses. */
export const CRON_FIELD_LABELS: Readonly<Record<CronField, string>> = {
  minutes: "minutes",
  hours: "hours",
  dayOfMonth: "day-of-month",
  month: "month",
  dayOfWeek: "day-of-week",
  year: "year",
};

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldSpec {
  readonly field: CronField;
  /** 1-based, as people count fields when they read an expression. */
  readonly position: number;
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** names[i] stands for min + i. */
  readonly names?: readonly string[];
  /** The wildcards AWS lists for the field, for messages. */
  readonly wildcards: string;
  /** Characters other than digits and name letters that may appear. */
  readonly symbols: string;
}

// [EB-CRON] field table: Minutes 0-59 `, - * /`; Hours 0-23 `, - * /`; Day-of-month 1-31 `, - * ? / L W`;
// Month 1-12 or JAN-DEC `, - * /`; Day-of-week 1-7 or SUN-SAT `, - * ? L #`; Year 1970-2199 `, - * /`.
const SPECS: Readonly<Record<CronField, FieldSpec>> = {
  minutes: {
    field: "minutes",
    position: 1,
    label: CRON_FIELD_LABELS.minutes,
    min: 0,
    max: 59,
    wildcards: ", - * /",
    symbols: ",-*/",
  },
  hours: {
    field: "hours",
    position: 2,
    label: CRON_FIELD_LABELS.hours,
    min: 0,
    max: 23,
    wildcards: ", - * /",
    symbols: ",-*/",
  },
  dayOfMonth: {
    field: "dayOfMonth",
    position: 3,
    label: CRON_FIELD_LABELS.dayOfMonth,
    min: 1,
    max: 31,
    wildcards: ", - * ? / L W",
    symbols: ",-*?/LW",
  },
  month: {
    field: "month",
    position: 4,
    label: CRON_FIELD_LABELS.month,
    min: 1,
    max: 12,
    names: MONTH_NAMES,
    wildcards: ", - * /",
    symbols: ",-*/",
  },
  dayOfWeek: {
    field: "dayOfWeek",
    position: 5,
    label: CRON_FIELD_LABELS.dayOfWeek,
    min: 1,
    max: 7,
    names: WEEKDAY_NAMES,
    wildcards: ", - * ? L #",
    symbols: ",-*?L#",
  },
  year: {
    field: "year",
    position: 6,
    label: CRON_FIELD_LABELS.year,
    min: 1970,
    max: 2199,
    wildcards: ", - * /",
    symbols: ",-*/",
  },
};

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
type RateUnit = keyof typeof UNIT_MS;

/** A problem found while parsing; turned into a ValidationError (with key and expression) at the boundary. */
class ScheduleProblem extends Error {
  override name = "ScheduleProblem";
  constructor(
    readonly problem: string,
    readonly cronField?: CronField,
  ) {
    super(problem);
  }
}

/**
 * Parses an EventBridge / EventBridge Scheduler schedule expression.
 *
 * Accepts `cron(<6 fields>)`, `rate(<value> <unit>)` and `at(yyyy-mm-ddThh:mm:ss)` exactly as AWS
 * documents them (lowercase keyword, no surrounding whitespace, fields separated by single spaces).
 * `at(...)` is an EventBridge Scheduler one-time schedule; EventBridge rules take only cron and rate.
 *
 * @param key the config key the expression came from, used as the error's `field` (default `schedule`).
 * @throws ValidationError `CONFIG.INVALID_SCHEDULE` naming what is wrong and where (the cron field's
 *   position and name, the rate's value or unit, the at's date part), with the original expression in the
 *   message; `details.expression` holds the expression and `details.cronField` the bad cron field, if any.
 */
export function parseScheduleExpression(expression: string, key = "schedule"): ScheduleExpression {
  try {
    return parse(expression);
  } catch (error) {
    if (!(error instanceof ScheduleProblem)) throw error;
    const details: Record<string, unknown> = { expression };
    if (error.cronField !== undefined) details.cronField = error.cronField;
    throw new ValidationError(
      "CONFIG.INVALID_SCHEDULE",
      key,
      `${error.problem}; expression: ${JSON.stringify(expression)}`,
      { details },
    );
  }
}

/**
 * Like {@link parseScheduleExpression} but returns the outcome as a value, for callers that collect
 * every config problem before reporting. Never throws for a bad expression.
 */
export function checkScheduleExpression(
  expression: string,
  key = "schedule",
): { ok: true; schedule: ScheduleExpression } | { ok: false; error: ValidationError } {
  try {
    return { ok: true, schedule: parseScheduleExpression(expression, key) };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, error };
    throw error;
  }
}

function parse(expression: unknown): ScheduleExpression {
  if (typeof expression !== "string") {
    throw new ScheduleProblem(`must be a string like cron(0 16 * * ? *), got ${typeof expression}`);
  }
  if (expression === "") {
    throw new ScheduleProblem("is empty: expected cron(fields), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)");
  }
  if (expression.trim() !== expression) {
    // A YAML block scalar or a copy-paste easily leaves a trailing newline; AWS documents no surrounding
    // whitespace, so it is reported instead of silently trimmed (the deployed value would keep it).
    throw new ScheduleProblem(`has leading or trailing whitespace: remove it, e.g. ${expression.trim()}`);
  }

  const keyword = /^([A-Za-z]+)\s*\(/.exec(expression)?.[1];
  if (keyword === undefined) throw new ScheduleProblem(describeUnwrapped(expression));
  const lower = keyword.toLowerCase();
  if (lower !== "cron" && lower !== "rate" && lower !== "at") {
    throw new ScheduleProblem(
      `"${keyword}(" is not a schedule type: expected cron(fields), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)`,
    );
  }
  if (keyword !== lower) {
    throw new ScheduleProblem(`"${keyword}(" must be written in lowercase, as AWS documents it: ${lower}(`);
  }
  if (!expression.startsWith(`${lower}(`)) {
    throw new ScheduleProblem(`no space is allowed between "${lower}" and "(": write ${lower}(...)`);
  }
  if (!expression.endsWith(")")) {
    throw new ScheduleProblem(`${lower}(...) is missing its closing ")"`);
  }
  const inner = expression.slice(lower.length + 1, -1);
  if (lower === "cron") return { kind: "cron", expression, fields: parseCron(inner) };
  if (lower === "rate") return { kind: "rate", expression, ...parseRate(inner) };
  return { kind: "at", expression, at: parseAt(inner) };
}

/** Explains an expression without a `keyword(` wrapper, guessing what was meant. */
function describeUnwrapped(expression: string): string {
  const words = expression.split(/\s+/);
  if (/^(cron|rate|at)$/i.test(words[0] ?? "")) {
    return `missing parentheses: write ${(words[0] ?? "").toLowerCase()}(${words.slice(1).join(" ")})`;
  }
  if (/^\d+\s+(minutes?|hours?|days?)$/.test(expression)) {
    return `missing the rate(...) wrapper: write rate(${expression})`;
  }
  if (words.length >= 5 && words.every((word) => /^[0-9A-Za-z*?,/#-]+$/.test(word))) {
    const example = words.length === CRON_FIELDS.length ? `cron(${words.join(" ")})` : "cron(0 16 * * ? *)";
    return `missing the cron(...) wrapper: EventBridge expects cron(<6 fields>), e.g. ${example}`;
  }
  return "not a schedule expression: expected cron(fields), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)";
}

// ---------------------------------------------------------------------------------------------------
// cron

function parseCron(inner: string): Record<CronField, string> {
  if (inner.trim() !== inner || /\s\s|[^\S ]/.test(inner)) {
    // [EB-CRON] "six required fields, which are separated by white space"; every AWS example uses single
    // spaces and nothing documents tabs, runs of spaces or padding inside the parentheses.
    throw new ScheduleProblem(
      `cron fields must be separated by single spaces, with no spaces inside the parentheses: cron(${inner
        .trim()
        .split(/\s+/)
        .join(" ")})`,
    );
  }
  const parts = inner.split(" ");
  if (parts.length !== CRON_FIELDS.length) {
    // [EB-CRON] "Cron expressions have six required fields". Five is a Unix crontab; seven is Quartz's
    // seconds field — name the usual cause.
    const hint =
      parts.length === 5
        ? " — EventBridge cron has a year field (use * for every year)"
        : parts.length === 7
          ? " — EventBridge cron has no seconds field"
          : "";
    throw new ScheduleProblem(
      `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}${hint}`,
    );
  }

  const fields = Object.fromEntries(CRON_FIELDS.map((field, i) => [field, parts[i] ?? ""])) as Record<
    CronField,
    string
  >;
  // Each field is checked on its own first, so an out-of-range day is reported as that rather than as a
  // clash of the two day fields.
  for (const field of CRON_FIELDS) checkCronField(SPECS[field], fields[field]);
  checkDayFields(fields.dayOfMonth, fields.dayOfWeek);
  return fields;
}

/**
 * [EB-CRON] Limitations: "You can't specify the Day-of-month and Day-of-week fields in the same cron
 * expression. If you specify a value or a * (asterisk) in one of the fields, you must use a ? (question
 * mark) in the other." Both `?` is refused too: the docs give `?` only as the complement of a value in the
 * other field, and Quartz — whose syntax EventBridge's follows — rejects `? ?` with the same error.
 */
function checkDayFields(dayOfMonth: string, dayOfWeek: string): void {
  if (dayOfMonth === "?" && dayOfWeek === "?") {
    throw new ScheduleProblem(
      'day-of-month and day-of-week are both "?": exactly one of them must be "?" ' +
        "(every day is day-of-month * with day-of-week ?, e.g. cron(0 16 * * ? *))",
    );
  }
  if (dayOfMonth !== "?" && dayOfWeek !== "?") {
    const fix =
      dayOfWeek === "*"
        ? 'replace day-of-week "*" with "?"'
        : dayOfMonth === "*"
          ? 'replace day-of-month "*" with "?"'
          : 'keep one and set the other to "?"';
    throw new ScheduleProblem(
      `day-of-month "${dayOfMonth}" and day-of-week "${dayOfWeek}": one of them must be "?" (${fix})`,
    );
  }
}

function checkCronField(spec: FieldSpec, text: string): void {
  const fail = (problem: string): never => {
    throw new ScheduleProblem(
      `cron field ${spec.position} (${spec.label}) "${text}": ${problem}`,
      spec.field,
    );
  };
  checkCharacters(spec, text, fail);
  if (text.includes("?")) {
    if (text !== "?") fail('"?" must stand alone: it means "any" and cannot be combined with other values');
    return;
  }
  if (spec.field === "dayOfMonth" && /[LW]/.test(text)) {
    checkLastOrWeekdayOfMonth(text, fail);
  } else if (spec.field === "dayOfWeek" && /[L#]/.test(text)) {
    checkLastOrNthOfWeek(text, fail);
  } else if (text !== "*") {
    for (const item of text.split(",")) checkListItem(spec, item, fail);
  }
}

/** Rejects the first character the field does not allow, saying which ones it does. */
function checkCharacters(spec: FieldSpec, text: string, fail: (problem: string) => never): void {
  for (const char of text) {
    if (/[0-9]/.test(char) || spec.symbols.includes(char)) continue;
    if (spec.names !== undefined && /[A-Za-z]/.test(char)) continue;
    const allowed = `allowed: ${describeValues(spec)} and ${spec.wildcards}`;
    if (spec.symbols.includes(char.toUpperCase())) {
      fail(`"${char}" must be uppercase "${char.toUpperCase()}" (${allowed})`);
    }
    if (char === "?") fail(`"?" is only allowed in day-of-month and day-of-week (${allowed})`);
    fail(`"${char}" is not allowed in ${spec.label} (${allowed})`);
  }
}

function describeValues(spec: FieldSpec): string {
  const names = spec.names;
  const range = `${spec.min}-${spec.max}`;
  return names === undefined ? range : `${range} or ${names[0]}-${names[names.length - 1]}`;
}

/** One comma-separated item: `*`, a value, a range `a-b`, or a step `(*|a|a-b)/n`. */
function checkListItem(spec: FieldSpec, item: string, fail: (problem: string) => never): void {
  if (item === "") fail("empty value in the list (look for a stray comma)");
  if (item === "*") fail('"*" means every value and cannot be combined with other values');
  const slash = item.indexOf("/");
  if (slash === -1) {
    checkRangeOrValue(spec, item, fail);
    return;
  }

  // [EB-CRON] `/` is listed for every field except day-of-week (`, - * ? L #`).
  if (spec.field === "dayOfWeek") fail(`"/" is not allowed in day-of-week (allowed: ${spec.wildcards})`);
  const base = item.slice(0, slash);
  const step = item.slice(slash + 1);
  if (!/^\d+$/.test(step)) fail(`step "${step}" in "${item}" must be a whole number, e.g. */5`);
  if (Number(step) === 0) fail(`step 0 in "${item}" never advances: use a step of at least 1, e.g. */5`);
  if (base === "") fail(`"${item}" has no start before "/": write */${step} or 0/${step}`);
  if (base !== "*") checkRangeOrValue(spec, base, fail);
}

function checkRangeOrValue(spec: FieldSpec, token: string, fail: (problem: string) => never): void {
  if (!token.includes("-")) {
    numberOf(spec, token, fail);
    return;
  }
  const ends = token.split("-");
  const [start, end] = ends;
  if (ends.length !== 2 || !start || !end)
    fail(`"${token}" is not a range: write start-end, e.g. ${exampleRange(spec)}`);
  const from = numberOf(spec, start as string, fail);
  const to = numberOf(spec, end as string, fail);
  // [EB-CRON] example `0/30 20-2 ? * MON-FRI *` runs "between 10:00 pm ... to 2:00 am on the following day":
  // a backwards range wraps around. Years do not wrap (Quartz refuses a start year after the stop year).
  if (spec.field === "year" && from > to) fail(`year range "${token}" runs backwards: write ${to}-${from}`);
}

function exampleRange(spec: FieldSpec): string {
  return spec.names === undefined ? `${spec.min}-${spec.min + 1}` : `${spec.names[0]}-${spec.names[1]}`;
}

/** A number in the field's range, or (month, day-of-week) a three-letter name in any letter case. */
function numberOf(spec: FieldSpec, token: string, fail: (problem: string) => never): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < spec.min || n > spec.max) {
      // Unix crontabs number Sunday 0; EventBridge's day-of-week runs 1-7 from SUN ([EB-CRON] "1-7 or SUN-SAT").
      const hint = spec.field === "dayOfWeek" && n === 0 ? " (EventBridge numbers Sunday 1, not 0)" : "";
      fail(`${token} is out of range ${describeValues(spec)}${hint}`);
    }
    return n;
  }
  // Month and weekday names are case-insensitive: Quartz upper-cases the expression before parsing, and
  // mixed-case names (`Mon-Fri`) were confirmed accepted by the EventBridge console
  // (grumBit/aws_cron_expression_validator#18).
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index >= 0) return spec.min + index;
  return fail(`"${token}" is not a ${spec.label} value: use ${describeValues(spec)}`);
}

/**
 * Day-of-month `L` and `W` forms. [EB-CRON]: "The L wildcard in the Day-of-month ... specifies the last day
 * of the month"; "The W wildcard in the Day-of-month field specifies a weekday ... 3W specifies the weekday
 * closest to the third day of the month". `LW` (last weekday of the month) is not in the docs but is
 * accepted by EventBridge (cronplan v1.10.0; grumBit/aws_cron_expression_validator#18). Each stands alone:
 * Quartz refuses `L`/`LW` with other days and `W` on a range or list. `L-3` and `5L` (Quartz extensions)
 * are not in AWS's documented syntax and are refused rather than guessed at.
 */
function checkLastOrWeekdayOfMonth(text: string, fail: (problem: string) => never): void {
  if (text === "L" || text === "LW") return;
  if (text.includes(",")) {
    fail('"L" and "W" must stand alone in day-of-month: they cannot be combined with other values in a list');
  }
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) {
    const day = Number(nearest[1]);
    if (day < 1 || day > 31) fail(`${nearest[1]}W: day ${nearest[1]} is out of range 1-31`);
    return;
  }
  if (/^[\d*]+[-/][\d*]*W$/.test(text)) fail('"W" takes a single day, not a range or step: e.g. 15W');
  if (/^\d+L$/.test(text)) {
    fail('"nL" (last such weekday) belongs in day-of-week; in day-of-month write L for the last day');
  }
  if (/^L-/.test(text))
    fail("offsets from the last day (L-n) are not in AWS's documented syntax: use L or LW");
  fail(
    "write L (last day of the month), LW (last weekday of the month) or nW (weekday nearest day n, e.g. 15W)",
  );
}

/**
 * Day-of-week `L` and `#` forms. [EB-CRON]: `L` "specifies the last day of the ... week"; the example
 * `cron(15 10 ? * 6L 2019-2022)` runs "on the last Friday of each month"; "3#2 would be the second Tuesday
 * of the month"; "If you use a '#' character, you can define only one expression in the day-of-week field.
 * For example, "3#1,6#3" is not valid". The number after `#` is 1-5 (EC2 Image Builder's AWS cron docs:
 * "must be followed by a number between 1 and 5"; Quartz enforces the same).
 */
function checkLastOrNthOfWeek(text: string, fail: (problem: string) => never): void {
  const spec = SPECS.dayOfWeek;
  if (text.includes(",")) {
    const what = text.includes("#") ? '"#"' : '"L"';
    fail(
      `${what} allows only one expression in day-of-week, so it cannot be part of a list (e.g. "3#1,6#3")`,
    );
  }
  if (text === "L") return;
  const nth = /^([^#]+)#([^#]*)$/.exec(text);
  if (nth) {
    const [, day = "", occurrence = ""] = nth;
    numberOf(spec, day, fail);
    if (!/^\d+$/.test(occurrence) || Number(occurrence) < 1 || Number(occurrence) > 5) {
      fail(`"#${occurrence}": the week of the month after "#" must be 1-5, e.g. ${day}#2 for the second one`);
    }
    return;
  }
  const last = /^([^L]+)L$/.exec(text);
  if (last) {
    numberOf(spec, last[1] ?? "", fail);
    return;
  }
  if (/^L-/.test(text)) fail('offsets after "L" are not in AWS\'s documented syntax: use L or nL (e.g. 6L)');
  fail("write L (last day of the week), nL (last day n of the month, e.g. 6L or FRIL) or n#k (e.g. 3#2)");
}

// ---------------------------------------------------------------------------------------------------
// rate

/**
 * [EB-RATE]/[SCHED]: `rate(value unit)`, two fields separated by white space; value "a positive integer";
 * unit "minute | minutes | hour | hours | day | days"; "If the value is equal to 1, then the unit must be
 * singular. If the value is greater than 1, the unit must be plural. For example, rate(1 hours) and
 * rate(5 hour) aren't valid". The shortest rate is therefore rate(1 minute) (no seconds unit exists).
 */
function parseRate(inner: string): { value: number; unit: RateUnit; everyMs: number } {
  const parts = inner.split(" ");
  const [valueText = "", unitText = ""] = parts;
  if (parts.length !== 2 || valueText === "" || unitText === "") {
    throw new ScheduleProblem(
      `rate needs a value and a unit separated by one space, e.g. rate(5 minutes); got rate(${inner})`,
    );
  }
  if (!/^\d+$/.test(valueText) || (valueText.length > 1 && valueText.startsWith("0"))) {
    throw new ScheduleProblem(
      `rate value "${valueText}" must be a positive whole number written without sign, decimals or leading zeros`,
    );
  }
  const value = Number(valueText);
  if (value === 0)
    throw new ScheduleProblem("rate value 0 is not positive: the shortest rate is rate(1 minute)");

  const unitLower = unitText.toLowerCase();
  const singular = unitLower.endsWith("s") ? unitLower.slice(0, -1) : unitLower;
  if (!Object.hasOwn(UNIT_MS, singular)) {
    const hint = singular === "second" ? " (the shortest rate is rate(1 minute))" : "";
    throw new ScheduleProblem(
      `rate unit "${unitText}" is not one of minute, minutes, hour, hours, day, days${hint}`,
    );
  }
  if (unitText !== unitLower) {
    throw new ScheduleProblem(`rate unit "${unitText}" must be lowercase: rate(${valueText} ${unitLower})`);
  }
  const unit = singular as RateUnit;
  const plural = unitText.endsWith("s");
  if (value === 1 && plural) {
    throw new ScheduleProblem(
      `rate unit "${unitText}" must be singular when the value is 1: rate(1 ${unit})`,
    );
  }
  if (value > 1 && !plural) {
    throw new ScheduleProblem(
      `rate unit "${unitText}" must be plural when the value is ${valueText}: rate(${valueText} ${unit}s)`,
    );
  }
  const everyMs = value * UNIT_MS[unit];
  if (!Number.isSafeInteger(everyMs)) {
    throw new ScheduleProblem(`rate value ${valueText} is too large to be a schedule interval`);
  }
  return { value, unit, everyMs };
}

// ---------------------------------------------------------------------------------------------------
// at

/**
 * [SCHED]: one-time schedules are `at(yyyy-mm-ddThh:mm:ss)`, evaluated in the schedule's time zone
 * (set separately, as ScheduleExpressionTimezone), so no zone suffix belongs in the expression.
 * The date must exist on the calendar (2026-02-30 does not).
 */
function parseAt(inner: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(inner);
  if (!match) {
    const zone = /(Z|[+-]\d{2}:?\d{2})$/.test(inner)
      ? " with no time zone suffix (the zone is set separately, as ScheduleExpressionTimezone)"
      : "";
    throw new ScheduleProblem(`at time "${inner}" must be written yyyy-mm-ddThh:mm:ss${zone}`);
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = inner.slice(0, 10);
  if (month < 1 || month > 12)
    throw new ScheduleProblem(`at date ${date}: month ${match[2]} is out of range 01-12`);
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) {
    throw new ScheduleProblem(
      `at date ${date}: ${MONTH_NAMES[month - 1]} ${year} has ${days} days, so day ${match[3]} does not exist`,
    );
  }
  if (hour > 23) throw new ScheduleProblem(`at time ${inner}: hour ${match[4]} is out of range 00-23`);
  if (minute > 59) throw new ScheduleProblem(`at time ${inner}: minute ${match[5]} is out of range 00-59`);
  if (second > 59) throw new ScheduleProblem(`at time ${inner}: second ${match[6]} is out of range 00-59`);
  return inner;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
