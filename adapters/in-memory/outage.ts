/**
 * Lets a test take an in-memory store "down": while an error is set, every call throws it, the way a
 * stopped service or a network failure would.
 */
export class Outage {
  private error: Error | undefined;

  /** Every call fails with `error` until `end()` (default: a connection-refused error). */
  begin(error: Error = Object.assign(new Error("connect ECONNREFUSED"), { name: "ECONNREFUSED" })): void {
    this.error = error;
  }

  end(): void {
    this.error = undefined;
  }

  check(): void {
    if (this.error) throw this.error;
  }
}
