import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";
import { errorOf } from "../testing/errors.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("parseDuration", () => {
  it.each([
    ["90s", 90 * S],
    ["30m", 30 * M],
    ["24h", 24 * H],
    ["1d", D],
    ["1d12h", D + 12 * H],
    ["2h30m15s", 2 * H + 30 * M + 15 * S],
    ["1s500ms", 1500],
    ["  24h ", 24 * H],
  ])("reads the compact form %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ["PT24H", 24 * H],
    ["P1D", D],
    ["P1DT12H", D + 12 * H],
    ["PT30M", 30 * M],
    ["PT90S", 90 * S],
    ["P1W", 7 * D],
  ])("reads the ISO 8601 form %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "24", "h", "1h1d", "1d1d", "1.5h", "-1h", "24 hours", "1H", "P", "PT", "P1DT", "pt24h"])(
    "refuses %j, saying what is accepted",
    (text) => {
      const error = errorOf(() => parseDuration(text, "purge.minAge"));
      expect(error.code).toBe("CONFIG.INVALID_DURATION");
      expect(error.field).toBe("purge.minAge");
      expect(error.message).toContain('"1d12h"');
      expect(error.message).toContain('"PT24H"');
    },
  );

  it.each(["P1M", "P1Y", "P1Y2M3D"])("refuses calendar units in %s and says why", (text) => {
    expect(errorOf(() => parseDuration(text)).message).toContain("years or months");
  });

  it.each(["0s", "0d0h", "PT0S", "P0D"])("refuses the zero duration %s", (text) => {
    expect(errorOf(() => parseDuration(text)).message).toContain("greater than zero");
  });

  it("refuses a duration too large to be exact", () => {
    expect(errorOf(() => parseDuration("99999999999999999999d")).message).toContain("too large");
  });

  it("names `duration` when no key is given", () => {
    expect(errorOf(() => parseDuration("soon")).field).toBe("duration");
  });

  it("refuses a non-string", () => {
    expect(errorOf(() => parseDuration(24 as unknown as string)).code).toBe("CONFIG.INVALID_DURATION");
  });
});

describe("formatDuration", () => {
  it.each([
    [D + 12 * H, "1d12h"],
    [90 * S, "1m30s"],
    [24 * H, "1d"],
    [1500, "1s500ms"],
    [0, "0s"],
  ])("formats %d as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %d", (ms) => {
    expect(errorOf(() => formatDuration(ms)).code).toBe("CONFIG.INVALID_DURATION");
  });

  it("is read back by parseDuration for every positive duration", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3650 * D }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      { numRuns: 300 },
    );
  });
});
