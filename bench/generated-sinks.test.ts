import { describe, expect, it } from "vitest";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { AccountQuotas } from "../adapters/in-memory/rate-limiter.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { describePart, serializeSnapshotLine } from "../core/backup/snapshot.js";
import { reconcile } from "../core/use-cases/reconcile.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import { GeneratedPool, GeneratedUserDirectory } from "./lib/generated-pool.js";
import { forEachStableId, IndexRuns, TallyBackupStore, TallyProfileStore } from "./lib/generated-sinks.js";

const NEWEST = new Date("2026-12-01T00:00:00.000Z");
const SIZE = 2_000;
const POOL_ID = "eu-west-1_bench";

function world(options: { withoutDigests?: boolean } = {}) {
  const clock = new ManualClock("2026-12-02T00:00:00.000Z");
  const pool = new GeneratedPool({ size: SIZE, unconfirmedOneIn: 50, groups: 5, newestSignUp: NEWEST });
  const directory = new GeneratedUserDirectory(pool, { clock, quotas: new AccountQuotas(clock, {}) });
  const backups = new TallyBackupStore(pool, {
    staleBackupOneIn: 100,
    capturedAt: NEWEST,
    userPoolId: POOL_ID,
  });
  const profiles = new TallyProfileStore(pool, {
    missingProfileOneIn: 100,
    drifted: (i) => backups.wasStale(i),
    ...options,
  });
  return { clock, pool, directory, backups, profiles, erasures: new InMemoryErasureLedger() };
}

function partOf(pool: GeneratedPool, name: string, indexes: readonly number[]) {
  const text = indexes
    .map((i) =>
      serializeSnapshotLine({
        version: 1,
        capturedAt: NEWEST,
        source: { kind: "snapshot", userPoolId: POOL_ID },
        user: pool.userOf(i),
      }),
    )
    .join("");
  return { ...describePart(name, text), text };
}

describe("IndexRuns", () => {
  it("keeps indexes as runs and gives them back in order", () => {
    const runs = new IndexRuns();
    const indexes = [0, 16, 32, 48, 5, 7, 7, 100, 3];
    for (const i of indexes) runs.push(i);
    const back: number[] = [];
    runs.forEach((i) => back.push(i));
    expect(back).toEqual(indexes);
    expect(runs.length).toBe(4); // [0,16,32,48] [5,7] [7,100] [3]
  });
});

describe("forEachStableId", () => {
  it("reads each line's sub, or its legacy sub when it has one", () => {
    const pool = new GeneratedPool({ size: 10, newestSignUp: NEWEST });
    const legacy = serializeSnapshotLine({
      version: 1,
      capturedAt: NEWEST,
      source: { kind: "snapshot" },
      user: {
        ...pool.userOf(2),
        attributes: { ...pool.userOf(2).attributes, "custom:legacy_sub": pool.subOf(9) },
      },
    });
    const ids: string[] = [];
    forEachStableId(partOf(pool, "p", [1, 3]).text + legacy, (id) => ids.push(id));
    expect(ids).toEqual([pool.subOf(1), pool.subOf(3), pool.subOf(9)]);
  });
});

