import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import {
  CRON_FIELD_LABELS,
  CRON_FIELDS,
  type CronField,
  checkScheduleExpression,
  parseScheduleExpression,
} from "./index.js";

/** The error a bad expression produces; fails the test when the expression is accepted. */
function errorFor(expression: string, key?: string): ValidationError {
  const result = checkScheduleExpression(expression, key);
  if (result.ok) throw new Error(`expected ${JSON.stringify(expression)} to be rejected`);
  return result.error;
}

describe("parseScheduleExpression — cron", () => {
  it("accepts the seed's daily purge schedule and returns its six fields", () => {
    expect(parseScheduleExpression("cron(0 16 * * ? *)")).toEqual({
      kind: "cron",
      expression: "cron(0 16 * * ? *)",
      fields: { minutes: "0", hours: "16", dayOfMonth: "*", month: "*", dayOfWeek: "?", year: "*" },
    });
  });

  it.each([
    // EventBridge User Guide, cron examples table
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0/30 20-2 ? * MON-FRI *)", // backwards hour range wraps past midnight
    // EventBridge User Guide, put-rule examples
    "cron(0 12 * * ? *)",
    "cron(5,35 14 * * ? *)",
    "cron(15 10 ? * 6L 2019-2022)",
    // the L / W / # forms described in the wildcard list
    "cron(0 17 L * ? *)",
    "cron(0 9 3W * ? *)",
    "cron(0 9 15W * ? *)",
    "cron(0 21 LW * ? *)",
    "cron(0 9 ? * 3#2 *)",
    "cron(0 9 ? * FRI#2 *)",
    "cron(0 0 ? * SUN#1 *)",
    "cron(0 9 ? * L *)",
    "cron(0 9 ? * FRIL *)",
    // lists, ranges and steps in every field that allows them
    "cron(0 16 1,15 * ? *)",
    "cron(0 0 1 JAN,APR,JUL,OCT ? *)",
    "cron(0 0 1 1-12/3 ? *)",
    "cron(0 1-7/2,11-23/2 * * ? *)",
    "cron(*/5 * * * ? 2026-2030)",
    "cron(0 0 1 * ? 2026/2)",
    "cron(0 9 ? * Mon-Fri *)", // names are case-insensitive
    "cron(0 9 ? * sat,SUN *)",
    "cron(0 9 ? * FRI-MON *)", // backwards day range wraps over the weekend
    "cron(0 0 ? * 1,7 1970,2199)",
  ])("accepts %s", (expression) => {
    const schedule = parseScheduleExpression(expression);
    expect(schedule.kind).toBe("cron");
    expect(schedule.expression).toBe(expression);
  });

  it.each<[string, string, CronField | undefined]>([
    [
      "cron(0 16 * * ?)",
      "cron needs 6 fields (minutes hours day-of-month month day-of-week year), got 5 — EventBridge cron has a year field",
      undefined,
    ],
    ["cron(0 0 16 * * ? *)", "got 7 — EventBridge cron has no seconds field", undefined],
    ["cron(0 16 * * MON *)", 'day-of-month "*" and day-of-week "MON": one of them must be "?"', undefined],
    ["cron(0 16 1 * MON *)", 'day-of-month "1" and day-of-week "MON": one of them must be "?"', undefined],
    ["cron(0 16 * * * *)", 'replace day-of-week "*" with "?"', undefined],
    ["cron(0 16 ? * ? *)", 'day-of-month and day-of-week are both "?"', undefined],
    ["cron(60 0 * * ? *)", 'cron field 1 (minutes) "60": 60 is out of range 0-59', "minutes"],
    ["cron(0 24 * * ? *)", 'cron field 2 (hours) "24": 24 is out of range 0-23', "hours"],
    ["cron(0 0 32 * ? *)", 'cron field 3 (day-of-month) "32": 32 is out of range 1-31', "dayOfMonth"],
    ["cron(0 0 0 * ? *)", 'cron field 3 (day-of-month) "0": 0 is out of range 1-31', "dayOfMonth"],
    ["cron(0 0 1 13 ? *)", 'cron field 4 (month) "13": 13 is out of range 1-12 or JAN-DEC', "month"],
    ["cron(0 0 1 JANUARY ? *)", 'cron field 4 (month) "JANUARY": "JANUARY" is not a month value', "month"],
    ["cron(0 0 ? * 8 *)", 'cron field 5 (day-of-week) "8": 8 is out of range 1-7 or SUN-SAT', "dayOfWeek"],
    ["cron(0 0 ? * 0 *)", "EventBridge numbers Sunday 1, not 0", "dayOfWeek"],
    ["cron(0 0 * * ? 1969)", 'cron field 6 (year) "1969": 1969 is out of range 1970-2199', "year"],
    ["cron(0 0 * * ? 2200)", 'cron field 6 (year) "2200": 2200 is out of range 1970-2199', "year"],
    ["cron(0 0-60 * * ? *)", 'cron field 2 (hours) "0-60": 60 is out of range 0-23', "hours"],
    ["cron(*/0 * * * ? *)", 'cron field 1 (minutes) "*/0": step 0', "minutes"],
    ["cron(0 */x * * ? *)", 'cron field 2 (hours) "*/x"', "hours"],
    [
      "cron(0 0 * * ? 2030-2020)",
      'cron field 6 (year) "2030-2020": year range "2030-2020" runs backwards',
      "year",
    ],
    ["cron(L 0 * * ? *)", 'cron field 1 (minutes) "L": "L" is not allowed in minutes', "minutes"],
    [
      "cron(? 0 * * ? *)",
      'cron field 1 (minutes) "?": "?" is only allowed in day-of-month and day-of-week',
      "minutes",
    ],
    ["cron(0 0 * * ? ?)", 'cron field 6 (year) "?"', "year"],
    [
      "cron(0 0 1W,15 * ? *)",
      'cron field 3 (day-of-month) "1W,15": "L" and "W" must stand alone',
      "dayOfMonth",
    ],
    [
      "cron(0 0 1-15W * ? *)",
      'cron field 3 (day-of-month) "1-15W": "W" takes a single day, not a range',
      "dayOfMonth",
    ],
    [
      "cron(0 0 32W * ? *)",
      'cron field 3 (day-of-month) "32W": 32W: day 32 is out of range 1-31',
      "dayOfMonth",
    ],
    [
      "cron(0 0 5L * ? *)",
      'cron field 3 (day-of-month) "5L": "nL" (last such weekday) belongs in day-of-week',
      "dayOfMonth",
    ],
    ["cron(0 0 l * ? *)", 'cron field 3 (day-of-month) "l": "l" must be uppercase "L"', "dayOfMonth"],
    [
      "cron(0 0 ? * 6#6 *)",
      'cron field 5 (day-of-week) "6#6": "#6": the week of the month after "#" must be 1-5',
      "dayOfWeek",
    ],
    ["cron(0 0 ? * 6#0 *)", 'cron field 5 (day-of-week) "6#0"', "dayOfWeek"],
    ["cron(0 0 ? * 8#2 *)", 'cron field 5 (day-of-week) "8#2": 8 is out of range 1-7', "dayOfWeek"],
    [
      "cron(0 0 ? * 3#1,6#3 *)",
      'cron field 5 (day-of-week) "3#1,6#3": "#" allows only one expression',
      "dayOfWeek",
    ],
    [
      "cron(0 0 ? * 1/2 *)",
      'cron field 5 (day-of-week) "1/2": "/" is not allowed in day-of-week',
      "dayOfWeek",
    ],
    [
      "cron(0 0 ? * MON,L *)",
      'cron field 5 (day-of-week) "MON,L": "L" allows only one expression',
      "dayOfWeek",
    ],
    ["cron(0 0 1,,2 * ? *)", 'cron field 3 (day-of-month) "1,,2": empty value in the list', "dayOfMonth"],
    ["cron(0 0 *,1 * ? *)", 'cron field 3 (day-of-month) "*,1": "*" means every value', "dayOfMonth"],
    ["cron(0 1-2-3 * * ? *)", 'cron field 2 (hours) "1-2-3": "1-2-3" is not a range', "hours"],
  ])("rejects %s, naming where", (expression, expected, cronField) => {
    const error = errorFor(expression);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe("CONFIG.INVALID_SCHEDULE");
    expect(error.field).toBe("schedule");
    expect(error.message).toContain(expected);
    expect(error.message).toContain(JSON.stringify(expression));
    expect(error.details.cronField).toBe(cronField);
  });
});

