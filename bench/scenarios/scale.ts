/**
 * 5. Every job at scale: snapshot, reconcile and the identity purge over a generated pool of millions of
 * users (bench/lib/generated-pool.ts: users made from their index), Cognito's quotas enforced on a virtual
 * clock, stores that keep no bulk data (bench/lib/generated-sinks.ts). Each job runs in a child process of
 * its own (scale.worker.ts), which reports every step's virtual duration and peak RSS.
 *
 * - baseline: today's code on main, one invocation per job (`snapshotUsers`, `reconcile`,
 *   `purgeUnconfirmedIdentities`), behind the Cognito adapter's pacing (CognitoCalls).
 * - ours: the same jobs as durable steps, once they are on main; until then the table says "not on main".
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

const WORKER = path.join(__dirname, "scale.worker.ts");
const MINUTE_MS = 60_000;
/** Lambda's longest invocation: where a job of one invocation is killed. */
const LAMBDA_LIMIT_MS = 15 * MINUTE_MS;
/** The issue's memory figure: 512 MB (512,000,000 bytes). */
const RSS_LIMIT_BYTES = 512_000_000;
/** Today's jobs are stopped here, so a run cannot take the machine's memory from its other users. */
const RSS_CAP_BYTES = 2 * 1024 * 1024 * 1024;
const QUOTA = { UserList: 30, UserUpdate: 25 } as const;
const NOT_ON_MAIN = "not on main yet";
/** The largest pool the two-jobs-at-once run uses. */
const TOGETHER_MAX_USERS = 1_000_000;

