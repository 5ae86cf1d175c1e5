import { describe, expect, it } from "vitest";
import { QuotaDeadlineError } from "../../core/errors.js";
import { callDeadline, deadlineBoundStep, withCallDeadline } from "./call-deadline.js";

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

describe("call deadlines", () => {
  it("travel with the work, the earlier one winning inside another, and not beyond it", async () => {
    expect(callDeadline()).toBeUndefined();
    const seen = await withCallDeadline(at(5000), async () => {
      await Promise.resolve();
      const outer = callDeadline();
      const later = await withCallDeadline(at(9000), async () => callDeadline());
      const earlier = await withCallDeadline(at(1000), async () => callDeadline());
      return { outer, later, earlier };
    });
    expect(seen).toEqual({ outer: at(5000), later: at(5000), earlier: at(1000) });
    expect(callDeadline()).toBeUndefined();
  });

  it("keep two runs at once apart", async () => {
    const run = (deadline: Date) =>
      withCallDeadline(deadline, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return callDeadline();
      });
    expect(await Promise.all([run(at(1)), run(at(2))])).toEqual([at(1), at(2)]);
  });

  it("are passed down by a bound step, whose throttling at the deadline becomes a yield", async () => {
    const state = { cursor: "page-7", done: 3 };
    const seen: (Date | undefined)[] = [];
    const throttled = deadlineBoundStep<typeof state>(async () => {
      seen.push(callDeadline());
      throw new QuotaDeadlineError("ListUsers", 60_000);
    });
    expect(await throttled(state, at(900_000))).toEqual({ state, done: false });
    expect(seen).toEqual([at(900_000)]);
    const broken = deadlineBoundStep<typeof state>(async () => {
      throw new Error("S3 is down");
    });
    await expect(broken(state, at(900_000))).rejects.toThrow("S3 is down");
  });
});
