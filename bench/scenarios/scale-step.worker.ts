/**
 * One step of a stepped job of the `scale` scenario, in a process of its own (bundled by esbuild, plain node,
 * `--expose-gc`), as a state machine runs each step in a Lambda invocation: `<world dir>`, the request in
 * `<world dir>/request.json` ({@link StepRequest}), the answer as one IPC message ({@link StepAnswer}).
 *
 * The world the job works on (the generated pool's deletions, the stores' tallies and small files, the clock)
 * is loaded from the directory and saved back to it (bench/lib/scale-world.ts): it outlives the process, as
 * Cognito and S3 outlive an invocation. The step's state comes in the request and goes back in the answer,
 * through JSON, as Step Functions carries it.
 *
 * Memory: a full GC, then the RSS (Node and the code); the world loaded, a full GC, the RSS again: the
 * difference is the fakes' share. Then the kernel's high-water mark is reset (5 to /proc/self/clear_refs) and
 * the step runs; `VmHWM` after it is the process's peak, and the peak less the fakes' share is the step's own
 * (Node and the code included, as in a Lambda).
 *
 * A crash (`request.crash`): once the step has run `afterVirtualMs` of virtual time, at the next call to a
 * port (before it or after it answered), the world is saved as it is (what happened, happened) and the
 * process kills itself with SIGKILL: nothing else is written, no state returned. A step that ends before that
 * time dies just before returning its state. The caller reruns the step with the last state it received.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { parsePurgePolicy } from "../../core/purge/index.js";
import { checkStepState } from "../../core/steps/step.js";
import { CrashInjector } from "../../core/testing/crash.js";
import {
  identityPurgeStep,
  type PurgeState,
  startIdentityPurge,
} from "../../core/use-cases/purge-unconfirmed-identities.js";
import {
  snapshotReport,
  type SnapshotState,
  snapshotStep,
  startSnapshot,
} from "../../core/use-cases/snapshot-users.js";
import type { UserDirectory } from "../../core/ports/user-directory.js";
import { highWaterMark, resetHighWaterMark } from "../lib/rss.js";
import {
  CRASH_FILE,
  type CrashRecord,
  REQUEST_FILE,
  type StepAnswer,
  type StepEffects,
  type StepRequest,
} from "./scale-step.protocol.js";
import {
  loadWorld,
  pacedDirectory,
  POOL_ID,
  saveWorld,
  START,
  usageOf,
  type World,
} from "../lib/scale-world.js";

/** Dies (SIGKILL, from itself) at the first port-call boundary past a virtual instant. */
class KillAt extends CrashInjector {
  constructor(
    private readonly due: () => boolean,
    private readonly before: boolean,
    private readonly die: (label: string) => never,
  ) {
    super();
  }

