import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { parsePurgePolicy } from "../core/purge/index.js";
import { checkStepState } from "../core/steps/step.js";
import {
  identityPurgeDone,
  identityPurgeStep,
  type PurgeState,
  startIdentityPurge,
} from "../core/use-cases/purge-unconfirmed-identities.js";
import {
  snapshotReport,
  type SnapshotState,
  snapshotStep,
  startSnapshot,
} from "../core/use-cases/snapshot-users.js";
import { Bitset } from "./lib/generated-pool.js";
import { loadWorld, pacedDirectory, POOL_ID, saveWorld, START } from "./lib/scale-world.js";
import { planCrashes } from "./scenarios/scale-steps.js";

const SHAPE = { users: 3_000, unconfirmedOneIn: 50, groups: 7 };
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "scale-steps-test-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * One step as the scale scenario's step worker runs it: the world loaded from `dir`, the step, the world
 * saved; the state through JSON. In-process here (the bench runs each in a process of its own).
 */
async function stepOnce<S>(
  dir: string,
  state: S | null,
  budgetMs: number,
  run: (
    world: ReturnType<typeof loadWorld>["world"],
    clock: ManualClock,
    directory: ReturnType<typeof pacedDirectory>,
    state: S | null,
    deadline: Date,
  ) => Promise<{ state: S; done: boolean }>,
): Promise<{ state: S; done: boolean }> {
  const clock = new ManualClock(START);
  const { world, clockMs } = loadWorld(dir, SHAPE, clock);
  if (clockMs !== undefined) clock.set(new Date(clockMs));
  const directory = pacedDirectory(world.generated, clock, { failedCalls: {} });
  const outcome = await run(world, clock, directory, state, new Date(clock.now().getTime() + budgetMs));
  saveWorld(dir, world, clock.now().getTime());
  return { state: JSON.parse(JSON.stringify(checkStepState(outcome.state))) as S, done: outcome.done };
}

/**
 * A whole snapshot in short steps (3 s of virtual time, 1 s margin: cursors, parts and group files cross
 * many of them), each through {@link stepOnce}; the world as the last step left it, and the report.
 */
async function snapshotInSteps(dir: string, { reconcile }: { readonly reconcile: boolean }) {
  const options = {
    userPoolId: POOL_ID,
    reconcile,
    maxRecordsPerPart: 100,
    maxMembersPerGroupFile: 120,
    marginMs: 1_000,
  };
  let state: SnapshotState | null = null;
  let steps = 0;
  for (let done = false; !done; steps += 1) {
    expect(steps).toBeLessThan(100);
    ({ state, done } = await stepOnce<SnapshotState>(
      dir,
      state,
      3_000,
      (world, clock, directory, s, deadline) =>
        snapshotStep(
          { directory, backups: world.backups, profiles: world.profiles, erasures: world.erasures, clock },
          options,
        )(s ?? startSnapshot(options, clock), deadline),
    ));
  }
  expect(steps).toBeGreaterThan(2);
  const { world } = loadWorld(dir, SHAPE, new ManualClock(START));
  const final = state as SnapshotState;
  return { world, state: final, report: await snapshotReport(world.backups, final) };
}

