/**
 * Everything a benchmark starts (local stand-ins, child processes) is registered here and stopped by its
 * own handle (by PID), in reverse order, when the scenario ends, fails, or the run is interrupted.
 */

export interface Stoppable {
  readonly name: string;
  readonly pid?: number;
  stop(): Promise<void>;
}

export class Cleanup {
  private readonly items: Stoppable[] = [];

  /** Registers `item` and returns it, so `const db = cleanup.add(await startMariaDb())` reads naturally. */
  add<T extends Stoppable>(item: T): T {
    this.items.push(item);
    return item;
  }

  /** A function to run at the end (closing a pool, removing a temp dir). */
  defer(name: string, stop: () => Promise<void> | void): void {
    this.items.push({ name, stop: async () => stop() });
  }

  /** Stops everything registered, newest first; a failure to stop one does not keep the others running. */
  async run(): Promise<void> {
    while (this.items.length > 0) {
      const item = this.items.pop() as Stoppable;
      try {
        await item.stop();
      } catch (error) {
        console.error(`bench: could not stop ${item.name}${item.pid ? ` (pid ${item.pid})` : ""}:`, error);
      }
    }
  }
}

/** Thrown when a benchmark cannot run at all (a missing server, a failed build): the run exits non-zero. */
export class BenchSetupError extends Error {
  override name = "BenchSetupError";
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
