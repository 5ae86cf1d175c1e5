/**
 * Runs a stepped job of the `scale` scenario the way a state machine does: each step in a process of its own
 * (scale-step.worker.ts), its state handed to the next step through JSON, the world (pool, stores, clock)
 * kept in a directory between them. Crashes are injected by a seeded plan: the chosen step's process kills
 * itself mid-way, and the step runs again from the last state a step returned.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { runWorker } from "../lib/fork.js";
import { ROOT } from "../lib/machine.js";
import type { PoolShape } from "../lib/scale-world.js";
import { START } from "../lib/scale-world.js";
import type { Cleanup } from "../lib/services.js";
import {
  CRASH_FILE,
  type CrashRecord,
  REQUEST_FILE,
  type StepAnswer,
  type StepEffects,
  type StepRequest,
  type Usage,
} from "./scale-step.protocol.js";

/** One crash of the plan: in which step (1-based, counted over completed steps), and when in it. */
export interface PlannedCrash {
  readonly step: number;
  /** Virtual time into the step after which it dies (at the next port call). */
  readonly afterVirtualMs: number;
  /** Dies before a port call (the call never happened) or after it answered (it did, unrecorded). */
  readonly before: boolean;
}

/** A deterministic generator of numbers in [0, 1) from a 32-bit seed (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `count` crashes at random steps of a job whose steps (run without crashes) took `stepMs` of virtual time
 * each: distinct steps when there are enough (else some step crashes more than once, one attempt after the
 * other), each between 10% and 90% of that step's time.
 */
export function planCrashes(seed: number, count: number, stepMs: readonly number[]): PlannedCrash[] {
  const random = seededRandom(seed);
  const steps = Math.max(1, stepMs.length);
  const chosen: number[] = [];
  const pool: number[] = [];
  for (let i = 0; i < count; i += 1) {
    if (pool.length === 0) pool.push(...Array.from({ length: steps }, (_, k) => k + 1));
    const [step] = pool.splice(Math.floor(random() * pool.length), 1);
    chosen.push(step as number);
  }
  return chosen
    .sort((a, b) => a - b)
    .map((step) => ({
      step,
      afterVirtualMs: Math.round((0.1 + 0.8 * random()) * (stepMs[step - 1] ?? 0)),
      before: random() < 0.5,
    }));
}

export interface StepFigure {
  readonly step: number;
  readonly virtualMs: number;
  readonly realMs: number;
  readonly peakRssBytes: number;
  readonly fakesBytes: number;
  /** The step's own peak: the process's less the fakes' share (Node and the code included). */
  readonly ownPeakRssBytes: number;
  readonly stateBytes: number;
}

export interface CrashFigure {
  readonly step: number;
  readonly virtualMsIntoStep: number;
  readonly label: string;
}

/** A whole run: the effects of every attempt (killed ones included) summed, calls and deletions alike. */
export interface SteppedRun extends Omit<StepEffects, "startMs" | "endMs"> {
  readonly finished: boolean;
  readonly error?: string;
  readonly steps: readonly StepFigure[];
  readonly crashes: readonly CrashFigure[];
  /** Virtual time from the first step's start to the last one's end (killed attempts included). */
  readonly virtualMs: number;
  readonly finalState?: unknown;
  readonly verify?: StepAnswer["verify"];
}

export interface SteppedRunOptions {
  readonly job: "snapshot" | "purge";
  readonly shape: PoolShape;
  readonly stepBudgetMs: number;
  readonly crashes?: readonly PlannedCrash[];
  /** The bundled step worker. */
  readonly worker: string;
  readonly cleanup: Cleanup;
  readonly log?: (line: string) => void;
  /** Refuse to run more steps than this (a job that never ends). */
  readonly maxSteps?: number;
}

/** The heap limit of a step's process: a 512 MB Lambda's old generation once the rest is counted. */
export const STEP_HEAP_MB = 384;

