/**
 * Child process of the `scale` scenario, bundled by esbuild and run by plain node with `--expose-gc`: runs one
 * job over a generated pool and answers one IPC message. `<job> <json parameters>`.
 *
 * The fakes (generated directory, tally stores) live in this process: they keep bitsets only, reported as
 * `fakesRetainedBytes`. Each step's peak RSS is the kernel's high-water mark (VmHWM), reset just before the
 * step (after a full GC) by writing 5 to /proc/self/clear_refs, and read just after it: the step's own peak,
 * on top of what the process holds when the step starts (Node, the code, the fakes), as in a warm Lambda.
 */
import { performance } from "node:perf_hooks";
import { ManualClock, VirtualClock } from "../../adapters/in-memory/clock.js";
import { AccountQuotas } from "../../adapters/in-memory/rate-limiter.js";
import { COGNITO_QUOTAS } from "../../adapters/cognito/quotas.js";
import { errorCode } from "../../core/errors.js";
import { parsePurgePolicy } from "../../core/purge/index.js";
import { runSteps } from "../../core/steps/step.js";
import {
  identityPurgeDone,
  identityPurgeReport,
  identityPurgeStep,
  startIdentityPurge,
} from "../../core/use-cases/purge-unconfirmed-identities.js";
import { reconcile } from "../../core/use-cases/reconcile.js";
import { snapshotReport, snapshotStep, startSnapshot } from "../../core/use-cases/snapshot-users.js";
import { type SnapshotCheck } from "../lib/generated-sinks.js";
import { highWaterMark, resetHighWaterMark } from "../lib/rss.js";
import { createWorld, pacedDirectory, POOL_ID, START, usageOf } from "../lib/scale-world.js";
import { purgeInOneInvocation, snapshotInOneInvocation } from "./scale.baseline.js";

export type ScaleJob =
  | "snapshot-today"
  | "reconcile-today"
  | "purge-today"
  | "together-today"
  /** The stepped snapshot and identity purge at once, in this process (steps of `stepBudgetMs` each). */
  | "together-steps";

export interface ScaleWorkerParameters {
  readonly users: number;
  readonly unconfirmedOneIn: number;
  readonly groups: number;
  /** The job is stopped (reported, not failed) once the process's RSS passes this. */
  readonly rssCapBytes: number;
  /** The Lambda limit whose passing is recorded (virtual time). */
  readonly lambdaLimitMs: number;
  /** The RSS whose passing is recorded. */
  readonly rssLimitBytes: number;
  /** Stepped jobs: each step's deadline is this long after it starts. */
  readonly stepBudgetMs?: number;
}

/** How far a job had got at some instant. */
export interface ScaleProgress {
  readonly virtualMs: number;
  readonly usersListed: number;
  readonly membershipsListed: number;
  readonly deleted: number;
  readonly rssBytes: number;
}

export interface ScaleStepFigures {
  readonly virtualMs: number;
  readonly realMs: number;
  readonly peakRssBytes: number;
  readonly startRssBytes: number;
}

export interface ScaleWorkerResult {
  readonly job: ScaleJob;
  readonly finished: boolean;
  /** Why it did not finish: `rss-cap`, or an error code. */
  readonly stoppedBy?: string;
  readonly errorMessage?: string;
  readonly steps: readonly ScaleStepFigures[];
  readonly virtualMs: number;
  readonly realMs: number;
  readonly fakesRetainedBytes: number;
  readonly usage: Readonly<Record<string, { admitted: number; throttled: number }>>;
  /** Calls that failed after the adapter's retries, by operation. */
  readonly failedCalls: Readonly<Record<string, number>>;
  readonly progress: ScaleProgress;
  readonly passedLambdaLimitAt?: ScaleProgress;
  readonly passedRssLimitAt?: ScaleProgress;
  readonly snapshot?: SnapshotCheck & { readonly skipped: number };
  readonly reconcile?: {
    readonly checked: number;
    readonly profilesCreated: number;
    readonly backupsWritten: number;
    readonly failed: number;
    /** Confirmed users without a profile before the run. */
    readonly missingProfiles: number;
    /** Confirmed users whose backup was out of date before the run. */
    readonly staleBackups: number;
  };
  readonly backupGets?: number;
  /** Two jobs at once: when each finished (virtual ms from the start). */
  readonly snapshotVirtualMs?: number;
  readonly purgeVirtualMs?: number;
  /** Two stepped jobs at once: how many steps each took. */
  readonly snapshotSteps?: number;
  readonly purgeSteps?: number;
  readonly purge?: {
    readonly eligible: number;
    readonly deleted: number;
    readonly failed: number;
    readonly refused: boolean;
    readonly confirmedDeleted: number;
    readonly unconfirmedInPool: number;
    readonly firstDeleteVirtualMs?: number;
    readonly lastDeleteVirtualMs?: number;
  };
}

