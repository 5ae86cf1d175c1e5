/**
 * `snapshot --state-file` / `--resume`: the CLI runs the snapshot's steps in this process, saving the state
 * after every step; a run that fails half-way is carried on from the file, every user once; a file of
 * another pool or job is refused before anything runs.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { SteppingClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { forEachSnapshotRecord } from "../../core/backup/snapshot.js";
import { LifecycleError } from "../../core/errors.js";
import { DEFAULT_PURGE_POLICY } from "../../core/purge/index.js";
import { aUser } from "../../core/testing/builders.js";
import type { Connection } from "../connection.js";
import { run } from "../main.js";
import { capturedIo } from "../testing/captured-io.js";

const POOL = "eu-west-1_AbC123";

function world(count: number) {
  // Every reading of the clock moves it a minute: a step of 15 minutes does a few units of work.
  const clock = new SteppingClock("2026-06-10T02:00:00.000Z", 60_000);
  const directory = new InMemoryUserDirectory({ clock });
  directory.seed(
    ...Array.from({ length: count }, (_, i) =>
      aUser({ sub: `${(i % 16).toString(16)}${String(i).padStart(7, "0")}-0000-4000-8000-000000000000` }),
    ),
  );
  const backups = new InMemoryBackupStore();
  const erasures = new InMemoryErasureLedger();
  const connect = (): Connection =>
    ({
      userPoolId: () => POOL,
      directory: () => directory,
      backups: () => backups,
      erasures: () => erasures,
      clock,
      sleeper: clock,
      purgePolicy: () => DEFAULT_PURGE_POLICY,
      close: async () => undefined,
    }) as unknown as Connection;
  return { backups, connect };
}

describe("user-lifecycle snapshot --state-file / --resume", () => {
  it("carries on a run that failed half-way from its file: every user once", async () => {
    const w = world(150);
    const put = w.backups.putSnapshotFile.bind(w.backups);
    let writes = 0;
    w.backups.putSnapshotFile = async (...args: Parameters<typeof put>) => {
      if (++writes === 30) throw new LifecycleError("SERVICE.UNREACHABLE", "S3 is unreachable");
      return put(...args);
    };
    const first = capturedIo();
    const args = ["snapshot", "--region", "eu-west-1", "--json"];
    expect(await run([...args, "--state-file", "run.json"], first.io, { connect: w.connect })).toBe(1);
    expect(existsSync(join(first.io.cwd, "run.json"))).toBe(true);
    expect(await w.backups.listSnapshots()).toEqual([]);

    const again = capturedIo({ cwd: first.io.cwd });
    expect(await run([...args, "--resume", "run.json"], again.io, { connect: w.connect })).toBe(0);
    const { snapshotId, users } = JSON.parse(again.stdout()) as { snapshotId: string; users: number };
    expect(users).toBe(150);
    const manifest = await w.backups.getSnapshotManifest(snapshotId);
    const usernames: string[] = [];
    for (const part of manifest.parts) {
      const text = await w.backups.getSnapshotPart(snapshotId, part.name);
      forEachSnapshotRecord(text, part.name, (record) => usernames.push(record.user.username));
    }
    expect(usernames).toHaveLength(150);
    expect(new Set(usernames).size).toBe(150);
    expect(await w.backups.listSnapshots()).toEqual([snapshotId]);
  });

  it("refuses a file saved on another pool, writing nothing", async () => {
    const w = world(3);
    const captured = capturedIo();
    writeFileSync(
      join(captured.io.cwd, "other.json"),
      JSON.stringify({
        version: 1,
        job: "snapshot",
        userPoolId: "eu-west-1_Other",
        savedAt: "",
        steps: 2,
        done: false,
        state: {},
      }),
    );
    const code = await run(["snapshot", "--region", "eu-west-1", "--resume", "other.json"], captured.io, {
      connect: w.connect,
    });
    expect(code).toBe(1);
    expect(captured.stderr()).toContain("RUN_STATE.OTHER_POOL");
    expect(await w.backups.listSnapshotIds()).toEqual([]);
  });

  it("refuses --resume with --dry-run as a usage error", async () => {
    const w = world(1);
    const captured = capturedIo();
    expect(
      await run(["snapshot", "--region", "eu-west-1", "--dry-run", "--resume", "x.json"], captured.io, {
        connect: w.connect,
      }),
    ).toBe(2);
  });
});