/** Runs `job` step by step until done (or an error), each step a process; then checks a snapshot. */
export async function runStepped(options: SteppedRunOptions): Promise<SteppedRun> {
  const dir = await mkdtemp(path.join(tmpdir(), `bench-steps-${options.job}-`));
  options.cleanup.defer(`stepped ${options.job} world`, () => rm(dir, { recursive: true, force: true }));
  const pending = [...(options.crashes ?? [])];
  const steps: StepFigure[] = [];
  const crashes: CrashFigure[] = [];
  const usage: Usage = {};
  const failedCalls: Record<string, number> = {};
  let deleted = 0;
  let confirmedDeleted = 0;
  let firstDeleteMs: number | undefined;
  let lastDeleteMs: number | undefined;
  let endMs = new Date(START).getTime();
  const realStart = performance.now();
  const add = (effects: StepEffects) => {
    for (const [category, counts] of Object.entries(effects.usage)) {
      const total = (usage[category] ??= { admitted: 0, throttled: 0 });
      total.admitted += counts.admitted;
      total.throttled += counts.throttled;
    }
    for (const [operation, n] of Object.entries(effects.failedCalls)) {
      failedCalls[operation] = (failedCalls[operation] ?? 0) + n;
    }
    deleted += effects.deleted;
    confirmedDeleted = effects.confirmedDeleted;
    if (effects.firstDeleteMs !== undefined) firstDeleteMs ??= effects.firstDeleteMs;
    if (effects.lastDeleteMs !== undefined) lastDeleteMs = effects.lastDeleteMs;
    endMs = effects.endMs;
  };
  const call = async (request: StepRequest): Promise<StepAnswer> => {
    writeFileSync(path.join(dir, REQUEST_FILE), JSON.stringify(request));
    return runWorker<StepAnswer>(options.worker, [dir], options.cleanup, {
      timeoutMs: 60 * 60_000,
      execArgv: ["--expose-gc", `--max-old-space-size=${STEP_HEAP_MB}`],
      env: { NODE_PATH: path.join(ROOT, "node_modules") },
    });
  };
  const result = (extra: Partial<SteppedRun> & { finished: boolean }): SteppedRun => ({
    steps,
    crashes,
    virtualMs: endMs - new Date(START).getTime(),
    realMs: performance.now() - realStart,
    usage,
    failedCalls,
    deleted,
    confirmedDeleted,
    ...(firstDeleteMs === undefined ? {} : { firstDeleteMs }),
    ...(lastDeleteMs === undefined ? {} : { lastDeleteMs }),
    ...extra,
  });

  let state: unknown = null;
  const maxSteps = options.maxSteps ?? 10_000;
  while (steps.length < maxSteps) {
    const number = steps.length + 1;
    const crash = pending[0]?.step === number ? pending.shift() : undefined;
    const request: StepRequest = {
      job: options.job,
      shape: options.shape,
      stepBudgetMs: options.stepBudgetMs,
      state,
      ...(crash ? { crash: { afterVirtualMs: crash.afterVirtualMs, before: crash.before } } : {}),
    };
    let answer: StepAnswer;
    try {
      answer = await call(request);
    } catch (error) {
      const crashFile = path.join(dir, CRASH_FILE);
      if (crash && existsSync(crashFile)) {
        const record = JSON.parse(readFileSync(crashFile, "utf8")) as CrashRecord;
        rmSync(crashFile);
        add(record);
        crashes.push({ step: number, virtualMsIntoStep: record.endMs - record.startMs, label: record.label });
        options.log?.(
          `  step ${number} killed ${((record.endMs - record.startMs) / 60_000).toFixed(1)} min in (${record.label}); rerun from the last state`,
        );
        continue;
      }
      return result({ finished: false, error: error instanceof Error ? error.message : String(error) });
    }
    add(answer);
    steps.push({
      step: number,
      virtualMs: answer.endMs - answer.startMs,
      realMs: answer.realMs,
      peakRssBytes: answer.peakRssBytes,
      fakesBytes: answer.fakesBytes,
      ownPeakRssBytes: answer.peakRssBytes - answer.fakesBytes,
      stateBytes: answer.stateBytes,
    });
    options.log?.(
      `  step ${number}: ${((answer.endMs - answer.startMs) / 60_000).toFixed(1)} min virtual, ${(answer.realMs / 1000).toFixed(1)} s real, peak RSS ${(answer.peakRssBytes / 1048576).toFixed(0)} MiB (fakes ${(answer.fakesBytes / 1048576).toFixed(0)} MiB), state ${answer.stateBytes} B`,
    );
    state = answer.state;
    if (answer.done) {
      if (options.job !== "snapshot") return result({ finished: true, finalState: state });
      const checked = await call({
        job: "verify-snapshot",
        shape: options.shape,
        stepBudgetMs: options.stepBudgetMs,
        state,
      });
      return result({
        finished: true,
        finalState: state,
        ...(checked.verify ? { verify: checked.verify } : {}),
      });
    }
  }
  return result({ finished: false, error: `not done after ${maxSteps} steps` });
}
