import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { SteppingClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { forEachSnapshotRecord, verifyPart } from "../backup/snapshot.js";
import { parseGroupMembers, parseIdIndex, readPartitionFileName } from "../backup/snapshot-files.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { UserDirectory } from "../ports/user-directory.js";
import { runSteps } from "../steps/step.js";
import { CrashInjector, everyBoundary, runStepsThroughCrashes } from "../testing/crash.js";
import { aUser } from "../testing/builders.js";
import { stableUserId, type User } from "../user/user.js";
import {
  type SnapshotDeps,
  type SnapshotOptions,
  snapshotReport,
  snapshotStep,
  startSnapshot,
} from "./snapshot-users.js";

const POOL = "eu-west-1_Steps";
const GROUPS = ["admins", "staff", "beta", "support", "everyone"];

/** `count` users, subs spread over the sixteen partitions, each in some of the five groups. */
function aPool(count: number, firstDigit?: (i: number) => string): User[] {
  return Array.from({ length: count }, (_, i) => {
    const digit = firstDigit ? firstDigit(i) : (i % 16).toString(16);
    const groups = GROUPS.filter((_, g) => g === 4 || (i + g) % (g + 2) === 0);
    return aUser({
      sub: `${digit}${String(i).padStart(7, "0")}-0000-4000-8000-000000000000`,
      groups,
    });
  });
}

interface World {
  readonly clock: SteppingClock;
  readonly directory: InMemoryUserDirectory;
  readonly backups: InMemoryBackupStore;
  readonly erasures: InMemoryErasureLedger;
}

function aWorld(users: readonly User[]): World {
  // Every reading of the clock moves it a second: work takes (virtual) time, so steps yield.
  const clock = new SteppingClock("2026-06-01T02:00:00.000Z", 1_000);
  const directory = new InMemoryUserDirectory({ clock });
  directory.seed(...users);
  return { clock, directory, backups: new InMemoryBackupStore(), erasures: new InMemoryErasureLedger() };
}

const SMALL: Omit<SnapshotOptions, "userPoolId"> = {
  pageSize: 7,
  maxRecordsPerPart: 20,
  maxMembersPerGroupFile: 25,
  marginMs: 20_000,
};

/** What the stored snapshot holds, read as a restore would (every file checked against the manifest). */
async function readBack(backups: BackupStore, snapshotId: string) {
  const manifest = await backups.getSnapshotManifest(snapshotId);
  const usernames: string[] = [];
  for (const entry of manifest.parts) {
    const text = await backups.getSnapshotPart(snapshotId, entry.name);
    verifyPart(entry, text);
    const ids: string[] = [];
    forEachSnapshotRecord(text, entry.name, (record) => {
      expect(record.user.groups).toEqual([]);
      usernames.push(record.user.username);
      ids.push(stableUserId(record.user));
    });
    const index = entry.index;
    expect(index).toBeDefined();
    const indexText = (await backups.getSnapshotFile(snapshotId, index?.name ?? "")) ?? "";
    verifyPart(index ?? { name: "", bytes: -1, sha256: "" }, indexText);
    expect(parseIdIndex(indexText, "index")).toEqual(ids);
  }
  const memberships = new Map<string, string[]>();
  if (manifest.version !== 2) throw new Error("expected a version 2 manifest");
  for (const entry of manifest.groupFiles) {
    const text = (await backups.getSnapshotFile(snapshotId, entry.name)) ?? "";
    verifyPart(entry, text);
    for (const username of parseGroupMembers(text, entry.name)) {
      memberships.set(username, [...(memberships.get(username) ?? []), entry.group].sort());
    }
  }
  const described = new Set([
    ...manifest.parts.flatMap((part) => [part.name, part.index?.name]),
    ...manifest.groupFiles.map((file) => file.name),
  ]);
  const stray = (await backups.listSnapshotFiles(snapshotId)).filter(
    (name) => !described.has(name) && !/^groups\/page-\d{5}\.json$/.test(name),
  );
  return { manifest, usernames, memberships, stray };
}

function expectedMemberships(directory: InMemoryUserDirectory): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const user of directory.snapshot())
    if (user.groups.length > 0) map.set(user.username, [...user.groups].sort());
  return map;
}