  override boundary(label: string): void {
    if (this.due() && label.startsWith(this.before ? "before " : "after ")) this.die(label);
  }
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function main(): Promise<StepAnswer> {
  const dir = process.argv[2] as string;
  gc();
  const baseRssBytes = process.memoryUsage.rss();
  const request = JSON.parse(readFileSync(path.join(dir, REQUEST_FILE), "utf8")) as StepRequest;
  const clock = new ManualClock(START);
  const { world, clockMs } = loadWorld(dir, request.shape, clock);
  if (clockMs !== undefined) clock.set(new Date(clockMs));
  gc();
  const fakesBytes = Math.max(0, process.memoryUsage.rss() - baseRssBytes);

  const startMs = clock.now().getTime();
  const realStart = performance.now();
  const failedCalls: Record<string, number> = {};
  let deleted = 0;
  let firstDeleteMs: number | undefined;
  let lastDeleteMs: number | undefined;
  const effects = (): StepEffects => ({
    startMs,
    endMs: clock.now().getTime(),
    realMs: performance.now() - realStart,
    usage: usageOf(world.generated),
    failedCalls,
    deleted,
    confirmedDeleted: world.generated.confirmedDeleted,
    ...(firstDeleteMs === undefined ? {} : { firstDeleteMs }),
    ...(lastDeleteMs === undefined ? {} : { lastDeleteMs }),
  });
  const die = (label: string): never => {
    saveWorld(dir, world, clock.now().getTime());
    const record: CrashRecord = { ...effects(), label };
    writeFileSync(path.join(dir, CRASH_FILE), JSON.stringify(record));
    process.kill(process.pid, "SIGKILL");
    throw new Error("unreachable: killed");
  };
  const { crash } = request;
  const injector = crash
    ? new KillAt(() => clock.now().getTime() - startMs >= crash.afterVirtualMs, crash.before, die)
    : undefined;

  let directory = pacedDirectory(world.generated, clock, {
    failedCalls,
    after: (operation, result) => {
      if (operation !== "AdminDeleteUser" || result !== true) return;
      deleted += 1;
      firstDeleteMs ??= clock.now().getTime();
      lastDeleteMs = clock.now().getTime();
    },
  });
  let backups = world.backups;
  let profiles = world.profiles;
  if (injector) {
    directory = injector.wrap(directory, "directory");
    backups = injector.wrap(backups, "backups");
    profiles = injector.wrap(profiles, "profiles");
  }
  const deadline = new Date(startMs + request.stepBudgetMs);

  if (request.job === "verify-snapshot") {
    const state = request.state as SnapshotState;
    const report = await snapshotReport(world.backups, state);
    const check = world.backups.verifySnapshot(state.snapshotId, (i) => world.generated.exists(i));
    return {
      ...effects(),
      state,
      done: true,
      stateBytes: 0,
      baseRssBytes,
      fakesBytes,
      peakRssBytes: highWaterMark(),
      verify: {
        ...check,
        memberships: report.memberships,
        skipped: report.skipped,
        partitionRestarts: report.partitionRestarts,
        backupGets: world.backups.counts.userBackupGets,
        profileBatchReads: world.profiles.counts.batchReads,
        reconcile: report.reconcile,
        digestCalls: world.profiles.counts.digestsRecorded,
        profileCreates: world.profiles.counts.creates,
        partRepeats: world.backups.counts.partRepeats,
        partReplacements: world.backups.counts.partReplacements,
      },
    };
  }

  resetHighWaterMark();
  const outcome = await runOne(request, world, { directory, backups, profiles, clock }, deadline);
  const peakRssBytes = highWaterMark();
  const state = checkStepState(outcome.state);
  if (injector) die("after the step, before its state is returned");
  saveWorld(dir, world, clock.now().getTime());
  return {
    ...effects(),
    state,
    done: outcome.done,
    stateBytes: Buffer.byteLength(JSON.stringify(state), "utf8"),
    baseRssBytes,
    fakesBytes,
    peakRssBytes,
  };
}

async function runOne(
  request: StepRequest,
  world: World,
  ports: {
    directory: UserDirectory;
    backups: World["backups"];
    profiles: World["profiles"];
    clock: ManualClock;
  },
  deadline: Date,
): Promise<{ state: unknown; done: boolean }> {
  const { clock } = ports;
  if (request.job === "snapshot") {
    const deps = {
      directory: ports.directory,
      backups: ports.backups,
      profiles: ports.profiles,
      erasures: world.erasures,
      clock,
    };
    const options = { userPoolId: POOL_ID, reconcile: true };
    const state = (request.state as SnapshotState | null) ?? startSnapshot(options, clock);
    return snapshotStep(deps, options)(state, deadline);
  }
  const policy = parsePurgePolicy({ minAge: "24h" });
  const state = (request.state as PurgeState | null) ?? startIdentityPurge(clock, { policy });
  return identityPurgeStep({ directory: ports.directory, clock })(state, deadline);
}

main().then(
  (answer) => process.send?.(answer, () => process.exit(0)),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
