/** Memory figures of the current process. */

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
