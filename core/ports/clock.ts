/** Where the core gets the time from, so every rule that depends on "now" is repeatable under test. */
export interface Clock {
  /** The current instant. */
  now(): Date;
}

/** Milliseconds left before `deadline` by `clock` (negative once passed). */
export function remainingMs(clock: Clock, deadline: Date): number {
  return deadline.getTime() - clock.now().getTime();
}

/** Waiting, for polling loops (a real timer in production, an instant clock advance under test). */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
}
