import { performance } from "node:perf_hooks";
import type { Clock, Sleeper } from "../../core/ports/clock.js";

/**
 * The process's clock, for adapters that pace or time out calls. It reads the monotonic timer from a fixed
 * origin rather than the wall clock, so an NTP step cannot make a rate limiter admit a burst or stall.
 */
export const systemClock: Clock = {
  now: () => new Date(performance.timeOrigin + performance.now()),
};

/** Waits on a real timer. */
export const timerSleeper: Sleeper = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
