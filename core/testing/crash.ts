/**
 * Crash injection for durable steps: kills a job at a chosen effect boundary, the way a Lambda timeout, an
 * out-of-memory or a deploy kills it, then runs it again from the last state it returned.
 *
 * Wrap every port a job writes (or reads) with {@link CrashInjector.wrap}. Each call to a wrapped method is
 * two boundaries: just before the call (the effect never happened) and just after it (the effect happened,
 * the step never learned it). Run the job once with no crash to count the boundaries, then once per boundary
 * with a crash there ({@link everyBoundary}): every run must end in the same place, with nothing lost and
 * nothing doubled.
 */
import type { Step } from "../steps/step.js";
import { runSteps, type RunStepsOptions } from "../steps/step.js";

/**
 * The crash itself: thrown at a boundary. A job that catches every error (to count a failure and go on) may
 * catch it; the injector then keeps the process dead — every later wrapped call throws it again, and
 * {@link runStepsThroughCrashes} given the injector discards whatever state the step still returns — since a
 * process that really crashed does nothing more and returns nothing.
 */
export class InjectedCrash extends Error {
  override name = "InjectedCrash";
  constructor(
    readonly boundary: number,
    readonly label: string,
    /** The injector that crashed, brought back to life when the job restarts. */
    readonly injector?: CrashInjector,
  ) {
    super(`crash injected at boundary ${boundary} (${label})`);
  }
}

export class CrashInjector {
  private boundaries = 0;
  private readonly pending: Set<number>;
  private crash: InjectedCrash | undefined;

  /** @param crashAt the boundaries (1-based, counted over the whole run, across restarts) to crash at. */
  constructor(crashAt: Iterable<number> = []) {
    this.pending = new Set(crashAt);
  }

  /** Boundaries passed so far. */
  get count(): number {
    return this.boundaries;
  }

  /** The crash that killed the process, while it has not been restarted. */
  get dead(): InjectedCrash | undefined {
    return this.crash;
  }

  /** A new process: wrapped calls go through again. */
  restart(): void {
    this.crash = undefined;
  }

  /**
   * Passes one boundary; throws {@link InjectedCrash} when it is one to crash at (once each), and again at
   * every boundary until {@link CrashInjector.restart}: a dead process reaches nothing.
   */
  boundary(label: string): void {
    if (this.crash) throw this.crash;
    this.boundaries += 1;
    if (this.pending.delete(this.boundaries)) {
      this.crash = new InjectedCrash(this.boundaries, label, this);
      throw this.crash;
    }
  }

  /**
   * `target` with each method (all of them, or those named) wrapped: a boundary before the call and one
   * after it resolves. Properties that are not functions pass through.
   */
  wrap<T extends object>(target: T, name: string, methods?: readonly (keyof T & string)[]): T {
    const only = methods ? new Set<string>(methods) : undefined;
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== "function" || typeof property !== "string") return value;
        if (only && !only.has(property)) return value.bind(object) as unknown;
        return async (...args: unknown[]) => {
          this.boundary(`before ${name}.${property}`);
          const result = (await (value as (...a: unknown[]) => unknown).apply(object, args)) as unknown;
          this.boundary(`after ${name}.${property}`);
          return result;
        };
      },
    });
  }
}

export interface CrashRunResult<S> {
  readonly state: S;
  /** Crashes that happened (each followed by a restart from the last returned state). */
  readonly crashes: number;
}

/**
 * Runs a job to the end like {@link runSteps}, restarting it from the last state a step returned whenever an
 * {@link InjectedCrash} escapes (as Step Functions retries a failed Task with the same input). `makeStep` is
 * called at the start and after every crash: a crashed process keeps nothing in memory, so neither may the
 * restarted step (build it, and anything it caches, inside `makeStep`).
 */
export async function runStepsThroughCrashes<S>(
  makeStep: () => Step<S>,
  initial: S,
  options: RunStepsOptions<S> & {
    readonly maxCrashes?: number;
    /** The injector of the run: a state a step returns after a crash it caught is never kept. */
    readonly injector?: CrashInjector;
  },
): Promise<CrashRunResult<S>> {
  let last = initial;
  let crashes = 0;
  const maxCrashes = options.maxCrashes ?? 1_000;
  for (;;) {
    try {
      const { state } = await runSteps(makeStep(), last, {
        ...options,
        onState: async (state, n) => {
          const dead = options.injector?.dead;
          if (dead) throw dead;
          last = state;
          await options.onState?.(state, n);
        },
      });
      return { state, crashes };
    } catch (error) {
      if (!(error instanceof InjectedCrash) || crashes >= maxCrashes) throw error;
      error.injector?.restart();
      crashes += 1;
    }
  }
}

/**
 * Every boundary of a run, for a test that crashes once at each: runs `scenario` with no crash to count the
 * boundaries, then returns 1…n. `scenario` builds a fresh world on every call.
 */
export async function everyBoundary(
  scenario: (injector: CrashInjector) => Promise<unknown>,
): Promise<number[]> {
  const counting = new CrashInjector();
  await scenario(counting);
  return Array.from({ length: counting.count }, (_, i) => i + 1);
}
