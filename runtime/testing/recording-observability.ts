import type { LogAttributes, Observability } from "../observability.js";

export interface LogLine {
  readonly level: "info" | "warn" | "error";
  readonly message: string;
  readonly attributes: LogAttributes;
}

/** Observability that keeps what a handler logged and counted, for assertions. */
export class RecordingObservability implements Observability {
  readonly lines: LogLine[] = [];
  readonly counters = new Map<string, number>();
  published = 0;
  invocations: ({ awsRequestId?: string } | undefined)[] = [];

  readonly log = {
    info: (message: string, attributes: LogAttributes = {}) =>
      this.lines.push({ level: "info", message, attributes }),
    warn: (message: string, attributes: LogAttributes = {}) =>
      this.lines.push({ level: "warn", message, attributes }),
    error: (message: string, attributes: LogAttributes = {}) =>
      this.lines.push({ level: "error", message, attributes }),
  };

  readonly metrics = {
    count: (name: string, value = 1) => this.counters.set(name, (this.counters.get(name) ?? 0) + value),
    publish: () => {
      this.published += 1;
    },
  };

  startInvocation(context?: { awsRequestId?: string }): void {
    this.invocations.push(context);
  }

  /** Everything logged, as one string: to assert that no PII reached the logs. */
  text(): string {
    return JSON.stringify(this.lines);
  }
}
