import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "./clock.js";

const START = Date.parse("2026-01-01T00:00:00.000Z");

describe("VirtualClock", () => {
  it("interleaves tasks that sleep at once, each waking at its own instant", async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const task = async (name: string, sleeps: number[]) => {
      for (const ms of sleeps) {
        await clock.sleep(ms);
        log.push(`${name}@${clock.now().getTime() - START}`);
      }
    };
    await Promise.all([task("a", [100, 100, 100]), task("b", [150, 150])]);
    // At 300 both wake; b went to sleep first (at 150), so it runs first.
    expect(log).toEqual(["a@100", "b@150", "a@200", "b@300", "a@300"]);
  });

  it("does not move while a task still has work to do", async () => {
    const clock = new VirtualClock();
    const sleeper = clock.sleep(10);
    let seen = -1;
    const busy = (async () => {
      for (let i = 0; i < 1000; i++) await Promise.resolve();
      seen = clock.now().getTime() - START;
    })();
    await Promise.all([sleeper, busy]);
    expect(seen).toBe(0);
    expect(clock.now().getTime() - START).toBe(10);
  });

  it("wakes a sleep of zero, a negative or a fractional time without skipping ahead", async () => {
    const clock = new VirtualClock();
    await clock.sleep(0);
    await clock.sleep(-5);
    expect(clock.now().getTime()).toBe(START);
    await clock.sleep(0.2);
    expect(clock.now().getTime()).toBe(START + 1);
  });

  it("wakes sleepers due when advanced by hand", async () => {
    const clock = new VirtualClock();
    const woken: number[] = [];
    void clock.sleep(50).then(() => woken.push(50));
    void clock.sleep(5000).then(() => woken.push(5000));
    clock.advance(100);
    await Promise.resolve();
    expect(woken).toEqual([50]);
    expect(clock.pending).toBe(1);
    clock.advance(5000);
    await Promise.resolve();
    expect(woken).toEqual([50, 5000]);
  });

  it("wakes every sleep at start + the sum of its task's sleeps, and never goes back in time", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 8 }), {
          minLength: 1,
          maxLength: 6,
        }),
        async (tasks) => {
          const clock = new VirtualClock();
          const log: { task: number; at: number; expected: number }[] = [];
          await Promise.all(
            tasks.map(async (sleeps, task) => {
              let expected = START;
              for (const ms of sleeps) {
                await clock.sleep(ms);
                expected += ms;
                log.push({ task, at: clock.now().getTime(), expected });
              }
            }),
          );
          for (const entry of log) expect(entry.at).toBe(entry.expected);
          for (let i = 1; i < log.length; i++) {
            expect((log[i] as { at: number }).at).toBeGreaterThanOrEqual((log[i - 1] as { at: number }).at);
          }
          expect(clock.pending).toBe(0);
        },
      ),
    );
  });
});