describe("parseScheduleExpression — rate", () => {
  it.each<[string, number, "minute" | "hour" | "day", number]>([
    ["rate(1 minute)", 1, "minute", 60_000],
    ["rate(5 minutes)", 5, "minute", 300_000],
    ["rate(1 hour)", 1, "hour", 3_600_000],
    ["rate(2 hours)", 2, "hour", 7_200_000],
    ["rate(1 day)", 1, "day", 86_400_000],
    ["rate(7 days)", 7, "day", 604_800_000],
  ])("accepts %s as every %i %s", (expression, value, unit, everyMs) => {
    expect(parseScheduleExpression(expression)).toEqual({ kind: "rate", expression, value, unit, everyMs });
  });

  it.each([
    ["rate(0 minutes)", "rate value 0 is not positive: the shortest rate is rate(1 minute)"],
    ["rate(1 minutes)", 'rate unit "minutes" must be singular when the value is 1: rate(1 minute)'],
    ["rate(1 hours)", 'rate unit "hours" must be singular when the value is 1: rate(1 hour)'],
    ["rate(5 minute)", 'rate unit "minute" must be plural when the value is 5: rate(5 minutes)'],
    ["rate(-1 hours)", 'rate value "-1" must be a positive whole number'],
    ["rate(1.5 hours)", 'rate value "1.5" must be a positive whole number'],
    ["rate(05 minutes)", 'rate value "05" must be a positive whole number'],
    ["rate(30 seconds)", 'rate unit "seconds" is not one of minute, minutes, hour, hours, day, days'],
    ["rate(2 weeks)", 'rate unit "weeks" is not one of'],
    ["rate(5 Minutes)", 'rate unit "Minutes" must be lowercase: rate(5 minutes)'],
    ["rate(5minutes)", "rate needs a value and a unit separated by one space"],
    ["rate(5  minutes)", "rate needs a value and a unit separated by one space"],
    ["rate(99999999999999999999 days)", "too large"],
  ])("rejects %s", (expression, expected) => {
    const error = errorFor(expression);
    expect(error.code).toBe("CONFIG.INVALID_SCHEDULE");
    expect(error.message).toContain(expected);
    expect(error.message).toContain(JSON.stringify(expression));
  });
});