describe("the scale scenario's stepped runs", () => {
  it("plans the same crashes for the same seed, at distinct steps when there are enough, mid-way", () => {
    const stepMs = [600_000, 660_000, 660_000, 660_000, 660_000, 660_000, 120_000];
    const plan = planCrashes(42, 5, stepMs);
    expect(planCrashes(42, 5, stepMs)).toEqual(plan);
    expect(planCrashes(43, 5, stepMs)).not.toEqual(plan);
    expect(plan).toHaveLength(5);
    expect(new Set(plan.map((crash) => crash.step)).size).toBe(5);
    for (const crash of plan) {
      const ms = stepMs[crash.step - 1] as number;
      expect(crash.afterVirtualMs).toBeGreaterThanOrEqual(0.1 * ms);
      expect(crash.afterVirtualMs).toBeLessThanOrEqual(0.9 * ms);
    }
    // Fewer steps than crashes: a step is killed more than once, one attempt after the other.
    expect(planCrashes(42, 5, [60_000, 30_000]).map((crash) => crash.step)).toHaveLength(5);
  });

  it("keeps a bitset's members through its bytes", () => {
    const set = new Bitset(1_000);
    for (const i of [0, 7, 8, 999]) set.add(i);
    const copy = Bitset.fromBytes(1_000, set.bytes.slice());
    expect(copy.count).toBe(4);
    expect([0, 7, 8, 999].every((i) => copy.has(i))).toBe(true);
    expect(copy.has(1)).toBe(false);
    expect(() => Bitset.fromBytes(2_000, set.bytes)).toThrow(RangeError);
  });

  it("carries the world between steps: a snapshot of many short steps is exact", async () => {
    const dir = tempDir();
    const { world, state } = await snapshotInSteps(dir, { reconcile: false });
    const check = world.backups.verifySnapshot(state.snapshotId, (i) => world.generated.exists(i));
    expect(check).toMatchObject({
      manifestCount: SHAPE.users,
      duplicates: 0,
      missing: 0,
      unexpected: 0,
      partsMismatched: 0,
      tallyMatches: true,
    });
    const manifest = await world.backups.getSnapshotManifest(state.snapshotId);
    expect(manifest.version === 2 && manifest.membershipCount).toBe(SHAPE.users);
    expect(world.profiles.counts.batchReads).toBe(0);
  });

  it("reconciles on a stepped snapshot's pages: the drifted users are rewritten, the rest cost no GET", async () => {
    const dir = tempDir();
    const before = loadWorld(dir, SHAPE, new ManualClock(START)).world;
    const confirmed: number[] = [];
    for (let i = 0; i < SHAPE.users; i += 1) if (!before.pool.isUnconfirmed(i)) confirmed.push(i);
    const drifted = confirmed.filter((i) => before.backups.wasStale(i));
    const missing = confirmed.filter((i) => before.profiles.lacksProfile(i));
    const read = new Set([...drifted, ...missing]);
    // The seeded sets are small but not empty at 3,000 users (1 in 1,000 each, by hash).
    expect(drifted.length + missing.length).toBeGreaterThan(0);
    expect(read.size).toBeLessThan(confirmed.length / 100);

    const first = await snapshotInSteps(dir, { reconcile: true });
    expect(first.report.reconcile).toMatchObject({
      checked: confirmed.length,
      backupsRead: read.size,
      backupsWritten: drifted.length,
      profilesCreated: missing.length,
      backupsCurrent: confirmed.length - drifted.length,
      failed: 0,
      skipped: 0,
    });
    expect(first.world.backups.counts.userBackupGets).toBe(read.size);
    expect(first.world.backups.counts.userBackupPuts).toBe(drifted.length);
    expect(drifted.every((i) => !first.world.backups.isStale(i))).toBe(true);
    // Every read user has its current digest now (recorded, or with the profile created).
    expect([...read].every((i) => first.world.profiles.digested.has(i))).toBe(true);
    expect(first.world.profiles.counts.digestsNotCurrent).toBe(0);
    expect(first.world.profiles.counts.batchReads).toBeGreaterThan(0);

    // The next night: every digest matches, no user costs a GET.
    const second = await snapshotInSteps(dir, { reconcile: true });
    expect(second.report.reconcile).toMatchObject({
      checked: confirmed.length,
      backupsRead: 0,
      backupsWritten: 0,
      profilesCreated: 0,
    });
    expect(second.world.backups.counts.userBackupGets).toBe(read.size);
  });

  it("carries the purge's deletions between steps: nobody confirmed deleted, each deletion kept", async () => {
    const dir = tempDir();
    const policy = parsePurgePolicy({ minAge: "24h", maxDeletionsPerRun: 30 });
    let state: PurgeState | null = null;
    for (let steps = 0; state === null || !identityPurgeDone(state); steps += 1) {
      expect(steps).toBeLessThan(100);
      ({ state } = await stepOnce<PurgeState>(dir, state, 2_000, (_world, clock, directory, s, deadline) =>
        identityPurgeStep({ directory, clock }, { marginMs: 500 })(
          s ?? startIdentityPurge(clock, { policy }),
          deadline,
        ),
      ));
    }
    const { world } = loadWorld(dir, SHAPE, new ManualClock(START));
    expect(state.report?.deleted).toBe(30);
    expect(world.generated.deleted.count).toBe(30);
    expect(world.generated.confirmedDeleted).toBe(0);
  });
});