/** Stops the job from inside a port call, once the process passed its RSS cap. */
class RssCapReached extends Error {
  override name = "RssCapReached";
}

async function main(): Promise<ScaleWorkerResult> {
  const job = process.argv[2] as ScaleJob;
  const parameters = JSON.parse(process.argv[3] ?? "{}") as ScaleWorkerParameters;
  // Two jobs at once need discrete-event time (a sleep ends when the time reaches it, and the time moves
  // only when every task waits); one job alone may simply move the time when it sleeps.
  const together = job === "together-today" || job === "together-steps";
  const clock = together ? new VirtualClock(START) : new ManualClock(START);
  const started = clock.now().getTime();
  // One account's quotas, shared by every directory of the run (two jobs at once: two functions).
  const quotas = new AccountQuotas(clock, COGNITO_QUOTAS);
  // The baseline reconcile runs as before digests were recorded: no profile holds one, every user is read.
  const { pool, generated, backups, profiles, erasures } = createWorld(parameters, clock, {
    quotas,
    withoutDigests: job === "reconcile-today",
  });

  const counters = { usersListed: 0, membershipsListed: 0, deleted: 0, calls: 0 };
  let passedLambdaLimitAt: ScaleProgress | undefined;
  let passedRssLimitAt: ScaleProgress | undefined;
  let firstDelete: number | undefined;
  let lastDelete: number | undefined;
  const progress = (rssBytes: number): ScaleProgress => ({
    virtualMs: clock.now().getTime() - started,
    usersListed: counters.usersListed,
    membershipsListed: counters.membershipsListed,
    deleted: counters.deleted,
    rssBytes,
  });
  const watch = () => {
    counters.calls += 1;
    if (passedLambdaLimitAt === undefined && clock.now().getTime() - started > parameters.lambdaLimitMs) {
      passedLambdaLimitAt = progress(process.memoryUsage.rss());
    }
    // Reading the RSS costs a system call: every 16th call is often enough (a page is 60 users).
    if (counters.calls % 16 !== 0) return;
    const rss = process.memoryUsage.rss();
    if (passedRssLimitAt === undefined && rss > parameters.rssLimitBytes) passedRssLimitAt = progress(rss);
    if (rss > parameters.rssCapBytes) throw new RssCapReached(`RSS ${rss} past the cap`);
  };

  const failedCalls: Record<string, number> = {};
  const paced = () =>
    pacedDirectory(generated, clock, {
      failedCalls,
      isStop: (error) => error instanceof RssCapReached,
      before: watch,
      after: (operation, result) => {
        if (operation === "ListUsers") counters.usersListed += (result as { items: unknown[] }).items.length;
        if (operation === "ListUsersInGroup") {
          counters.membershipsListed += (result as { items: unknown[] }).items.length;
        }
        if (operation === "AdminDeleteUser" && result === true) {
          counters.deleted += 1;
          firstDelete ??= clock.now().getTime() - started;
          lastDelete = clock.now().getTime() - started;
        }
      },
    });
  const directory = paced();

  const deps = { directory, backups, profiles, erasures, clock };
  const steps: ScaleStepFigures[] = [];
  const realStart = performance.now();
  let finished = false;
  let stoppedBy: string | undefined;
  let errorMessage: string | undefined;
  const extra: { -readonly [K in keyof ScaleWorkerResult]?: ScaleWorkerResult[K] } = {};

  // Today's jobs run in one invocation: one step.
  resetHighWaterMark();
  const startRssBytes = process.memoryUsage.rss();
  const stepStart = clock.now().getTime();
  try {
    if (job === "snapshot-today") {
      const result = await snapshotInOneInvocation(deps, { userPoolId: POOL_ID });
      finished = true;
      const check = backups.verifySnapshot(result.snapshotId, (i) => generated.exists(i));
      extra.snapshot = { ...check, skipped: 0 };
    } else if (job === "reconcile-today") {
      // What reconcile must repair, counted before it runs (its writes change the answers).
      let missingProfiles = 0;
      let staleBackups = 0;
      for (let i = 0; i < pool.size; i += 1) {
        if (pool.isUnconfirmed(i)) continue;
        if (profiles.lacksProfile(i)) missingProfiles += 1;
        if (backups.isStale(i)) staleBackups += 1;
      }
      resetHighWaterMark();
      const report = await reconcile(deps, { userPoolId: POOL_ID });
      finished = true;
      extra.reconcile = {
        checked: report.checked,
        profilesCreated: report.profilesCreated,
        backupsWritten: report.backupsWritten,
        failed: report.failed,
        missingProfiles,
        staleBackups,
      };
    } else if (job === "purge-today") {
      const report = await purgeInOneInvocation({ directory, clock }, parsePurgePolicy({ minAge: "24h" }));
      finished = true;
      let unconfirmedInPool = 0;
      for (let i = 0; i < pool.size; i += 1) if (pool.isUnconfirmed(i)) unconfirmedInPool += 1;
      extra.purge = {
        eligible: report.eligible,
        deleted: report.deleted,
        failed: report.failed,
        refused: report.refused !== undefined,
        confirmedDeleted: generated.confirmedDeleted,
        unconfirmedInPool,
        ...(firstDelete === undefined ? {} : { firstDeleteVirtualMs: firstDelete }),
        ...(lastDelete === undefined ? {} : { lastDeleteVirtualMs: lastDelete }),
      };
    } else if (job === "together-today" || job === "together-steps") {
      // Two functions (two processes: two CognitoCalls, each pacing itself) on one account's quotas.
      const policy = parsePurgePolicy({ minAge: "24h" });
      const purgeDeps = { directory: paced(), clock };
      const budget = { clock, stepBudgetMs: parameters.stepBudgetMs ?? parameters.lambdaLimitMs };
      const snapshotRun =
        job === "together-today"
          ? snapshotInOneInvocation(deps, { userPoolId: POOL_ID }).then((m) => ({ ...m, skipped: 0 }))
          : runSteps(
              snapshotStep(deps, { userPoolId: POOL_ID }),
              startSnapshot({ userPoolId: POOL_ID }, clock),
              {
                ...budget,
                onState: (_state, n) => {
                  extra.snapshotSteps = n;
                },
              },
            ).then(({ state }) => snapshotReport(backups, state));
      const purgeRun =
        job === "together-today"
          ? purgeInOneInvocation(purgeDeps, policy)
          : runSteps(identityPurgeStep(purgeDeps), startIdentityPurge(clock, { policy }), {
              ...budget,
              onState: (_state, n) => {
                extra.purgeSteps = n;
              },
            }).then(({ state }) => {
              if (!identityPurgeDone(state)) throw new Error("the purge's steps ended before it was done");
              return identityPurgeReport(clock, state);
            });
      const outcomes = await Promise.allSettled([
        snapshotRun.then((result) => {
          extra.snapshotVirtualMs = clock.now().getTime() - started;
          return result;
        }),
        purgeRun.then((report) => {
          extra.purgeVirtualMs = clock.now().getTime() - started;
          return report;
        }),
      ]);
      const [snapshotOutcome, purgeOutcome] = outcomes;
      const failure = outcomes.find((outcome) => outcome.status === "rejected");
      if (failure) throw failure.reason;
      finished = snapshotOutcome.status === "fulfilled" && purgeOutcome.status === "fulfilled";
      if (purgeOutcome.status === "fulfilled") {
        extra.purge = {
          eligible: purgeOutcome.value.eligible,
          deleted: purgeOutcome.value.deleted,
          failed: purgeOutcome.value.failed,
          refused: purgeOutcome.value.refused !== undefined,
          confirmedDeleted: generated.confirmedDeleted,
          unconfirmedInPool: 0,
        };
      }
      if (snapshotOutcome.status === "fulfilled") {
        const check = backups.verifySnapshot(snapshotOutcome.value.snapshotId, (i) => generated.exists(i));
        extra.snapshot = { ...check, skipped: snapshotOutcome.value.skipped };
      }
    } else {
      throw new Error(`unknown job ${String(job)}`);
    }
  } catch (error) {
    stoppedBy = error instanceof RssCapReached ? "rss-cap" : errorCode(error);
    errorMessage = error instanceof Error ? error.message : String(error);
  }
  steps.push({
    virtualMs: clock.now().getTime() - stepStart,
    realMs: performance.now() - realStart,
    peakRssBytes: highWaterMark(),
    startRssBytes,
  });
  const usage = usageOf(generated);
  return {
    job,
    finished,
    ...(stoppedBy === undefined ? {} : { stoppedBy }),
    ...(errorMessage === undefined ? {} : { errorMessage }),
    steps,
    virtualMs: clock.now().getTime() - started,
    realMs: performance.now() - realStart,
    fakesRetainedBytes: generated.retainedBytes + backups.retainedBytes + profiles.retainedBytes,
    usage,
    failedCalls,
    progress: progress(process.memoryUsage.rss()),
    ...(passedLambdaLimitAt ? { passedLambdaLimitAt } : {}),
    ...(passedRssLimitAt ? { passedRssLimitAt } : {}),
    backupGets: backups.counts.userBackupGets,
    ...extra,
  };
}

main().then(
  (result) => process.send?.(result, () => process.exit(0)),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