describe("parseScheduleExpression — at (EventBridge Scheduler one-time)", () => {
  it("accepts a real date and time, including 29 February of a leap year", () => {
    expect(parseScheduleExpression("at(2026-03-11T10:21:00)")).toEqual({
      kind: "at",
      expression: "at(2026-03-11T10:21:00)",
      at: "2026-03-11T10:21:00",
    });
    expect(parseScheduleExpression("at(2028-02-29T23:59:59)").kind).toBe("at");
  });

  it.each([
    ["at(2026-02-30T00:00:00)", "at date 2026-02-30: FEB 2026 has 28 days, so day 30 does not exist"],
    ["at(2100-02-29T00:00:00)", "FEB 2100 has 28 days"],
    ["at(2026-04-31T00:00:00)", "APR 2026 has 30 days"],
    ["at(2026-13-01T00:00:00)", "month 13 is out of range 01-12"],
    ["at(2026-03-11T24:00:00)", "hour 24 is out of range 00-23"],
    ["at(2026-03-11T10:60:00)", "minute 60 is out of range 00-59"],
    ["at(2026-03-11T10:21:60)", "second 60 is out of range 00-59"],
    ["at(2026-03-11T10:21:00Z)", "with no time zone suffix"],
    ["at(2026-03-11 10:21:00)", 'at time "2026-03-11 10:21:00" must be written yyyy-mm-ddThh:mm:ss'],
    ["at(2026-03-11T10:21)", "must be written yyyy-mm-ddThh:mm:ss"],
  ])("rejects %s", (expression, expected) => {
    const error = errorFor(expression);
    expect(error.message).toContain(expected);
    expect(error.message).toContain(JSON.stringify(expression));
  });
});

