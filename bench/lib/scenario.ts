import type { BenchOptions } from "./args.js";
import type { Cleanup } from "./services.js";
import type { Metric } from "./table.js";

/** What a scenario gets: the options, where to register what it starts, and a progress log. */
export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly cleanup: Cleanup;
  /** A progress line on stderr (the tables go to stdout). */
  readonly log: (line: string) => void;
}

/** What a scenario reports. */
export interface ScenarioOutcome {
  /** The sizes and settings it ran with. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly metrics: readonly Metric[];
  /** What the reader needs to read the table right (smaller than the size, what the baseline is…). */
  readonly notes: readonly string[];
  /** Raw figures beyond the table, for results.json. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Scenario = (context: ScenarioContext) => Promise<ScenarioOutcome>;
