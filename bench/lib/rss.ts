/** Memory figures of the current process. */
import { readFileSync, writeFileSync } from "node:fs";

/**
 * Peak resident set size of this process since it started, in bytes. `process.resourceUsage().maxRSS` is in
 * kilobytes (getrusage's ru_maxrss): it is the kernel's own high-water mark, so no peak between two samples
 * is missed. Measure in a child process so that other work does not raise it.
 */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Samples `process.memoryUsage.rss()` every `intervalMs` and keeps the highest value seen, in bytes. */
export class RssSampler {
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > this.peak) this.peak = rss;
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops sampling and returns the peak seen, including one last sample. */
  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.peak, process.memoryUsage.rss());
  }
}

const STATUS = "/proc/self/status";

/**
 * The process's peak RSS since the last {@link resetHighWaterMark}, in bytes: the kernel's `VmHWM` (Linux), or
 * the process's peak since it started elsewhere.
 */
export function highWaterMark(): number {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(STATUS, "utf8"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return peakRssBytes();
}

/**
 * A full GC (when node runs with `--expose-gc`), then the kernel's high-water mark set back to the current RSS
 * (`5` written to /proc/self/clear_refs), so that {@link highWaterMark} tells the peak of what follows.
 */
export function resetHighWaterMark(): void {
  (globalThis as { gc?: () => void }).gc?.();
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // Without clear_refs (not Linux), the mark stays the process's peak so far: an upper bound.
  }
}
