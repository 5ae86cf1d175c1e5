import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { SteppingClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryUserDirectory } from "../adapters/in-memory/user-directory.js";
import { forEachSnapshotRecord } from "../core/backup/snapshot.js";
import { LifecycleError } from "../core/errors.js";
import { aUser } from "../core/testing/builders.js";
import { type SnapshotState, snapshotStep, startSnapshot } from "../core/use-cases/snapshot-users.js";
import { loadRun, runStepsSaved, saveRun, writeOwnerOnlyJson } from "./run-state.js";

const POOL = "eu-west-1_Resume";
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function aFile(): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), "run-state-"));
  return path.join(dir, "snapshot.run.json");
}

function aWorld(count: number) {
  // Every reading of the clock moves it a second: steps of 25 s do a few units of work each.
  const clock = new SteppingClock("2026-06-10T02:00:00.000Z", 1_000);
  const directory = new InMemoryUserDirectory({ clock });
  directory.seed(
    ...Array.from({ length: count }, (_, i) =>
      aUser({ sub: `${(i % 16).toString(16)}${String(i).padStart(7, "0")}-0000-4000-8000-000000000000` }),
    ),
  );
  return { clock, directory, backups: new InMemoryBackupStore(), erasures: new InMemoryErasureLedger() };
}

const OPTIONS = { userPoolId: POOL, pageSize: 7, maxRecordsPerPart: 20, marginMs: 20_000 };

describe("a stepped run in the CLI, saved after every step", () => {
  it("carries on from the file after a crash mid-run: every user once, the steps counted on", async () => {
    const file = await aFile();
    const world = aWorld(120);
    const put = world.backups.putSnapshotFile.bind(world.backups);
    let writes = 0;
    world.backups.putSnapshotFile = async (...args: Parameters<typeof put>) => {
      // Past the first step: a snapshot writes each part with its index and its partition's entries.
      if (++writes === 20) throw new LifecycleError("SERVICE.UNREACHABLE", "S3 is unreachable");
      return put(...args);
    };
    const step = snapshotStep(world, OPTIONS);
    const options = { file, job: "snapshot", userPoolId: POOL, clock: world.clock, stepBudgetMs: 25_000 };
    await expect(
      runStepsSaved(step, { state: startSnapshot(OPTIONS, world.clock), steps: 0 }, options),
    ).rejects.toMatchObject({ code: "SERVICE.UNREACHABLE" });
    const saved = await loadRun(file, { job: "snapshot", userPoolId: POOL });
    expect(saved.steps).toBeGreaterThan(1);
    expect(saved.done).toBe(false);
    // Readable by its owner only: the state may hold usernames.
    expect((await stat(file)).mode & 0o077).toBe(0);

    const resumed = await runStepsSaved(
      step,
      { state: saved.state as SnapshotState, steps: saved.steps },
      options,
    );
    expect(resumed.steps).toBeGreaterThan(saved.steps);
    expect(await loadRun(file, { job: "snapshot", userPoolId: POOL })).toMatchObject({ done: true });
    const manifest = await world.backups.getSnapshotManifest(resumed.state.snapshotId);
    const usernames: string[] = [];
    for (const part of manifest.parts) {
      const text = await world.backups.getSnapshotPart(resumed.state.snapshotId, part.name);
      forEachSnapshotRecord(text, part.name, (record) => usernames.push(record.user.username));
    }
    expect(usernames).toHaveLength(120);
    expect(new Set(usernames).size).toBe(120);
  });

  it("refuses a file of another job, another pool, or no saved run at all, with a typed error", async () => {
    const file = await aFile();
    const run = {
      version: 1 as const,
      job: "snapshot",
      userPoolId: POOL,
      savedAt: "",
      steps: 3,
      done: false,
      state: {},
    };
    await saveRun(file, run);
    await expect(
      loadRun(file, { job: "purge-unconfirmed-identities", userPoolId: POOL }),
    ).rejects.toMatchObject({
      name: "ValidationError",
      code: "RUN_STATE.OTHER_JOB",
    });
    await expect(loadRun(file, { job: "snapshot", userPoolId: "eu-west-1_Other" })).rejects.toMatchObject({
      code: "RUN_STATE.OTHER_POOL",
    });
    await writeFile(file, JSON.stringify({ ...run, extra: true }));
    await expect(loadRun(file, { job: "snapshot", userPoolId: POOL })).rejects.toMatchObject({
      code: "RUN_STATE.UNREADABLE",
    });
    await writeFile(file, "{not json");
    await expect(loadRun(file, { job: "snapshot", userPoolId: POOL })).rejects.toMatchObject({
      code: "RUN_STATE.UNREADABLE",
    });
    await expect(loadRun(`${file}.missing`, { job: "snapshot", userPoolId: POOL })).rejects.toMatchObject({
      code: "RUN_STATE.UNREADABLE",
    });
    expect(await readFile(file, "utf8")).toBe("{not json");
  });
});

describe("writeOwnerOnlyJson", () => {
  it("replaces a file once readable by others with one readable by its owner only, past a leftover temporary file", async () => {
    const file = await aFile();
    await writeFile(file, "old, world-readable\n", { mode: 0o644 });
    // What a write killed between creating its temporary file and renaming it leaves behind.
    await writeFile(`${file}.${process.pid}.tmp`, "half", { mode: 0o644 });
    await writeOwnerOnlyJson(file, { resumeFrom: { users: ["alice"] } });
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ resumeFrom: { users: ["alice"] } });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await expect(stat(`${file}.${process.pid}.tmp`)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
