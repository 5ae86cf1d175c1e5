import type { Clock, Sleeper } from "../../core/ports/clock.js";

/** A clock that moves only when told to; sleeping moves it at once. */
export class ManualClock implements Clock, Sleeper {
  private current: number;

  constructor(start: Date | string = "2026-01-01T00:00:00.000Z") {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(instant: Date | string): void {
    this.current = new Date(instant).getTime();
  }

  async sleep(ms: number): Promise<void> {
    this.advance(ms);
  }
}

/** A clock that also advances by `stepMs` every time it is read: simulates work taking time. */
export class SteppingClock extends ManualClock {
  constructor(
    start: Date | string,
    private readonly stepMs: number,
  ) {
    super(start);
  }

  override now(): Date {
    const now = super.now();
    this.advance(this.stepMs);
    return now;
  }
}

interface PendingSleep {
  readonly at: number;
  readonly order: number;
  readonly wake: () => void;
}

/**
 * Discrete-event virtual time, for several tasks running at once (two jobs sharing a quota). `sleep(ms)`
 * resolves when virtual time reaches its wake-up instant, and time moves only when every task is waiting:
 * once no promise callback is left to run and no sleep was started for a whole turn of the event loop, the
 * clock jumps to the earliest pending wake-up and wakes every sleeper due then, in the order they went to
 * sleep. Tasks therefore interleave as they would in real time, and an hour of pacing takes milliseconds.
 *
 * Wake-ups are whole milliseconds (a sleep is rounded up), as `Date` is. A task waiting on real I/O is not
 * waited for beyond one event-loop turn: keep the tasks on in-memory fakes. {@link ManualClock} stays the
 * clock for one task at a time, where sleeping may simply move the time.
 */
export class VirtualClock implements Clock, Sleeper {
  private current: number;
  /** Pending sleeps, by wake-up instant then by arrival. */
  private readonly sleepers: PendingSleep[] = [];
  private arrivals = 0;
  /** Bumped whenever a task starts a sleep or is woken: the clock moves only after a turn without either. */
  private activity = 0;
  private checkPending = false;

  constructor(start: Date | string = "2026-01-01T00:00:00.000Z") {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Sleeps not yet woken (for tests of the clock itself). */
  get pending(): number {
    return this.sleepers.length;
  }

  sleep(ms: number): Promise<void> {
    const wait = Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : 0;
    return new Promise<void>((wake) => {
      const sleeper: PendingSleep = { at: this.current + wait, order: this.arrivals++, wake };
      this.sleepers.splice(this.insertionIndex(sleeper), 0, sleeper);
      this.activity += 1;
      this.scheduleCheck();
    });
  }

  /** Moves the time forward by `ms` at once, waking every sleeper due by then (a test's outside event). */
  advance(ms: number): void {
    this.current += Math.max(0, ms);
    this.wakeDue();
  }

  private insertionIndex(sleeper: PendingSleep): number {
    let low = 0;
    let high = this.sleepers.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.sleepers[mid] as PendingSleep;
      if (other.at < sleeper.at || (other.at === sleeper.at && other.order < sleeper.order)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private scheduleCheck(): void {
    if (this.checkPending) return;
    this.checkPending = true;
    const seen = this.activity;
    // setImmediate runs after every pending promise callback (microtasks drain between macrotasks).
    setImmediate(() => {
      this.checkPending = false;
      if (this.activity !== seen) {
        this.scheduleCheck();
        return;
      }
      const next = this.sleepers[0];
      if (!next) return;
      this.current = Math.max(this.current, next.at);
      this.wakeDue();
    });
  }

  private wakeDue(): void {
    let woken = 0;
    while (this.sleepers.length > 0 && (this.sleepers[0] as PendingSleep).at <= this.current) {
      (this.sleepers.shift() as PendingSleep).wake();
      woken += 1;
    }
    if (woken > 0) this.activity += 1;
    if (this.sleepers.length > 0) this.scheduleCheck();
  }
}