describe("parseScheduleExpression — the expression as a whole", () => {
  it.each([
    ["", "is empty"],
    [" cron(0 16 * * ? *)", "has leading or trailing whitespace: remove it, e.g. cron(0 16 * * ? *)"],
    ["cron(0 16 * * ? *)\n", "has leading or trailing whitespace"],
    ["CRON(0 16 * * ? *)", '"CRON(" must be written in lowercase, as AWS documents it: cron('],
    ["Rate(5 minutes)", '"Rate(" must be written in lowercase'],
    ["cron (0 16 * * ? *)", 'no space is allowed between "cron" and "("'],
    ["cron 0 16 * * ? *", "missing parentheses: write cron(0 16 * * ? *)"],
    [
      "0 16 * * ? *",
      "missing the cron(...) wrapper: EventBridge expects cron(<6 fields>), e.g. cron(0 16 * * ? *)",
    ],
    ["5 minutes", "missing the rate(...) wrapper: write rate(5 minutes)"],
    ["cron(0 16 * * ? *", 'cron(...) is missing its closing ")"'],
    ["every(5 minutes)", '"every(" is not a schedule type'],
    ["cron(0  16 * * ? *)", "cron fields must be separated by single spaces"],
    ["cron( 0 16 * * ? * )", "no spaces inside the parentheses: cron(0 16 * * ? *)"],
    ["cron(0\t16 * * ? *)", "cron fields must be separated by single spaces"],
    ["@daily", "not a schedule expression"],
  ])("rejects %j", (expression, expected) => {
    expect(errorFor(expression).message).toContain(expected);
  });

  it("reports under the config key it is given, and defaults to `schedule`", () => {
    const error = errorFor("rate(1 minutes)", "purge.schedule");
    expect(error.field).toBe("purge.schedule");
    expect(error.message.startsWith("purge.schedule: ")).toBe(true);
    expect(error.details.expression).toBe("rate(1 minutes)");
    expect(errorFor("rate(1 minutes)").message.startsWith("schedule: ")).toBe(true);
  });

  it("throws from parse and returns a value from check", () => {
    expect(() => parseScheduleExpression("cron(0 16 * * ?)")).toThrow(ValidationError);
    const ok = checkScheduleExpression("rate(1 day)");
    expect(ok).toEqual({ ok: true, schedule: parseScheduleExpression("rate(1 day)") });
  });

  it("rejects a value that is not a string (config read from YAML can be anything)", () => {
    const error = errorFor(5 as unknown as string);
    expect(error.message).toContain("must be a string like cron(0 16 * * ? *), got number");
  });
});

