/**
 * 5. Every job at scale: snapshot, reconcile and the identity purge over a generated pool of millions of
 * users (bench/lib/generated-pool.ts: users made from their index), Cognito's quotas enforced on a virtual
 * clock, stores that keep no bulk data (bench/lib/generated-sinks.ts).
 *
 * - ours: main's stepped jobs (`snapshotStep`, `identityPurgeStep`), each step in a process of its own with a
 *   deadline of {@link STEP_BUDGET_MS} of virtual time, the state carried between steps as JSON
 *   (scale-steps.ts, scale-step.worker.ts); the snapshot once more with 5 crashes injected at random steps.
 * - baseline: the single-invocation jobs as they were before the steps (scale.baseline.ts) and today's
 *   `reconcile`, each as one invocation in a child process (scale.worker.ts).
 * - both jobs at once: one process, the discrete-event VirtualClock, one account's quotas.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ISSUE_SIZES } from "../lib/args.js";
import { bundleWorker } from "../lib/bundle.js";
import { ROOT } from "../lib/machine.js";
import { runWorker } from "../lib/fork.js";
import type { Scenario } from "../lib/scenario.js";
import { formatBytes, formatNumber, type Metric } from "../lib/table.js";
import type { ScaleJob, ScaleProgress, ScaleWorkerParameters, ScaleWorkerResult } from "./scale.worker.js";
import { planCrashes, runStepped, STEP_HEAP_MB, type SteppedRun } from "./scale-steps.js";

const WORKER = path.join(__dirname, "scale.worker.ts");
const STEP_WORKER = path.join(__dirname, "scale-step.worker.ts");
const MINUTE_MS = 60_000;
/** Lambda's longest invocation: where a job of one invocation is killed. */
const LAMBDA_LIMIT_MS = 15 * MINUTE_MS;
/** Each step's deadline: what the deployed step gets (a 15-minute Lambda, less room to hand the state on). */
const STEP_BUDGET_MS = 12 * MINUTE_MS;
/** The issue's memory figure: 512 MB (512,000,000 bytes). */
const RSS_LIMIT_BYTES = 512_000_000;
/** Step Functions' payload limit: a state larger than this cannot pass from one step to the next. */
const STATE_LIMIT_BYTES = 256 * 1024;
/** Today's jobs are stopped here, so a run cannot take the machine's memory from its other users. */
const RSS_CAP_BYTES = 2 * 1024 * 1024 * 1024;
const QUOTA = { UserList: 30, UserUpdate: 25 } as const;
/** The largest pool the two-jobs-at-once run uses. */
const TOGETHER_MAX_USERS = 1_000_000;
const CRASHES = 5;

