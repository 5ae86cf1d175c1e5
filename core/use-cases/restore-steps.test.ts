import { describe, expect, it } from "vitest";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import type { ProgressCondition } from "../ports/restore-state-store.js";
import type { UserImportService } from "../ports/user-import.js";
import { rejectionOf } from "../testing/errors.js";
import { aUser } from "../testing/builders.js";
import type { User } from "../user/user.js";
import {
  advanceRestore,
  loadRestore,
  type RestoreProgress,
  type RestoreStatus,
  type RestoreStrategy,
  restoreStatus,
  restoreUsers,
  startRestore,
} from "./restore-users.js";
import { snapshotUsers } from "./snapshot-users.js";

const NOW = "2026-06-10T12:00:00.000Z";

/** Seven users backed up by a snapshot (groups, a disabled one, an unconfirmed one), then all deleted. */
async function lostPool(users: User[] = someUsers()) {
  const clock = new ManualClock(NOW);
  const directory = new InMemoryUserDirectory({ clock });
  const backups = new InMemoryBackupStore();
  directory.seed(...users);
  await snapshotUsers(
    { directory, backups, clock, erasures: new InMemoryErasureLedger() },
    { userPoolId: "eu-west-1_Pool" },
  );
  for (const user of users) await directory.deleteUser(user.username);
  const erasures = new InMemoryErasureLedger();
  const deps = {
    directory,
    importer: directory,
    backups,
    restores: backups,
    clock,
    sleeper: clock,
    erasures,
  };
  return { clock, directory, backups, users, deps };
}

function someUsers(): User[] {
  return [
    aUser({ groups: ["admins", "staff"] }),
    aUser({ enabled: false }),
    aUser({ groups: ["staff"] }),
    ...Array.from({ length: 4 }, () => aUser()),
    aUser({ status: "UNCONFIRMED" }),
  ];
}

const chunking = { importFileLimits: { maxUsersPerFile: 2 }, adminCreateChunkSize: 2 } as const;

/** Advances with no time left at all (one step per call) until the restore is finished. */
async function advanceStepByStep(
  deps: Awaited<ReturnType<typeof lostPool>>["deps"],
  planId: string,
): Promise<{ status: RestoreStatus; calls: number }> {
  let calls = 0;
  for (;;) {
    calls += 1;
    const status = await advanceRestore(deps, planId, { deadline: deps.clock.now(), finalizeChunkSize: 2 });
    if (status.state === "finished") return { status, calls };
    if (calls > 100) throw new Error("the restore never finished");
  }
}

/** Pools compared without the times (admin-created users get "now"). */
function poolOf(directory: InMemoryUserDirectory) {
  return directory.snapshot().map(({ createdAt: _c, modifiedAt: _m, ...user }) => user);
}

describe.each<RestoreStrategy>(["import-job", "admin-create"])("a restore in steps (%s)", (strategy) => {
  it("split over many advances with no time left ends with exactly the pool of a one-call restore", async () => {
    const users = someUsers();
    const oneCall = await lostPool(users);
    const report = await restoreUsers(oneCall.deps, { strategy, importFileLimits: { maxUsersPerFile: 2 } });
    expect(report.complete).toBe(true);

    const stepped = await lostPool(users);
    const started = await startRestore(stepped.deps, { strategy, ...chunking });
    expect(restoreStatus(started)).toMatchObject({ state: "running", progress: { chunksDone: 0 } });
    const { status, calls } = await advanceStepByStep(stepped.deps, started.stored.plan.planId);

    expect(calls).toBeGreaterThan(3);
    expect(status).toMatchObject({ state: "finished", complete: true });
    expect(poolOf(stepped.directory)).toEqual(poolOf(oneCall.directory));
    expect(status.finalization).toEqual(report.finalization);
    expect(status.execution.created).toBe(report.execution?.created);
  });

  it("changes nothing when advanced after it finished", async () => {
    const { deps, backups, directory } = await lostPool();
    const report = await restoreUsers(deps, { strategy });
    const planId = report.plan.planId;
    const writes = new Map(backups.writes);
    const calls = new Map(directory.calls);
    const again = await advanceRestore(deps, planId, { deadline: deps.clock.now() });
    expect(again).toMatchObject({ state: "finished", complete: true });
    expect(again.finalization).toEqual(report.finalization);
    expect(backups.writes).toEqual(writes);
    expect(directory.calls).toEqual(calls);
  });

  it("reads its status without writing anything, while running and once finished", async () => {
    const { deps, backups, directory } = await lostPool();
    const started = await startRestore(deps, { strategy, ...chunking });
    const planId = started.stored.plan.planId;
    await advanceRestore(deps, planId, { deadline: deps.clock.now() });
    const writes = new Map(backups.writes);
    const calls = new Map(directory.calls);
    expect(restoreStatus(await loadRestore(backups, planId))).toMatchObject({ state: "running" });
    expect(backups.writes).toEqual(writes);
    expect(directory.calls).toEqual(calls);
  });
});

