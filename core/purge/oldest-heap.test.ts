import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entryBytes, type OldestEntry, OldestHeap } from "./oldest-heap.js";

const byAge = (a: OldestEntry, b: OldestEntry) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

describe("OldestHeap", () => {
  it("keeps the oldest entries, ties by id, dropping the youngest beyond its count", () => {
    const heap = new OldestHeap({ count: 3, bytes: Number.POSITIVE_INFINITY });
    for (const [at, id] of [
      [50, "e"],
      [10, "b"],
      [40, "d"],
      [10, "a"],
      [90, "z"],
      [20, "c"],
    ] as const) {
      heap.offer(at, id);
      expect(heap.size).toBeLessThanOrEqual(3);
    }
    expect(heap.sorted()).toEqual([
      [10, "a"],
      [10, "b"],
      [20, "c"],
    ]);
  });

  it("holds an id once", () => {
    const heap = new OldestHeap({ count: 5, bytes: Number.POSITIVE_INFINITY });
    heap.offer(1, "same");
    heap.offer(1, "same");
    expect(heap.size).toBe(1);
  });

  it("drops the youngest when the entries' bytes run out, whatever the count allows", () => {
    const long = (n: number) => `${n}`.padEnd(100, "é");
    const limit = 3 * entryBytes([0, long(0)]);
    const heap = new OldestHeap({ count: 1000, bytes: limit });
    for (let i = 9; i >= 0; i -= 1) heap.offer(i, long(i));
    expect(heap.sorted().map(([at]) => at)).toEqual([0, 1, 2]);
    // Each entry's share counts its separator; the array adds its brackets and drops one separator.
    expect(Buffer.byteLength(JSON.stringify(heap.toJSON()), "utf8")).toBeLessThanOrEqual(limit + 1);
  });

  it("comes back from its JSON the same", () => {
    const heap = new OldestHeap({ count: 4, bytes: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 10; i += 1) heap.offer((i * 7) % 10, `u${i}`);
    const again = OldestHeap.from(JSON.parse(JSON.stringify(heap.toJSON())) as OldestEntry[], {
      count: 4,
      bytes: Number.POSITIVE_INFINITY,
    });
    expect(again.sorted()).toEqual(heap.sorted());
  });

  it("holds exactly the `count` oldest of any stream, never more at any time (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.string({ minLength: 1, maxLength: 6 })),
          {
            selector: ([, id]) => id,
            maxLength: 200,
          },
        ),
        fc.integer({ min: 0, max: 30 }),
        (entries, count) => {
          const heap = new OldestHeap({ count, bytes: Number.POSITIVE_INFINITY });
          for (const [at, id] of entries) {
            heap.offer(at, id);
            expect(heap.size).toBeLessThanOrEqual(count);
          }
          expect(heap.sorted()).toEqual([...entries].sort(byAge).slice(0, count));
        },
      ),
      { numRuns: 200 },
    );
  });
});