export const scale: Scenario = async ({ options, cleanup, log }) => {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-scale-"));
  cleanup.defer("scale temp dir", () => rm(dir, { recursive: true, force: true }));
  const worker = await bundleWorker(WORKER, dir);
  const run = (job: ScaleJob, users: number): Promise<ScaleWorkerResult> => {
    const parameters: ScaleWorkerParameters = {
      users,
      unconfirmedOneIn: 50,
      groups: 100,
      rssCapBytes: RSS_CAP_BYTES,
      lambdaLimitMs: LAMBDA_LIMIT_MS,
      rssLimitBytes: RSS_LIMIT_BYTES,
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

  log(`baseline: today's snapshotUsers over ${formatNumber(users)} users, 1 group each (one invocation)`);
  const snapshot = await run("snapshot-today", users);
  log(`  ${describeRun(snapshot)}`);
  log(`baseline: today's reconcile over the same pool`);
  const reconciled = await run("reconcile-today", users);
  log(`  ${describeRun(reconciled)}`);
  log(`baseline: today's purgeUnconfirmedIdentities over ${formatNumber(purgeUsers)} users, 2% unconfirmed`);
  const purge = await run("purge-today", purgeUsers);
  log(`  ${describeRun(purge)}`);
  log(
    `baseline: today's snapshot and purge at once over ${formatNumber(users)} users (one account's quotas)`,
  );
  const together = await run("together-today", users);
  log(`  ${describeRun(together)}`);
  const togetherFailed = Object.values(together.failedCalls).reduce((sum, n) => sum + n, 0);
  const togetherListMs = together.snapshotVirtualMs ?? together.virtualMs;

  const listRate = (result: ScaleWorkerResult) =>
    perSecond(result.usage.UserList?.admitted, result.virtualMs);
  const purgeDeletePhaseMs =
    purge.purge?.firstDeleteVirtualMs !== undefined && purge.purge.lastDeleteVirtualMs !== undefined
      ? purge.purge.lastDeleteVirtualMs - purge.purge.firstDeleteVirtualMs
      : undefined;
  const updateRate =
    purgeDeletePhaseMs !== undefined && purgeDeletePhaseMs > 0
      ? perSecond(purge.usage.UserUpdate?.admitted, purgeDeletePhaseMs)
      : undefined;
  const snapCheck = snapshot.snapshot;

  const metrics: Metric[] = [
    section("snapshot", users),
    {
      measure: "  finishes",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: outcome(snapshot),
      target: "finishes",
    },
    {
      measure: "  longest step, virtual time",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: minutes(longest(snapshot, "virtualMs")),
      target: "<= 12 min",
    },
    {
      measure: "  largest step peak RSS",
      unit: "bytes",
      ours: NOT_ON_MAIN,
      baseline: longest(snapshot, "peakRssBytes"),
      target: "<= 512 MB",
    },
    {
      measure: "  ListUsers/ListUsersInGroup rate",
      unit: "per-second",
      ours: NOT_ON_MAIN,
      baseline: listRate(snapshot),
      target: `>= 27/s (90% of ${QUOTA.UserList})`,
    },
    {
      measure: "  manifest count = pool size",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: snapCheck
        ? `${formatNumber(snapCheck.manifestCount)} of ${formatNumber(users)}`
        : "no manifest",
      target: "equal, 5 crashes",
    },
    {
      measure: "  duplicates / missing",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: snapCheck ? `${snapCheck.duplicates ?? "?"} / ${snapCheck.missing ?? "?"}` : "no manifest",
      target: "0 / 0",
    },
    {
      measure: "  where the 15-min Lambda limit passed",
      unit: "text",
      baseline: where(snapshot.passedLambdaLimitAt),
    },
    { measure: "  where RSS passed 512 MB", unit: "text", baseline: where(snapshot.passedRssLimitAt) },
    section("reconcile", users),
    {
      measure: "  finishes",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: outcome(reconciled),
      target: "finishes",
    },
    {
      measure: "  longest step, virtual time",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: minutes(longest(reconciled, "virtualMs")),
      target: "<= 12 min",
    },
    {
      measure: "  largest step peak RSS",
      unit: "bytes",
      ours: NOT_ON_MAIN,
      baseline: longest(reconciled, "peakRssBytes"),
      target: "<= 512 MB",
    },
    {
      measure: "  S3 GETs per user",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: reconciled.reconcile
        ? (reconciled.backupGets ?? 0) / Math.max(1, reconciled.reconcile.checked)
        : gets(reconciled),
      target: "<= 0.01",
    },
    {
      measure: "  drifted users repaired",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: reconciled.reconcile
        ? `profiles ${formatNumber(reconciled.reconcile.profilesCreated)} of ${formatNumber(reconciled.reconcile.missingProfiles)}, backups ${formatNumber(reconciled.reconcile.backupsWritten)} of ${formatNumber(reconciled.reconcile.staleBackups)}`
        : "—",
    },
    {
      measure: "  where the 15-min Lambda limit passed",
      unit: "text",
      baseline: where(reconciled.passedLambdaLimitAt),
    },
    { measure: "  where RSS passed 512 MB", unit: "text", baseline: where(reconciled.passedRssLimitAt) },
    section("identity purge", purgeUsers),
    { measure: "  finishes", unit: "text", ours: NOT_ON_MAIN, baseline: outcome(purge), target: "finishes" },
    {
      measure: "  longest step, virtual time",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: minutes(longest(purge, "virtualMs")),
      target: "<= 12 min",
    },
    {
      measure: "  largest step peak RSS",
      unit: "bytes",
      ours: NOT_ON_MAIN,
      baseline: longest(purge, "peakRssBytes"),
      target: "<= 512 MB",
    },
    {
      measure: "  UserUpdate rate while deleting",
      unit: "per-second",
      ours: NOT_ON_MAIN,
      baseline: updateRate,
      target: `>= 22.5/s (90% of ${QUOTA.UserUpdate})`,
    },
    {
      measure: "  deleted / eligible this run",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: purge.purge
        ? `${formatNumber(purge.purge.deleted)} / ${formatNumber(purge.purge.eligible)}`
        : "—",
    },
    {
      measure: "  confirmed users deleted",
      unit: "count",
      ours: NOT_ON_MAIN,
      baseline: purge.purge?.confirmedDeleted,
      target: "0",
    },
    {
      measure: "  where the 15-min Lambda limit passed",
      unit: "text",
      baseline: where(purge.passedLambdaLimitAt),
    },
    { measure: "  where RSS passed 512 MB", unit: "text", baseline: where(purge.passedRssLimitAt) },
    section("snapshot and purge at once", Math.min(users, TOGETHER_MAX_USERS)),
    { measure: "  both finish", unit: "text", ours: NOT_ON_MAIN, baseline: outcome(together), target: "yes" },
    {
      measure: "  failed calls",
      unit: "count",
      ours: NOT_ON_MAIN,
      baseline: togetherFailed,
      target: "0",
    },
    {
      measure: "  UserList used together (until the snapshot ends)",
      unit: "text",
      ours: NOT_ON_MAIN,
      baseline: share(together.usage.UserList?.admitted, togetherListMs, QUOTA.UserList),
      target: ">= 85%",
    },
    {
      measure: "  throttled answers (UserList / UserUpdate)",
      unit: "text",
      baseline: `${formatNumber(together.usage.UserList?.throttled)} / ${formatNumber(together.usage.UserUpdate?.throttled)}`,
    },
    {
      measure: "  snapshot / purge finished at",
      unit: "text",
      baseline: `${minutes(together.snapshotVirtualMs ?? Number.NaN)} / ${minutes(together.purgeVirtualMs ?? Number.NaN)}`,
    },
  ];

  const notes = [
    `at once: the snapshot and the identity purge (default policy) on one pool and one account's quotas, each behind a CognitoCalls of its own (two functions), on the discrete-event VirtualClock (a sleep ends when the time reaches it; the time moves only when both wait); at most ${formatNumber(TOGETHER_MAX_USERS)} users (each wait costs an event-loop turn). "unexpected" users in its snapshot are those the purge deleted after the snapshot listed them.`,
    `pool: users made from their index (bench/lib/generated-pool.ts): 1 in 50 UNCONFIRMED, 100 groups with 1 group per user, subs spread evenly over the 16 sub ^= partitions; 1 in 1,000 users with an out-of-date backup and 1 in 1,000 without a profile (what reconcile repairs).`,
    `quotas enforced by the generated directory on a ManualClock for one job alone (virtual time; sleeping moves it): UserList ${QUOTA.UserList}/s (ListUsers and ListUsersInGroup), UserUpdate ${QUOTA.UserUpdate}/s, UserRead 120/s; the jobs call it through the Cognito adapter's CognitoCalls (its adaptive pacing per quota category). Virtual time counts the pacing only: Cognito's latency is not modelled.`,
    `memory: each job runs in a child process of its own (esbuild bundle, plain node, --max-old-space-size=4096, --expose-gc). Before each step a full GC, then the kernel's high-water mark is reset (5 to /proc/self/clear_refs); after it, VmHWM is the step's peak RSS: its own plus what the process holds at its start (Node and the code, ~45 MiB; the fakes' bitsets: ${formatBytes(snapshot.fakesRetainedBytes)} for the snapshot pool, ${formatBytes(purge.fakesRetainedBytes)} for the purge pool).`,
    `today's jobs are stopped at ${formatBytes(RSS_CAP_BYTES)} RSS ("stopped: RSS cap"), reported with how far they had got.`,
    `where a limit passed: users listed (ListUsers), memberships listed (ListUsersInGroup) and users deleted at that moment; the 15-min limit on virtual time.`,
    `the identity purge runs with the default policy (minAge 24 h, maxDeletionsPerRun 1,000, maxShareOfPool 5%); its UserUpdate rate is over its deletions (first to last).`,
    `ours: the stepped snapshot (partitioned, reconcile folded in) and the bounded purge are not on main yet; with them the table shows their steps beside today's.`,
  ];
  if (users < ISSUE_SIZES.scaleUsers || purgeUsers < ISSUE_SIZES.scalePurgeUsers) {
    notes.push(
      `smaller than the issue's pools (${formatNumber(ISSUE_SIZES.scaleUsers)} users for the snapshot, ${formatNumber(ISSUE_SIZES.scalePurgeUsers)} for the purge): pass --scale-users ${ISSUE_SIZES.scaleUsers} --scale-purge-users ${ISSUE_SIZES.scalePurgeUsers}.`,
    );
  }
  return {
    parameters: { users, purgeUsers, unconfirmedOneIn: 50, groups: 100, rssCapBytes: RSS_CAP_BYTES },
    metrics,
    notes,
    details: { baseline: { snapshot, reconcile: reconciled, purge, together } },
  };
};

function share(calls: number | undefined, ms: number, quota: number): string {
  const rate = perSecond(calls, ms);
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

function minutes(ms: number): string {
  return `${(ms / MINUTE_MS).toFixed(1)} min`;
}

function outcome(result: ScaleWorkerResult): string {
  if (result.finished) return "yes";
  return result.stoppedBy === "rss-cap" ? `stopped: RSS cap` : `failed: ${result.stoppedBy ?? "?"}`;
}

function where(progress: ScaleProgress | undefined): string {
  if (!progress) return "not passed";
  return `${minutes(progress.virtualMs)}: ${formatNumber(progress.usersListed)} users, ${formatNumber(progress.membershipsListed)} memberships listed, ${formatNumber(progress.deleted)} deleted (RSS ${formatBytes(progress.rssBytes)})`;
}

function gets(result: ScaleWorkerResult): string {
  return `${formatNumber(result.backupGets)} GETs before it stopped`;
}

function describeRun(result: ScaleWorkerResult): string {
  return `${outcome(result)} in ${(result.realMs / 1000).toFixed(1)} s real, ${minutes(result.virtualMs)} virtual, peak RSS ${formatBytes(longest(result, "peakRssBytes"))}`;
}