describe("the snapshot as durable steps (format version 2)", () => {
  it("finishes a listing longer than one step's budget, in many steps, with the whole pool", async () => {
    const world = aWorld(aPool(300));
    const deps: SnapshotDeps = world;
    const options = { userPoolId: POOL, ...SMALL };
    const { state, steps } = await runSteps(
      snapshotStep(deps, options),
      startSnapshot(options, world.clock),
      {
        clock: world.clock,
        stepBudgetMs: 25_000,
      },
    );
    expect(steps).toBeGreaterThan(10);
    const stored = await readBack(world.backups, state.snapshotId);
    expect(stored.manifest.userCount).toBe(300);
    expect(new Set(stored.usernames).size).toBe(300);
    expect(stored.memberships).toEqual(expectedMemberships(world.directory));
    expect(stored.stray).toEqual([]);
    const report = await snapshotReport(world.backups, state);
    expect(report).toMatchObject({ userCount: 300, skipped: 0, erasedLeftOut: 0, partitionRestarts: 0 });
    // Sixteen partitions, each its own run of parts, numbered from 1.
    const partitions = new Set(
      stored.manifest.parts.map((part) => readPartitionFileName(part.name)?.partition),
    );
    expect(partitions.size).toBe(16);
  });

  // Hundreds of complete runs (one per boundary): seconds, but more under a loaded machine.
  it(
    "loses and doubles nothing when killed at any effect boundary, then run again from its last state",
    { timeout: 180_000 },
    async () => {
      const users = aPool(300);
      const scenario = async (injector: CrashInjector) => {
        const world = aWorld(users);
        // Pages of 7 (three per partition), parts of two pages, group files of 60 (big groups have several).
        const options = {
          userPoolId: POOL,
          pageSize: 7,
          maxRecordsPerPart: 14,
          maxMembersPerGroupFile: 60,
          marginMs: 20_000,
        };
        const initial = startSnapshot(options, world.clock);
        const { state } = await runStepsThroughCrashes(
          () =>
            snapshotStep(
              {
                clock: world.clock,
                erasures: world.erasures,
                backups: injector.wrap<BackupStore>(world.backups, "backups"),
                directory: injector.wrap<UserDirectory>(world.directory, "directory", [
                  "listUsers",
                  "listGroups",
                  "listGroupMembers",
                ]),
              },
              options,
            ),
          initial,
          { clock: world.clock, stepBudgetMs: 25_000 },
        );
        return { world, state };
      };
      const boundaries = await everyBoundary(scenario);
      expect(boundaries.length).toBeGreaterThan(100);
      for (const boundary of boundaries) {
        const { world, state } = await scenario(new CrashInjector([boundary]));
        const stored = await readBack(world.backups, state.snapshotId);
        const failure = `crash at boundary ${boundary}`;
        expect(stored.manifest.userCount, failure).toBe(300);
        expect(stored.usernames.length, failure).toBe(300);
        expect(new Set(stored.usernames).size, failure).toBe(300);
        expect(stored.memberships, failure).toEqual(expectedMemberships(world.directory));
        expect(stored.stray, failure).toEqual([]);
      }
    },
  );

  it("restarts only the partition whose token expired: its parts rewritten from part 1, those past the new last removed", async () => {
    // Sixty users in partition "a", the rest spread; pages of 5, a part per page.
    const users = aPool(120, (i) => (i < 60 ? "a" : ("0123456789bcdef"[i % 15] ?? "0")));
    const world = aWorld(users);
    const inA = users.filter((user) => user.sub.startsWith("a"));
    let pagesOfA = 0;
    const directory: UserDirectory = new Proxy(world.directory, {
      get(target, property, receiver) {
        if (property !== "listUsers") return Reflect.get(target, property, receiver) as unknown;
        return async (query: Parameters<UserDirectory["listUsers"]>[0]) => {
          const page = await target.listUsers(query);
          if (query?.subPrefix === "a" && (pagesOfA += 1) === 8) {
            // Half of partition a leaves the pool: Cognito may then refuse the token (and this pool does).
            for (const user of inA.slice(0, 30)) await target.deleteUser(user.username);
          }
          return page;
        };
      },
    });
    const options = { userPoolId: POOL, pageSize: 5, maxRecordsPerPart: 5, marginMs: 20_000 };
    const { state } = await runSteps(
      snapshotStep({ ...world, directory }, options),
      startSnapshot(options, world.clock),
      { clock: world.clock, stepBudgetMs: 25_000 },
    );
    const partitionA = state.partitions.find((p) => p.prefix === "a");
    expect(partitionA?.restarts).toBe(1);
    const stored = await readBack(world.backups, state.snapshotId);
    const partsOfA = stored.manifest.parts.filter((part) => part.name.startsWith("p-a/"));
    expect(partsOfA.map((part) => part.name)).toEqual(
      Array.from({ length: 6 }, (_, i) => `p-a/part-0000${i + 1}.jsonl`),
    );
    expect(await world.backups.getSnapshotFile(state.snapshotId, "p-a/part-00007.jsonl")).toBeUndefined();
    expect(await world.backups.getSnapshotFile(state.snapshotId, "p-a/part-00008.ids")).toBeUndefined();
    expect(stored.stray).toEqual([]);
    expect(stored.manifest.userCount).toBe(90);
    expect(new Set(stored.usernames)).toEqual(new Set(world.directory.snapshot().map((u) => u.username)));
    // Every other partition was listed once: its cursor was never reset.
    expect(state.partitions.filter((p) => p.restarts > 0).map((p) => p.prefix)).toEqual(["a"]);
  });

  it("cleans the files of an older snapshot that never completed, and keeps complete ones", async () => {
    const world = aWorld(aPool(40));
    const options = { userPoolId: POOL, ...SMALL };
    const first = startSnapshot(options, world.clock);
    // A first run killed after a few steps: parts, no manifest.
    await runSteps(snapshotStep(world, options), first, {
      clock: world.clock,
      stepBudgetMs: 25_000,
      onState: (_state, step) => {
        if (step === 3) throw new Error("killed");
      },
    }).catch(() => undefined);
    expect((await world.backups.listSnapshotFiles(first.snapshotId)).length).toBeGreaterThan(0);
    expect(await world.backups.listSnapshots()).toEqual([]);
    const second = startSnapshot(options, world.clock);
    const { state } = await runSteps(snapshotStep(world, options), second, {
      clock: world.clock,
      stepBudgetMs: 25_000,
    });
    expect(await world.backups.listSnapshotFiles(first.snapshotId)).toEqual([]);
    expect(await world.backups.listSnapshots()).toEqual([state.snapshotId]);
    // A third run keeps the complete second one.
    await runSteps(snapshotStep(world, options), startSnapshot(options, world.clock), {
      clock: world.clock,
      stepBudgetMs: 25_000,
    });
    expect((await world.backups.listSnapshots()).length).toBe(2);
    expect((await readBack(world.backups, state.snapshotId)).manifest.userCount).toBe(40);
  });

  it("never writes a tombstoned person still in the pool: not in a part, an index or a group file", async () => {
    const users = aPool(50);
    const world = aWorld(users);
    const erased = users[3] as User;
    await world.erasures.record({ userId: stableUserId(erased), erasedAt: world.clock.now() });
    const options = { userPoolId: POOL, ...SMALL };
    const { state } = await runSteps(snapshotStep(world, options), startSnapshot(options, world.clock), {
      clock: world.clock,
      stepBudgetMs: 25_000,
    });
    const stored = await readBack(world.backups, state.snapshotId);
    expect(stored.usernames).not.toContain(erased.username);
    expect(stored.memberships.has(erased.username)).toBe(false);
    expect(stored.manifest.userCount).toBe(49);
    expect((await snapshotReport(world.backups, state)).erasedLeftOut).toBe(1);
    const expected = expectedMemberships(world.directory);
    expected.delete(erased.username);
    expect(stored.memberships).toEqual(expected);
  });
});