// ---------------------------------------------------------------------------------------------------
// Property tests

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}
const BOUNDS: Readonly<Record<CronField, Bounds>> = {
  minutes: { min: 0, max: 59 },
  hours: { min: 0, max: 23 },
  dayOfMonth: { min: 1, max: 31 },
  month: {
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  dayOfWeek: { min: 1, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
  year: { min: 1970, max: 2199 },
};

/** A single value, as a number or (where the field has names) a name in random letter case. */
function valueArb({ min, max, names }: Bounds): fc.Arbitrary<string> {
  const number = fc.integer({ min, max }).map(String);
  if (names === undefined) return number;
  const name = fc
    .tuple(fc.constantFrom(...names), fc.boolean())
    .map(([n, lower]) => (lower ? n.toLowerCase() : n));
  return fc.oneof(number, name);
}

function listArb(field: CronField): fc.Arbitrary<string> {
  const bounds = BOUNDS[field];
  const value = valueArb(bounds);
  const range =
    field === "year"
      ? fc
          .tuple(
            fc.integer({ min: bounds.min, max: bounds.max }),
            fc.integer({ min: bounds.min, max: bounds.max }),
          )
          .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`)
      : fc.tuple(value, value).map(([a, b]) => `${a}-${b}`);
  const plain = fc.oneof(value, range);
  const step = fc
    .tuple(fc.oneof(fc.constant("*"), plain), fc.integer({ min: 1, max: bounds.max - bounds.min + 1 }))
    .map(([base, n]) => `${base}/${n}`);
  const item = field === "dayOfWeek" ? plain : fc.oneof(plain, step);
  return fc.oneof(
    fc.constant("*"),
    fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => items.join(",")),
  );
}

const dayOfMonthArb = fc.oneof(
  listArb("dayOfMonth"),
  fc.constantFrom("L", "LW"),
  fc.integer({ min: 1, max: 31 }).map((d) => `${d}W`),
);
const dayOfWeekArb = fc.oneof(
  listArb("dayOfWeek"),
  fc.constant("L"),
  valueArb(BOUNDS.dayOfWeek).map((d) => `${d}L`),
  fc.tuple(valueArb(BOUNDS.dayOfWeek), fc.integer({ min: 1, max: 5 })).map(([d, k]) => `${d}#${k}`),
);

/** Valid fields: exactly one of the two day fields is "?". */
const validFieldsArb: fc.Arbitrary<Record<CronField, string>> = fc
  .tuple(
    listArb("minutes"),
    listArb("hours"),
    fc.oneof(
      dayOfMonthArb.map((d) => [d, "?"] as const),
      dayOfWeekArb.map((w) => ["?", w] as const),
    ),
    listArb("month"),
    listArb("year"),
  )
  .map(([minutes, hours, [dayOfMonth, dayOfWeek], month, year]) => ({
    minutes,
    hours,
    dayOfMonth,
    month,
    dayOfWeek,
    year,
  }));

const toExpression = (fields: Record<CronField, string>): string =>
  `cron(${CRON_FIELDS.map((field) => fields[field]).join(" ")})`;

function outOfRangeArb(field: CronField): fc.Arbitrary<number> {
  const { min, max } = BOUNDS[field];
  const below = min > 0 ? [fc.integer({ min: 0, max: min - 1 })] : [];
  return fc.oneof(...below, fc.integer({ min: max + 1, max: max + 5000 }));
}

describe("cron properties", () => {
  it("any expression assembled from valid fields parses and round-trips its fields", () => {
    fc.assert(
      fc.property(validFieldsArb, (fields) => {
        const schedule = parseScheduleExpression(toExpression(fields));
        expect(schedule).toEqual({ kind: "cron", expression: toExpression(fields), fields });
      }),
      { numRuns: 300 },
    );
  });

  it("replacing any one field by an out-of-range number fails naming that field", () => {
    const caseArb = fc
      .tuple(validFieldsArb, fc.constantFrom(...CRON_FIELDS))
      .chain(([fields, field]) => outOfRangeArb(field).map((n) => ({ fields, field, n })));
    fc.assert(
      fc.property(caseArb, ({ fields, field, n }) => {
        const broken = toExpression({ ...fields, [field]: String(n) });
        const error = errorFor(broken);
        const position = CRON_FIELDS.indexOf(field) + 1;
        expect(error.details.cronField).toBe(field);
        expect(error.message).toContain(
          `cron field ${position} (${CRON_FIELD_LABELS[field]}) "${n}": ${n} is out of range`,
        );
      }),
      { numRuns: 300 },
    );
  });
});
