/**
 * Child process of the `scale` scenario, bundled by esbuild and run by plain node with `--expose-gc`: runs one
 * job over a generated pool and answers one IPC message. `<job> <json parameters>`.
 *
 * The fakes (generated directory, tally stores) live in this process: they keep bitsets only, reported as
 * `fakesRetainedBytes`. Each step's peak RSS is the kernel's high-water mark (VmHWM), reset just before the
 * step (after a full GC) by writing 5 to /proc/self/clear_refs, and read just after it: the step's own peak,
 * on top of what the process holds when the step starts (Node, the code, the fakes), as in a warm Lambda.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { CognitoCalls } from "../../adapters/cognito/cognito-calls.js";
import type { CognitoOperation } from "../../adapters/cognito/quotas.js";
import { ManualClock, VirtualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { errorCode } from "../../core/errors.js";
import type { UserDirectory } from "../../core/ports/user-directory.js";
import { parsePurgePolicy } from "../../core/purge/index.js";
import { purgeUnconfirmedIdentities } from "../../core/use-cases/purge-unconfirmed-identities.js";
import { reconcile } from "../../core/use-cases/reconcile.js";
import { snapshotUsers } from "../../core/use-cases/snapshot-users.js";
import { GeneratedPool, GeneratedUserDirectory } from "../lib/generated-pool.js";
import { type SnapshotCheck, TallyBackupStore, TallyProfileStore } from "../lib/generated-sinks.js";

export type ScaleJob = "snapshot-today" | "reconcile-today" | "purge-today" | "together-today";

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

const STATUS = "/proc/self/status";
const POOL_ID = "eu-west-1_scalebench";
const NEWEST_SIGN_UP = new Date("2026-12-01T23:00:00.000Z");
const START = "2026-12-02T02:00:00.000Z";

/** Stops the job from inside a port call, once the process passed its RSS cap. */
class RssCapReached extends Error {
  override name = "RssCapReached";
}

/** The process's peak RSS since the last reset, in bytes. */
function highWaterMark(): number {
  const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(STATUS, "utf8"));
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

/** A full GC, then the high-water mark set back to the current RSS. */
function resetHighWaterMark(): void {
  (globalThis as { gc?: () => void }).gc?.();
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // Without clear_refs (not Linux), the mark stays the process's peak so far: an upper bound.
  }
}

const OPERATIONS: Readonly<Partial<Record<keyof UserDirectory, CognitoOperation>>> = {
  listUsers: "ListUsers",
  estimatedUserCount: "DescribeUserPool",
  getUser: "AdminGetUser",
  deleteUser: "AdminDeleteUser",
  disableUser: "AdminDisableUser",
  enableUser: "AdminEnableUser",
  createUser: "AdminCreateUser",
  listGroups: "ListGroups",
  listGroupMembers: "ListUsersInGroup",
  createGroup: "CreateGroup",
  addUserToGroup: "AdminAddUserToGroup",
};

async function main(): Promise<ScaleWorkerResult> {
  const job = process.argv[2] as ScaleJob;
  const parameters = JSON.parse(process.argv[3] ?? "{}") as ScaleWorkerParameters;
  // Two jobs at once need discrete-event time (a sleep ends when the time reaches it, and the time moves
  // only when every task waits); one job alone may simply move the time when it sleeps.
  const clock = job === "together-today" ? new VirtualClock(START) : new ManualClock(START);
  const started = clock.now().getTime();
  const pool = new GeneratedPool({
    size: parameters.users,
    unconfirmedOneIn: parameters.unconfirmedOneIn,
    groups: parameters.groups,
    newestSignUp: NEWEST_SIGN_UP,
  });
  const generated = new GeneratedUserDirectory(pool, { clock });
  const backups = new TallyBackupStore(pool, {
    staleBackupOneIn: 1000,
    capturedAt: NEWEST_SIGN_UP,
    userPoolId: POOL_ID,
  });
  const profiles = new TallyProfileStore(pool, { missingProfileOneIn: 1000 });
  const erasures = new InMemoryErasureLedger();

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

  // The generated pool behind the Cognito adapter's own pacing and retries (CognitoCalls), as
  // CognitoUserDirectory runs its SDK calls: only the transport differs.
  const failedCalls: Record<string, number> = {};
  const paced = (calls: CognitoCalls) =>
    new Proxy(generated, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        const operation = OPERATIONS[property as keyof UserDirectory];
        if (typeof value !== "function" || operation === undefined) return value;
        return async (...args: unknown[]) => {
          watch();
          try {
            const result = (await calls.run(operation, () =>
              (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
            )) as unknown;
            if (operation === "ListUsers")
              counters.usersListed += (result as { items: unknown[] }).items.length;
            if (operation === "ListUsersInGroup") {
              counters.membershipsListed += (result as { items: unknown[] }).items.length;
            }
            if (operation === "AdminDeleteUser" && result === true) {
              counters.deleted += 1;
              firstDelete ??= clock.now().getTime() - started;
              lastDelete = clock.now().getTime() - started;
            }
            return result;
          } catch (error) {
            if (!(error instanceof RssCapReached)) failedCalls[operation] = (failedCalls[operation] ?? 0) + 1;
            throw error;
          }
        };
      },
    }) as UserDirectory;
  const directory = paced(new CognitoCalls({ clock, sleeper: clock }));

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
      const result = await snapshotUsers(deps, { userPoolId: POOL_ID });
      finished = true;
      const check = backups.verifySnapshot(result.snapshotId, (i) => generated.exists(i));
      extra.snapshot = { ...check, skipped: result.skipped };
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
      const report = await purgeUnconfirmedIdentities(
        { directory, clock },
        { policy: parsePurgePolicy({ minAge: "24h" }) },
      );
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
    } else if (job === "together-today") {
      // Two functions (two processes: two CognitoCalls, each pacing itself) on one account's quotas.
      const purgeDirectory = paced(new CognitoCalls({ clock, sleeper: clock }));
      const outcomes = await Promise.allSettled([
        snapshotUsers(deps, { userPoolId: POOL_ID }).then((result) => {
          extra.snapshotVirtualMs = clock.now().getTime() - started;
          return result;
        }),
        purgeUnconfirmedIdentities(
          { directory: purgeDirectory, clock },
          { policy: parsePurgePolicy({ minAge: "24h" }) },
        ).then((report) => {
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
  const usage: Record<string, { admitted: number; throttled: number }> = {};
  for (const category of ["UserList", "UserRead", "UserUpdate", "UserPoolRead", "GroupRead"]) {
    usage[category] = generated.usageOf(category);
  }
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
