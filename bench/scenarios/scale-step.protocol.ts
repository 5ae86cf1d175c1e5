/** What the `scale` scenario and its step worker (scale-step.worker.ts) pass each other. */
import type { ReconcileCounts } from "../../core/use-cases/reconcile-page.js";
import type { SnapshotCheck } from "../lib/generated-sinks.js";
import type { PoolShape } from "../lib/scale-world.js";

export type SteppedJob = "snapshot" | "purge" | "verify-snapshot";

export interface StepRequest {
  readonly job: SteppedJob;
  readonly shape: PoolShape;
  /** The step's deadline is this long after it starts. */
  readonly stepBudgetMs: number;
  /** The state the step carries on from; `null` for the job's first. */
  readonly state: unknown;
  /** Kill this step mid-way. */
  readonly crash?: { readonly afterVirtualMs: number; readonly before: boolean };
}

export type Usage = Record<string, { admitted: number; throttled: number }>;

/** What a step did to the world besides its state (for the run's totals). */
export interface StepEffects {
  /** Virtual time at the start and end of the step (ms since the epoch). */
  readonly startMs: number;
  readonly endMs: number;
  readonly realMs: number;
  readonly usage: Usage;
  readonly failedCalls: Record<string, number>;
  readonly deleted: number;
  /** Confirmed users the pool lost so far (the whole run's, not the step's). */
  readonly confirmedDeleted: number;
  readonly firstDeleteMs?: number;
  readonly lastDeleteMs?: number;
}

export interface StepAnswer extends StepEffects {
  readonly state: unknown;
  readonly done: boolean;
  /** Bytes of the state as JSON. */
  readonly stateBytes: number;
  /** RSS after a full GC, before the world was loaded: Node and the code. */
  readonly baseRssBytes: number;
  /** RSS the loaded world added (after a full GC): the fakes' share. */
  readonly fakesBytes: number;
  /** The process's peak RSS during the step (VmHWM, reset just before it). */
  readonly peakRssBytes: number;
  readonly verify?: SnapshotCheck & {
    readonly memberships: number;
    readonly skipped: number;
    readonly partitionRestarts: number;
    readonly backupGets: number;
    readonly profileBatchReads: number;
    /** Reconcile's counts as the snapshot's report sums them over its steps (zeros without reconcile). */
    readonly reconcile: ReconcileCounts;
    /** Profile store calls: digests recorded (recordBackupDigest) and profiles created (put if absent). */
    readonly digestCalls: number;
    readonly profileCreates: number;
    readonly partRepeats: number;
    readonly partReplacements: number;
  };
}

/** Written by a step that kills itself, just before: where it died and what it had done. */
export interface CrashRecord extends StepEffects {
  readonly label: string;
}

export const CRASH_FILE = "crash.json";
export const REQUEST_FILE = "request.json";
