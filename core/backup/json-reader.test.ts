import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIsoDateTime } from "./json-reader.js";

describe("parseIsoDateTime — the toISOString form", () => {
  it("reads what toISOString writes as the general reader does (same instant with microseconds)", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date("0000-01-01T00:00:00.000Z"),
          max: new Date("9999-12-31T23:59:59.999Z"),
          noInvalidDate: true,
        }),
        (date) => {
          const text = date.toISOString();
          expect(parseIsoDateTime(text)?.getTime()).toBe(date.getTime());
          expect(parseIsoDateTime(text.replace("Z", "000Z"))?.getTime()).toBe(date.getTime());
        },
      ),
    );
  });

  it.each([
    "2026-02-29T00:00:00.000Z",
    "2100-02-29T00:00:00.000Z",
    "2026-04-31T00:00:00.000Z",
    "2026-13-01T00:00:00.000Z",
    "2026-00-10T00:00:00.000Z",
    "2026-01-00T00:00:00.000Z",
    "2026-01-01T24:00:00.000Z",
    "2026-01-01T23:60:00.000Z",
    "2026-01-01T23:59:60.000Z",
    "2026-01-01T00:00:00.000z",
    "2026-01-01 00:00:00.000Z",
  ])("refuses %s", (text) => {
    expect(parseIsoDateTime(text)).toBeUndefined();
  });

  it("reads leap days and years below 100", () => {
    expect(parseIsoDateTime("2024-02-29T12:00:00.000Z")?.toISOString()).toBe("2024-02-29T12:00:00.000Z");
    expect(parseIsoDateTime("0099-12-31T23:59:59.999Z")?.toISOString()).toBe("0099-12-31T23:59:59.999Z");
  });
});