describe("TallyBackupStore", () => {
  it("checks today's snapshot of a generated pool: every user once", async () => {
    const w = world();
    const result = await snapshotUsers(w, { userPoolId: POOL_ID, maxRecordsPerPart: 300 });
    const check = w.backups.verifySnapshot(result.snapshotId, (i) => w.directory.exists(i));
    expect(check).toEqual({
      manifestCount: SIZE,
      recordsInParts: SIZE,
      partsMismatched: 0,
      duplicates: 0,
      missing: 0,
      unexpected: 0,
      foreign: 0,
      tallyMatches: true,
    });
    // Parts per sub partition (format version 2): each written once.
    expect(w.backups.counts.partPuts).toBe(result.parts.length);
    expect(result.parts.length).toBeGreaterThanOrEqual(16);
  });

  it("finds duplicates and missing users, counts only the parts the manifest names, and sees repeats", async () => {
    const w = world();
    const all = Array.from({ length: SIZE }, (_, i) => i);
    const a = partOf(w.pool, "part-00001.jsonl", all.slice(0, 1000));
    // Part 2 holds user 10 again and leaves out users 1990–1999.
    const b = partOf(w.pool, "part-00002.jsonl", [10, ...all.slice(1000, 1990)]);
    const orphan = partOf(w.pool, "part-00003.jsonl", all.slice(1990));
    for (const part of [a, b, orphan, a]) await w.backups.putSnapshotPart("s1", part);
    expect(w.backups.counts.partRepeats).toBe(1);
    const entry = ({ text: _text, ...rest }: typeof a) => rest;
    await w.backups.putSnapshotManifest({
      version: 1,
      snapshotId: "s1",
      userPoolId: POOL_ID,
      startedAt: NEWEST,
      completedAt: NEWEST,
      userCount: 1991,
      groups: [],
      parts: [entry(a), entry(b)],
    });
    const check = w.backups.verifySnapshot("s1", (i) => w.directory.exists(i));
    expect(check).toMatchObject({ duplicates: 1, missing: 10, partsMismatched: 0, tallyMatches: false });

    // A part replaced by another text under the same name: the manifest's checksum decides which counts.
    await w.backups.putSnapshotPart("s1", partOf(w.pool, "part-00002.jsonl", all.slice(1000)));
    expect(w.backups.counts.partReplacements).toBe(1);
    expect(w.backups.verifySnapshot("s1", (i) => w.directory.exists(i)).partsMismatched).toBe(1);
  });

  it("sees a swap of one user for another through the hash tally alone", async () => {
    const w = world();
    const ids = Array.from({ length: SIZE }, (_, i) => i);
    ids[7] = 8; // user 8 twice, user 7 missing: same count
    const part = partOf(w.pool, "part-00001.jsonl", ids);
    await w.backups.putSnapshotPart("s2", part);
    const { text: _text, ...entry } = part;
    await w.backups.putSnapshotManifest({
      version: 1,
      snapshotId: "s2",
      userPoolId: POOL_ID,
      startedAt: NEWEST,
      completedAt: NEWEST,
      userCount: SIZE,
      groups: [],
      parts: [entry],
    });
    const check = w.backups.verifySnapshot("s2", (i) => w.directory.exists(i));
    expect(check).toMatchObject({ recordsInParts: SIZE, duplicates: 1, missing: 1, tallyMatches: false });
  });

  it("lets reconcile find the drifted users by digest: only they are read, profiles created and backups written for them only", async () => {
    const w = world();
    let stale = 0;
    let lacking = 0;
    let read = 0;
    for (let i = 0; i < SIZE; i += 1) {
      if (w.pool.isUnconfirmed(i)) continue;
      if (w.backups.isStale(i)) stale += 1;
      if (w.profiles.lacksProfile(i)) lacking += 1;
      if (w.backups.isStale(i) || w.profiles.lacksProfile(i)) read += 1;
    }
    const report = await reconcile(w, { userPoolId: POOL_ID });
    expect(stale).toBeGreaterThan(0);
    expect(lacking).toBeGreaterThan(0);
    expect(report.backupsWritten).toBe(stale);
    expect(report.profilesCreated).toBe(lacking);
    expect(report.failed).toBe(0);
    expect(report.backupsRead).toBe(read);
    expect(w.backups.counts.userBackupGets).toBe(read);
    expect(w.profiles.counts.digestsNotCurrent).toBe(0);
    // A second run finds nothing left to write, and reads nothing.
    const again = await reconcile(w, { userPoolId: POOL_ID });
    expect(again.backupsWritten + again.profilesCreated + again.backupsRead).toBe(0);
    expect(w.backups.counts.userBackupGets).toBe(read);
  });

  it("without digests in the profiles (before they were recorded), reconcile reads every user once", async () => {
    const w = world({ withoutDigests: true });
    const report = await reconcile(w, { userPoolId: POOL_ID });
    expect(report.failed).toBe(0);
    expect(w.backups.counts.userBackupGets).toBe(report.checked);
    expect(report.backupsRead).toBe(report.checked);
    // Every digest is recorded then: the next run reads nobody.
    const again = await reconcile(w, { userPoolId: POOL_ID });
    expect(again.backupsRead).toBe(0);
  });
});