export const scale: Scenario = async ({ options, cleanup, log }) => {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-scale-"));
  cleanup.defer("scale temp dir", () => rm(dir, { recursive: true, force: true }));
  const worker = await bundleWorker(WORKER, dir);
  const stepWorker = await bundleWorker(STEP_WORKER, dir);
  const run = (job: ScaleJob, users: number): Promise<ScaleWorkerResult> => {
    const parameters: ScaleWorkerParameters = {
      users,
      unconfirmedOneIn: 50,
      groups: 100,
      rssCapBytes: RSS_CAP_BYTES,
      lambdaLimitMs: LAMBDA_LIMIT_MS,
      rssLimitBytes: RSS_LIMIT_BYTES,
      stepBudgetMs: STEP_BUDGET_MS,
    };
    return runWorker<ScaleWorkerResult>(worker, [job, JSON.stringify(parameters)], cleanup, {
      timeoutMs: 6 * 60 * MINUTE_MS,
      // The old generation may grow past the cap, so that the cap (not V8) stops today's jobs, and says where.
      execArgv: ["--expose-gc", "--max-old-space-size=4096"],
      // The bundle leaves the AWS SDK out (as the Lambda bundles do): resolved from the project's node_modules.
      env: { NODE_PATH: path.join(ROOT, "node_modules") },
    });
  };
  const users = options.scaleUsers;
  const purgeUsers = options.scalePurgeUsers;
  const togetherUsers = Math.min(users, TOGETHER_MAX_USERS);
  const shape = (n: number) => ({ users: n, unconfirmedOneIn: 50, groups: 100 });
  const stepped = (job: "snapshot" | "purge", n: number, crashes?: ReturnType<typeof planCrashes>) =>
    runStepped({
      job,
      shape: shape(n),
      stepBudgetMs: STEP_BUDGET_MS,
      worker: stepWorker,
      cleanup,
      log,
      ...(crashes ? { crashes } : {}),
    });

  log(`ours: the stepped snapshot over ${formatNumber(users)} users, 1 group each (a process per step)`);
  const oursSnapshot = await stepped("snapshot", users);
  log(`  ${describeStepped(oursSnapshot)}`);
  const crashPlan = planCrashes(
    options.scaleSeed,
    CRASHES,
    oursSnapshot.steps.map((step) => step.virtualMs),
  );
  log(
    `ours: the same with ${CRASHES} crashes (seed ${options.scaleSeed}: ${crashPlan.map((c) => `step ${c.step} after ${minutes(c.afterVirtualMs)}, ${c.before ? "before" : "after"} a call`).join(", ")})`,
  );
  const crashed = await stepped("snapshot", users, crashPlan);
  log(`  ${describeStepped(crashed)}`);
  log(`ours: the stepped identity purge over ${formatNumber(purgeUsers)} users, 2% unconfirmed`);
  const oursPurge = await stepped("purge", purgeUsers);
  log(`  ${describeStepped(oursPurge)}`);
  log(`ours: the stepped snapshot and purge at once over ${formatNumber(togetherUsers)} users`);
  const oursTogether = await run("together-steps", togetherUsers);
  log(`  ${describeRun(oursTogether)}`);

  log(`baseline: the single-invocation snapshot over ${formatNumber(users)} users`);
  const snapshot = await run("snapshot-today", users);
  log(`  ${describeRun(snapshot)}`);
  log(`baseline: today's reconcile over the same pool`);
  const reconciled = await run("reconcile-today", users);
  log(`  ${describeRun(reconciled)}`);
  log(`baseline: the single-invocation identity purge over ${formatNumber(purgeUsers)} users`);
  const purge = await run("purge-today", purgeUsers);
  log(`  ${describeRun(purge)}`);
  log(`baseline: both single-invocation jobs at once over ${formatNumber(togetherUsers)} users`);
  const together = await run("together-today", togetherUsers);
  log(`  ${describeRun(together)}`);

  const failedOf = (calls: Record<string, number>) => Object.values(calls).reduce((sum, n) => sum + n, 0);
  const listRate = (result: { usage: ScaleWorkerResult["usage"]; virtualMs: number }) =>
    perSecond(result.usage.UserList?.admitted, result.virtualMs);
  const deleteRate = (first: number | undefined, last: number | undefined, calls: number | undefined) =>
    first !== undefined && last !== undefined && last > first ? perSecond(calls, last - first) : undefined;
  const purgeUpdateRate = deleteRate(
    purge.purge?.firstDeleteVirtualMs,
    purge.purge?.lastDeleteVirtualMs,
    purge.usage.UserUpdate?.admitted,
  );
  const oursUpdateRate = deleteRate(
    oursPurge.firstDeleteMs,
    oursPurge.lastDeleteMs,
    oursPurge.usage.UserUpdate?.admitted,
  );
  const snapCheck = snapshot.snapshot;
  const longestOurs = (run: SteppedRun, field: "virtualMs" | "ownPeakRssBytes" | "stateBytes") =>
    run.steps.length === 0 ? undefined : Math.max(...run.steps.map((step) => step[field]));
  const manifestOf = (run: SteppedRun) =>
    run.verify ? `${formatNumber(run.verify.manifestCount)} of ${formatNumber(users)}` : notFinished(run);
  const exactOf = (run: SteppedRun) =>
    run.verify ? `${run.verify.duplicates ?? "?"} / ${run.verify.missing ?? "?"}` : notFinished(run);
  const exact = (run: SteppedRun) =>
    run.verify !== undefined &&
    run.verify.manifestCount === users &&
    run.verify.duplicates === 0 &&
    run.verify.missing === 0 &&
    run.verify.unexpected === 0 &&
    run.verify.tallyMatches &&
    run.verify.partsMismatched === 0;
  const oursListRate = listRate(oursSnapshot);
  const oursLongest = longestOurs(oursSnapshot, "virtualMs");
  const oursPeak = longestOurs(oursSnapshot, "ownPeakRssBytes");
  const peakState = Math.max(
    longestOurs(oursSnapshot, "stateBytes") ?? 0,
    longestOurs(crashed, "stateBytes") ?? 0,
  );
  // Reconcile runs on the snapshot's pages (reconcile: true): its counts are the snapshot report's, summed
  // over the steps; backupsRead is its per-user S3 GETs.
  const oursReconcile = oursSnapshot.verify?.reconcile;
  const reconcileFolded = (oursReconcile?.checked ?? 0) > 0;
  const oursGetsPerUser = reconcileFolded
    ? (oursReconcile?.backupsRead ?? 0) / Math.max(1, oursReconcile?.checked ?? 0)
    : undefined;
  const baselineGetsPerUser = reconciled.reconcile
    ? (reconciled.backupGets ?? 0) / Math.max(1, reconciled.reconcile.checked)
    : undefined;
  const purgeState = oursPurge.finalState as
    { report?: { deleted: number; eligible: number; failed: number; refused?: string } } | undefined;
  const purgeLongest = longestOurs(oursPurge, "virtualMs");
  const purgePeak = longestOurs(oursPurge, "ownPeakRssBytes");
  const togetherFailed = failedOf(together.failedCalls);
  const oursTogetherFailed = failedOf(oursTogether.failedCalls);
  const togetherShare = (result: ScaleWorkerResult) =>
    perSecond(result.usage.UserList?.admitted, result.snapshotVirtualMs ?? result.virtualMs);

  const metrics: Metric[] = [
    section("snapshot (+ reconcile)", users),
    {
      measure: "  finishes",
      unit: "text",
      ours: outcomeOfSteps(oursSnapshot),
      baseline: outcome(snapshot),
      target: "finishes",
      met: oursSnapshot.finished,
    },
    {
      measure: "  steps (each a process)",
      unit: "count",
      ours: oursSnapshot.steps.length,
      baseline: 1,
    },
    {
      measure: "  longest step, virtual time",
      unit: "text",
      ours: minutes(oursLongest),
      baseline: minutes(longest(snapshot, "virtualMs")),
      target: "<= 12 min",
      met: oursLongest !== undefined && oursLongest <= STEP_BUDGET_MS,
    },
    {
      measure: "  largest step peak RSS (less the fakes)",
      unit: "bytes",
      ours: oursPeak,
      baseline: longest(snapshot, "peakRssBytes"),
      target: "<= 512 MB",
      met: oursPeak !== undefined && oursPeak <= RSS_LIMIT_BYTES,
    },
    {
      measure: "  ListUsers/ListUsersInGroup rate over the run",
      unit: "per-second",
      ours: oursListRate,
      baseline: listRate(snapshot),
      target: `>= 27/s (90% of ${QUOTA.UserList})`,
      met: oursListRate !== undefined && oursListRate >= 27,
    },
    {
      measure: "  manifest count = pool size",
      unit: "text",
      ours: manifestOf(oursSnapshot),
      baseline: snapCheck
        ? `${formatNumber(snapCheck.manifestCount)} of ${formatNumber(users)}`
        : "no manifest",
      target: "equal",
      met: oursSnapshot.verify?.manifestCount === users,
    },
    {
      measure: "  duplicates / missing",
      unit: "text",
      ours: exactOf(oursSnapshot),
      baseline: snapCheck ? `${snapCheck.duplicates ?? "?"} / ${snapCheck.missing ?? "?"}` : "no manifest",
      target: "0 / 0",
      met: exact(oursSnapshot),
    },
    {
      measure: "  peak state between steps (JSON)",
      unit: "bytes",
      ours: peakState,
      target: "<= 256 KiB",
      met: peakState > 0 && peakState <= STATE_LIMIT_BYTES,
    },
    {
      measure: `  with ${CRASHES} crashes (seed ${options.scaleSeed}): crashes / steps`,
      unit: "text",
      ours: `${crashed.crashes.length} at steps ${crashed.crashes.map((c) => c.step).join(", ") || "—"} / ${crashed.steps.length}`,
      target: `${CRASHES} crashes`,
      met: crashed.crashes.length === CRASHES,
    },
    {
      measure: "  with crashes: manifest count",
      unit: "text",
      ours: manifestOf(crashed),
      target: "equal",
      met: crashed.verify?.manifestCount === users,
    },
    {
      measure: "  with crashes: duplicates / missing",
      unit: "text",
      ours: exactOf(crashed),
      target: "0 / 0",
      met: exact(crashed),
    },
    {
      measure: "  with crashes: ListUsers rate (redone work included)",
      unit: "per-second",
      ours: listRate(crashed),
    },
    {
      measure: "  reconcile: S3 GETs per user",
      unit: "text",
      ours:
        reconcileFolded && oursReconcile
          ? `${(oursGetsPerUser as number).toFixed(4)} (${formatNumber(oursReconcile.backupsRead)} GETs for ${formatNumber(oursReconcile.checked)} users checked; store tally ${formatNumber(oursSnapshot.verify?.backupGets)}; ${formatNumber(oursReconcile.backupsWritten)} written, ${formatNumber(oursReconcile.profilesCreated)} profiles created)`
          : "the stepped snapshot reconciled nobody",
      baseline:
        baselineGetsPerUser !== undefined
          ? `${baselineGetsPerUser.toFixed(4)} (finished)`
          : `${formatNumber(reconciled.backupGets)} GETs for ${formatNumber(reconciled.progress.usersListed)} users, then ${outcome(reconciled)}`,
      target: "<= 0.01",
      ...(reconcileFolded ? { met: (oursGetsPerUser as number) <= 0.01 } : {}),
    },
    {
      measure: "  baseline: where the 15-min Lambda limit passed",
      unit: "text",
      baseline: where(snapshot.passedLambdaLimitAt),
    },
    {
      measure: "  baseline: where RSS passed 512 MB",
      unit: "text",
      baseline: where(snapshot.passedRssLimitAt),
    },
    {
      measure: "  today's reconcile: finishes",
      unit: "text",
      baseline: outcome(reconciled),
    },
    {
      measure: "  today's reconcile: where the 15-min limit passed",
      unit: "text",
      baseline: where(reconciled.passedLambdaLimitAt),
    },
    {
      measure: "  today's reconcile: where RSS passed 512 MB",
      unit: "text",
      baseline: where(reconciled.passedRssLimitAt),
    },
    section("identity purge", purgeUsers),
    {
      measure: "  finishes",
      unit: "text",
      ours: outcomeOfSteps(oursPurge),
      baseline: outcome(purge),
      target: "finishes",
      met: oursPurge.finished,
    },
    { measure: "  steps (each a process)", unit: "count", ours: oursPurge.steps.length, baseline: 1 },
    {
      measure: "  longest step, virtual time",
      unit: "text",
      ours: minutes(purgeLongest),
      baseline: minutes(longest(purge, "virtualMs")),
      target: "<= 12 min",
      met: purgeLongest !== undefined && purgeLongest <= STEP_BUDGET_MS,
    },
    {
      measure: "  largest step peak RSS (less the fakes)",
      unit: "bytes",
      ours: purgePeak,
      baseline: longest(purge, "peakRssBytes"),
      target: "<= 512 MB",
      met: purgePeak !== undefined && purgePeak <= RSS_LIMIT_BYTES,
    },
    {
      measure: "  UserUpdate rate while deleting",
      unit: "per-second",
      ours: oursUpdateRate,
      baseline: purgeUpdateRate,
      target: `>= 22.5/s (90% of ${QUOTA.UserUpdate})`,
      met: oursUpdateRate !== undefined && oursUpdateRate >= 22.5,
    },
    {
      measure: "  deleted / eligible this run",
      unit: "text",
      ours: purgeState?.report
        ? `${formatNumber(purgeState.report.deleted)} / ${formatNumber(purgeState.report.eligible)}`
        : "—",
      baseline: purge.purge
        ? `${formatNumber(purge.purge.deleted)} / ${formatNumber(purge.purge.eligible)}`
        : "—",
    },
    {
      measure: "  confirmed users deleted",
      unit: "count",
      ours: oursPurge.confirmedDeleted,
      baseline: purge.purge?.confirmedDeleted,
      target: "0",
      met: oursPurge.finished && oursPurge.confirmedDeleted === 0,
    },
    {
      measure: "  baseline: where the 15-min Lambda limit passed",
      unit: "text",
      baseline: where(purge.passedLambdaLimitAt),
    },
    { measure: "  baseline: where RSS passed 512 MB", unit: "text", baseline: where(purge.passedRssLimitAt) },
    section("snapshot and purge at once", togetherUsers),
    {
      measure: "  both finish",
      unit: "text",
      ours: outcome(oursTogether),
      baseline: outcome(together),
      target: "yes",
      met: oursTogether.finished,
    },
    {
      measure: "  failed calls",
      unit: "count",
      ours: oursTogetherFailed,
      baseline: togetherFailed,
      target: "0",
      met: oursTogether.finished && oursTogetherFailed === 0,
    },
    {
      measure: "  UserList used together (until the snapshot ends)",
      unit: "text",
      ours: share(togetherShare(oursTogether), QUOTA.UserList),
      baseline: share(togetherShare(together), QUOTA.UserList),
      target: ">= 85%",
      met: (togetherShare(oursTogether) ?? 0) >= 0.85 * QUOTA.UserList,
    },
    {
      measure: "  throttled answers (UserList / UserUpdate)",
      unit: "text",
      ours: `${formatNumber(oursTogether.usage.UserList?.throttled)} / ${formatNumber(oursTogether.usage.UserUpdate?.throttled)}`,
      baseline: `${formatNumber(together.usage.UserList?.throttled)} / ${formatNumber(together.usage.UserUpdate?.throttled)}`,
    },
    {
      measure: "  snapshot / purge finished at",
      unit: "text",
      ours: `${minutes(oursTogether.snapshotVirtualMs)} / ${minutes(oursTogether.purgeVirtualMs)}`,
      baseline: `${minutes(together.snapshotVirtualMs)} / ${minutes(together.purgeVirtualMs)}`,
    },
    {
      measure: "  steps (snapshot / purge)",
      unit: "text",
      ours: `${oursTogether.snapshotSteps ?? "—"} / ${oursTogether.purgeSteps ?? "—"}`,
      baseline: "1 / 1",
    },
  ];

  const fakes = (run: SteppedRun) => Math.max(0, ...run.steps.map((step) => step.fakesBytes));
  const notes = [
    `ours: main's stepped jobs (snapshotStep, identityPurgeStep), each step in a process of its own (esbuild bundle, plain node, --expose-gc, --max-old-space-size=${STEP_HEAP_MB}: the old generation of a 512 MB function once the rest is counted) with a deadline ${STEP_BUDGET_MS / MINUTE_MS} minutes of virtual time after it starts (the step stops starting work a minute before), its state handed to the next step through JSON, as Step Functions carries it. The world (the pool's deletions, the stores' tallies and small files, the clock) lives in a directory between steps, as Cognito and S3 outlive an invocation.`,
    `memory: in each step's process, a full GC and the RSS (Node and the code), then the world loaded, a full GC and the RSS again: the difference is the fakes' share (at most ${formatBytes(fakes(oursSnapshot))} for the snapshot pool, ${formatBytes(fakes(oursPurge))} for the purge pool), taken off. Then the kernel's high-water mark is reset (5 to /proc/self/clear_refs), the step runs, and VmHWM is its peak. The figure keeps Node and the code (~45 MiB), as a Lambda's does.`,
    `crashes: ${CRASHES} steps chosen by a seeded generator (--scale-seed ${options.scaleSeed}) among the ${oursSnapshot.steps.length} steps of the run without crashes; each dies at the first port call (before it, or after it answered) once 10–90% of that step's virtual time in the run without crashes has passed, by SIGKILL from itself after the world is saved as it is: no state returned, no memory kept; the step runs again in a fresh process from the last state a step returned. Killed at: ${crashed.crashes.map((c) => `step ${c.step}, ${minutes(c.virtualMsIntoStep)} in (${c.label})`).join("; ") || "none"}.`,
    `duplicates / missing: every part the manifest names replayed into a bitset of the pool (exact), besides a hash tally of the parts; parts left by a killed step and rewritten count once (rewrites of a part: ${formatNumber(crashed.verify?.partRepeats)} the same, ${formatNumber(crashed.verify?.partReplacements)} replaced).`,
    `baseline: the snapshot and the identity purge as one invocation each, as they were before the durable steps (scale.baseline.ts: the membership map, one listing; every unconfirmed user held, then planned), and today's reconcile (core/use-cases/reconcile.ts), each in a child process with --max-old-space-size=4096, stopped at ${formatBytes(RSS_CAP_BYTES)} RSS ("stopped: RSS cap"); where the 15-minute Lambda limit and 512 MB passed is recorded. Its peak RSS is the process's, fakes included (a few MB of bitsets).`,
    `reconcile: S3 GETs per user are the stepped snapshot's reconcile (reconcile: true, on each page it lists): its report's backupsRead over the confirmed users it checked, summed over the steps. Each profile holds the digest of the user as listed, except the 1 in 1,000 drifted users (backup out of date, an old digest) and the 1 in 1,000 without a profile: only those are read from S3, so the ratio does not depend on the pool's size. The baseline is the whole-pool reconcile over profiles that hold no digest yet (as before digests were recorded: every user read).`,
    `quotas enforced by the generated directory: UserList ${QUOTA.UserList}/s (ListUsers and ListUsersInGroup), UserUpdate ${QUOTA.UserUpdate}/s, UserRead 120/s, GroupRead 5/s; the jobs call it through the Cognito adapter's CognitoCalls (its adaptive pacing), a fresh one per step (a new invocation). One job alone runs on a ManualClock (sleeping moves it: virtual time counts the pacing only, not Cognito's latency).`,
    `at once: the stepped snapshot and the stepped identity purge (default policy, steps of ${STEP_BUDGET_MS / MINUTE_MS} minutes run in-process) on one pool and one account's quotas, each behind a CognitoCalls of its own, on the discrete-event VirtualClock; at most ${formatNumber(TOGETHER_MAX_USERS)} users (each wait costs an event-loop turn). Baseline: the single-invocation jobs the same way.`,
    `the identity purge runs with the default policy (minAge 24 h, maxDeletionsPerRun 1,000, maxShareOfPool 5%); its UserUpdate rate is over its deletions (first to last).`,
  ];
  if (users < ISSUE_SIZES.scaleUsers || purgeUsers < ISSUE_SIZES.scalePurgeUsers) {
    notes.push(
      `smaller than the issue's pools (${formatNumber(ISSUE_SIZES.scaleUsers)} users for the snapshot, ${formatNumber(ISSUE_SIZES.scalePurgeUsers)} for the purge): pass --scale-users ${ISSUE_SIZES.scaleUsers} --scale-purge-users ${ISSUE_SIZES.scalePurgeUsers}.`,
    );
  }
  return {
    parameters: {
      users,
      purgeUsers,
      togetherUsers,
      unconfirmedOneIn: 50,
      groups: 100,
      stepBudgetMs: STEP_BUDGET_MS,
      seed: options.scaleSeed,
      crashPlan,
      rssCapBytes: RSS_CAP_BYTES,
    },
    metrics,
    notes,
    details: {
      ours: { snapshot: oursSnapshot, crashed, purge: oursPurge, together: oursTogether },
      baseline: { snapshot, reconcile: reconciled, purge, together },
    },
  };
};

