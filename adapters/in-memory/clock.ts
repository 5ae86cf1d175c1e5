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
