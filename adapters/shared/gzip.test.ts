import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { gzipLines } from "./gzip.js";

describe("gzipLines", () => {
  it("gzips the lines as if they were one text, across many batches", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `{"n":${i},"name":"user ${i} ✓"}\n`);
    const zipped = await gzipLines(lines);
    expect(gunzipSync(zipped).toString("utf8")).toBe(lines.join(""));
  });

  it("gives an empty text for no lines", async () => {
    expect(gunzipSync(await gzipLines([])).toString("utf8")).toBe("");
  });

  it("passes on an error thrown while the lines are made", async () => {
    function* failing(): Generator<string> {
      yield "first\n";
      throw new Error("line 2 is malformed");
    }
    await expect(gzipLines(failing())).rejects.toThrow("line 2 is malformed");
  });
});