function share(rate: number | undefined, quota: number): string {
  return rate === undefined ? "—" : `${((rate / quota) * 100).toFixed(1)}% (${rate.toFixed(2)}/s)`;
}

function section(name: string, users: number): Metric {
  return { measure: `${name}, ${formatNumber(users)} users`, unit: "text" };
}

function perSecond(calls: number | undefined, ms: number): number | undefined {
  return calls === undefined || ms <= 0 ? undefined : calls / (ms / 1000);
}

function longest(result: ScaleWorkerResult, field: "virtualMs" | "peakRssBytes"): number {
  return Math.max(...result.steps.map((step) => step[field]));
}

function minutes(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? "—" : `${(ms / MINUTE_MS).toFixed(1)} min`;
}

function outcome(result: ScaleWorkerResult): string {
  if (result.finished) return "yes";
  return result.stoppedBy === "rss-cap" ? `stopped: RSS cap` : `failed: ${result.stoppedBy ?? "?"}`;
}

function outcomeOfSteps(run: SteppedRun): string {
  return run.finished ? "yes" : `failed: ${run.error ?? "?"}`;
}

function notFinished(run: SteppedRun): string {
  return run.finished ? "not checked" : "did not finish";
}

function where(progress: ScaleProgress | undefined): string {
  if (!progress) return "not passed";
  return `${minutes(progress.virtualMs)}: ${formatNumber(progress.usersListed)} users, ${formatNumber(progress.membershipsListed)} memberships listed, ${formatNumber(progress.deleted)} deleted (RSS ${formatBytes(progress.rssBytes)})`;
}

function describeRun(result: ScaleWorkerResult): string {
  return `${outcome(result)} in ${(result.realMs / 1000).toFixed(1)} s real, ${minutes(result.virtualMs)} virtual, peak RSS ${formatBytes(longest(result, "peakRssBytes"))}`;
}

function describeStepped(run: SteppedRun): string {
  const peak = Math.max(0, ...run.steps.map((step) => step.ownPeakRssBytes));
  return `${outcomeOfSteps(run)} in ${run.steps.length} steps (${run.crashes.length} killed), ${(run.realMs / 1000).toFixed(1)} s real, ${minutes(run.virtualMs)} virtual, largest step peak RSS ${formatBytes(peak)}`;
}