describe("advanceRestore after a crash", () => {
  /** The pool's import service, with one call made to fail the way a killed invocation would. */
  function crashingImporter(directory: InMemoryUserDirectory, crash: "before upload" | "after start") {
    let armed = true;
    const boom = () => {
      armed = false;
      return new Error("Task timed out after 900.00 seconds");
    };
    const importer: UserImportService = {
      getCsvHeader: () => directory.getCsvHeader(),
      createImportJob: (name) => directory.createImportJob(name),
      uploadCsv: async (jobId, csv) => {
        if (armed && crash === "before upload") throw boom();
        return directory.uploadCsv(jobId, csv);
      },
      startImportJob: async (jobId) => {
        const job = await directory.startImportJob(jobId);
        if (armed && crash === "after start") throw boom();
        return job;
      },
      describeImportJob: (jobId) => directory.describeImportJob(jobId),
    };
    return importer;
  }

  it.each(["before upload", "after start"] as const)(
    "a crash %s resumes the same job: no second job is created or started",
    async (crash) => {
      const { deps, directory } = await lostPool();
      const crashing = { ...deps, importer: crashingImporter(directory, crash) };
      const started = await startRestore(crashing, {});
      const planId = started.stored.plan.planId;
      await expect(advanceRestore(crashing, planId)).rejects.toThrow("timed out");
      expect((await loadRestore(deps.backups, planId)).progress.chunks[0]?.job?.jobId).toBeDefined();

      const status = await advanceRestore(crashing, planId);
      expect(status).toMatchObject({ state: "finished", complete: true });
      expect(directory.calls.get("CreateUserImportJob")).toBe(1);
      expect(directory.calls.get("StartUserImportJob")).toBe(1);
      expect(status.execution.jobs).toHaveLength(1);
    },
  );

  it("gives up a job whose upload window passed, before it started, and imports with a new one", async () => {
    const { deps, directory, clock } = await lostPool();
    const crashing = { ...deps, importer: crashingImporter(directory, "before upload") };
    const started = await startRestore(crashing, {});
    await expect(advanceRestore(crashing, started.stored.plan.planId)).rejects.toThrow();
    clock.advance(20 * 60_000);
    const status = await advanceRestore(crashing, started.stored.plan.planId);
    expect(status).toMatchObject({ state: "finished", complete: true });
    expect(directory.calls.get("CreateUserImportJob")).toBe(2);
    expect(directory.calls.get("StartUserImportJob")).toBe(1);
    const { progress } = await loadRestore(deps.backups, started.stored.plan.planId);
    expect(progress.chunks[0]?.abandonedJobIds).toHaveLength(1);
  });

  it("runs an interrupted AdminCreateUser chunk again, counting the users it had created", async () => {
    const { deps, users } = await lostPool();
    const started = await startRestore(deps, { strategy: "admin-create", adminCreateChunkSize: 3 });
    const planId = started.stored.plan.planId;
    // The advance claims the restore and begins the first chunk, which creates its users; then the invocation
    // dies before the chunk is saved as done.
    const dying = { ...deps, restores: savesFailingFrom(deps.backups, 3) };
    expect((await rejectionOf(advanceRestore(dying, planId))).message).toContain("timed out");
    expect((await loadRestore(deps.backups, planId)).progress.chunks[0]?.status).toBe("running");

    const status = await advanceRestore(deps, planId);
    expect(status).toMatchObject({ state: "finished", complete: true });
    // Seven restorable users (the unconfirmed one is skipped), each created once, none reported as failed.
    expect(status.execution).toMatchObject({ failed: 0, created: users.length - 1 });
    expect(deps.directory.calls.get("AdminCreateUser")).toBe(users.length - 1 + 3);
  });

  it("waits, without failing, while another import job of the account runs", async () => {
    const { deps, directory } = await lostPool();
    const other = await directory.createImportJob("someone-else");
    await directory.uploadCsv(other.jobId, "not,a,matching,header\n");
    await directory.startImportJob(other.jobId);
    const started = await startRestore(deps, {});
    const waiting = await advanceRestore(deps, started.stored.plan.planId, {
      deadline: new Date(deps.clock.now().getTime() + 12_000),
    });
    expect(waiting).toMatchObject({ state: "running", progress: { chunksDone: 0 } });
    await directory.describeImportJob(other.jobId); // the other job ends
    const status = await advanceRestore(deps, started.stored.plan.planId);
    expect(status).toMatchObject({ state: "finished", complete: true });
    expect(directory.calls.get("CreateUserImportJob")).toBe(2);
  });
});

describe("unknown restores", () => {
  it("refuses an unknown plan id with RESTORE.NOT_FOUND naming it", async () => {
    const { deps } = await lostPool();
    const error = await rejectionOf(advanceRestore(deps, "restore-nope"));
    expect(error).toMatchObject({ code: "RESTORE.NOT_FOUND" });
    expect(error.message).toContain("restore-nope");
    await expect(loadRestore(deps.backups, "restore-nope")).rejects.toMatchObject({
      code: "RESTORE.NOT_FOUND",
    });
  });

  it("gives two restores started at the same instant two plan ids", async () => {
    const { deps } = await lostPool();
    const first = await startRestore(deps, { strategy: "admin-create" });
    const second = await startRestore(deps, { strategy: "admin-create" });
    expect(second.stored.plan.planId).toBe(`${first.stored.plan.planId}-2`);
  });
});

/** `backups`, whose `putRestoreProgress` throws from its `n`th call on (the invocation died there). */
function savesFailingFrom(backups: InMemoryBackupStore, n: number): InMemoryBackupStore {
  let calls = 0;
  return Object.assign(Object.create(backups) as InMemoryBackupStore, {
    putRestoreProgress: async (progress: RestoreProgress, condition?: ProgressCondition) => {
      calls += 1;
      if (calls >= n) throw new Error("Task timed out after 900.00 seconds");
      return backups.putRestoreProgress(progress, condition);
    },
  });
}
