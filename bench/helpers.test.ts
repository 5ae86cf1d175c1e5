import { describe, expect, it } from "vitest";
import { DEFAULTS, parseArgs, parseOnly, wholeNumber } from "./lib/args.js";
import { percentile, ratio, summarize } from "./lib/stats.js";
import {
  formatBytes,
  formatMs,
  formatRatio,
  metricRatio,
  metricRow,
  renderRows,
  renderTable,
} from "./lib/table.js";

describe("percentile (nearest rank)", () => {
  const samples = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100, shuffled below

  it("gives a sample that really happened, whatever the input order", () => {
    const shuffled = [...samples].reverse();
    expect(percentile(shuffled, 50)).toBe(50);
    expect(percentile(shuffled, 99)).toBe(99);
    expect(percentile(shuffled, 100)).toBe(100);
    expect(percentile(shuffled, 0)).toBe(1);
  });

  it("takes the largest sample as p99 of a small set", () => {
    expect(percentile([3, 1, 2], 99)).toBe(3);
    expect(percentile([7], 50)).toBe(7);
  });

  it("is NaN without samples and refuses a percentile outside 0–100", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it("summarizes count, p50, p99, max and mean", () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ count: 4, p50: 2, p99: 4, max: 4, mean: 2.5 });
    expect(summarize([]).count).toBe(0);
  });
});

describe("ratios and formatting", () => {
  it("computes ours / baseline only between two finite numbers", () => {
    expect(ratio(5, 4)).toBe(1.25);
    expect(ratio(5, 0)).toBeUndefined();
    expect(ratio(undefined, 4)).toBeUndefined();
    expect(metricRatio({ measure: "m", unit: "ms", ours: 3, baseline: "failed" })).toBeUndefined();
  });

  it("formats figures by size and unit", () => {
    expect(formatMs(0.5)).toBe("0.50 ms");
    expect(formatMs(12.34)).toBe("12.3 ms");
    expect(formatMs(1234.4)).toBe("1,234 ms");
    expect(formatMs(12_345)).toBe("12.3 s");
    expect(formatMs(Number.NaN)).toBe("—");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MiB");
    expect(formatRatio(1.234)).toBe("1.23x");
    expect(formatRatio(1561.2)).toBe("1561x");
    expect(formatRatio(undefined)).toBe("—");
  });

  it("turns a metric into a row with its ratio and whether the target was met", () => {
    const row = metricRow({
      measure: "total time",
      unit: "ms",
      ours: 1500,
      baseline: 1000,
      target: "<= 1.25x",
      met: false,
    });
    expect(row).toEqual({
      measure: "total time",
      ours: "1,500 ms",
      baseline: "1,000 ms",
      ratio: "1.50x",
      target: "<= 1.25x",
      met: false,
    });
    expect(renderRows([row])).toContain("NO");
  });

  it("pads columns: text left, figures right", () => {
    const table = renderTable(
      ["a", "figure"],
      [
        ["long name", "1"],
        ["x", "22"],
      ],
    );
    expect(table.split("\n")).toEqual([
      "a          figure",
      "---------  ------",
      "long name       1",
      "x              22",
    ]);
  });
});

describe("arguments", () => {
  it("uses the defaults and runs every scenario but the scale runs by default", () => {
    const options = parseArgs([], { exitOverride: true });
    expect(options.rows).toBe(DEFAULTS.rows);
    expect(options.only).toEqual([
      "accounts-purge",
      "identity-purge",
      "restore-csv",
      "backup-reads",
      "post-confirmation",
    ]);
    expect(options.baselineCapSeconds).toBe(DEFAULTS.baselineCapSeconds);
  });

  it("runs the scale scenario when asked, at the size asked", () => {
    const options = parseArgs(["--only", "5", "--scale-users", "10,000,000"], { exitOverride: true });
    expect(options.only).toEqual(["scale"]);
    expect(options.scaleUsers).toBe(10_000_000);
    expect(options.scalePurgeUsers).toBe(DEFAULTS.scalePurgeUsers);
    expect(() => parseArgs(["--scale-purge-users", "40,000,001"], { exitOverride: true })).toThrow(
      /--scale-purge-users must be a whole number from 1,000 to 40,000,000/,
    );
  });

  it("accepts sizes with thousands separators", () => {
    expect(parseArgs(["--rows", "2,000,000", "--users", "3_000"], { exitOverride: true })).toMatchObject({
      rows: 2_000_000,
      users: 3_000,
    });
  });

  it.each([["abc"], ["-5"], ["1.5"], ["0"], ["99999999999"]])(
    "rejects --rows %s naming the flag and its range",
    (value) => {
      expect(() => parseArgs(["--rows", value], { exitOverride: true })).toThrow(
        /--rows must be a whole number from 1,000 to 20,000,000/,
      );
    },
  );

  it("rejects a delete rate above Cognito's quota", () => {
    expect(() => wholeNumber("--delete-rate", 1, 25)("26")).toThrow(
      /--delete-rate must be a whole number from 1 to 25, got "26"/,
    );
  });

  it("reads --only as ids or numbers, 3 meaning 3a and 3b, in run order", () => {
    expect(parseOnly("4,1")).toEqual(["accounts-purge", "post-confirmation"]);
    expect(parseOnly("3")).toEqual(["restore-csv", "backup-reads"]);
    expect(parseOnly("identity-purge, 3b")).toEqual(["identity-purge", "backup-reads"]);
    expect(() => parseOnly("9")).toThrow(/unknown scenario "9"\. Known: 1 accounts-purge/);
    expect(() => parseArgs(["--only", ""], { exitOverride: true })).toThrow(
      /--only needs at least one scenario/,
    );
  });
});