describe("the snapshot's state stays small", () => {
  it("whatever the number of parts: 1,200 parts (a 40M-user pool has 800 of 50,000) travel in S3, not in the state", async () => {
    const users = aPool(1_200);
    const world = aWorld(users);
    // One user per page and per part: as many parts as a pool of 60,000,000 users with 50,000 per part.
    const options = { userPoolId: POOL, pageSize: 1, maxRecordsPerPart: 1, marginMs: 20_000 };
    let largest = 0;
    const { state } = await runSteps(snapshotStep(world, options), startSnapshot(options, world.clock), {
      clock: world.clock,
      stepBudgetMs: 600_000,
      onState: (next) => {
        largest = Math.max(largest, Buffer.byteLength(JSON.stringify(next), "utf8"));
      },
    });
    expect(largest).toBeLessThan(16 * 1024);
    const stored = await readBack(world.backups, state.snapshotId);
    expect(stored.manifest.parts).toHaveLength(1_200);
    expect(stored.manifest.userCount).toBe(1_200);
    expect(new Set(stored.usernames).size).toBe(1_200);
    expect(stored.stray).toEqual([]);
  });
});

describe("a group deleted while the snapshot lists it", () => {
  it("is skipped and counted, the snapshot goes on and holds every other group's members", async () => {
    const users = aPool(120);
    const world = aWorld(users);
    let deleted = false;
    const directory: UserDirectory = new Proxy(world.directory, {
      get(target, property, receiver) {
        if (property !== "listGroupMembers") return Reflect.get(target, property, receiver) as unknown;
        return async (group: string, request?: { pageToken?: string }) => {
          if (group === "beta" && !deleted) {
            // Deleted between the group page's listing and its members' listing (first or later page).
            deleted = true;
            target.deleteGroup("beta");
          }
          return target.listGroupMembers(group, request);
        };
      },
    });
    const options = { userPoolId: POOL, ...SMALL };
    const { state } = await runSteps(
      snapshotStep({ ...world, directory }, options),
      startSnapshot(options, world.clock),
      { clock: world.clock, stepBudgetMs: 25_000 },
    );
    const stored = await readBack(world.backups, state.snapshotId);
    expect(stored.manifest.userCount).toBe(120);
    const expected = expectedMemberships(world.directory);
    expect(stored.memberships).toEqual(expected);
    expect(stored.manifest.groups.map((g) => g.name)).not.toContain("beta");
    const report = await snapshotReport(world.backups, state);
    expect(report.groupsSkipped).toEqual({ "DIRECTORY.GROUP_NOT_FOUND": 1 });
  });
});
