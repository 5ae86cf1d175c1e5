import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import type { RestoreStrategy } from "../backup/restore-state.js";
import { aUser } from "../testing/builders.js";
import { LEGACY_SUB_ATTRIBUTE } from "../user/user.js";
import { eraseUser } from "./erase-user.js";
import { planRestore } from "./restore-plan.js";
import { advanceRestore, startRestore } from "./restore-steps.js";
import { snapshotUsers } from "./snapshot-users.js";

/** A pool snapshotted, then lost: `first` and `second` (in restore order) must come back, unless erased. */
async function lostPool() {
  const clock = new ManualClock("2026-06-01T00:00:00.000Z");
  const directory = new InMemoryUserDirectory({ clock });
  const backups = new InMemoryBackupStore();
  const profiles = new InMemoryProfileStore();
  const erasures = new InMemoryErasureLedger();
  const first = aUser({ username: "a-first", groups: ["staff"] });
  const second = aUser({ username: "b-second", groups: ["staff"] });
  directory.seed(first, second);
  await snapshotUsers(
    { directory, backups, clock, erasures: new InMemoryErasureLedger() },
    { userPoolId: "eu-west-1_Pool" },
  );
  for (const user of [first, second]) await directory.deleteUser(user.username);
  const deps = { directory, importer: directory, backups, restores: backups, profiles, erasures, clock };
  return { ...deps, sleeper: clock, deps: { ...deps, sleeper: clock }, first, second };
}

describe("restores and the erasure ledger", () => {
  it("never plans an erased person, nor names them anywhere in the plan", async () => {
    const w = await lostPool();
    await eraseUser(w.deps, { userId: w.second.sub });
    const plan = await planRestore(w.deps, { strategy: "admin-create" });
    expect(plan.users.map((planned) => planned.username)).toEqual([w.first.username]);
    expect(JSON.stringify(plan)).not.toContain(w.second.username);
  });

  it("skips, with a reason, a backed-up user whose stable id is no UUID", async () => {
    const w = await lostPool();
    const hostile = aUser({ username: "c-hostile", attributes: { [LEGACY_SUB_ATTRIBUTE]: "../../x" } });
    w.directory.seed(hostile);
    await snapshotUsers(w.deps, { userPoolId: "eu-west-1_Pool" }).catch(() => undefined);
    await w.directory.deleteUser(hostile.username);
    const plan = await planRestore(w.deps, { strategy: "admin-create", source: { kind: "latest" } });
    expect(plan.users.map((planned) => planned.username)).not.toContain("c-hostile");
  });

  it.each<RestoreStrategy>(["admin-create", "import-job"])(
    "a person erased while a %s restore runs is not brought back by its resume",
    async (strategy) => {
      const w = await lostPool();
      const started = await startRestore(w.deps, {
        strategy,
        adminCreateChunkSize: 1,
        importFileLimits: { maxUsersPerFile: 1 },
      });
      const planId = started.stored.plan.planId;
      // One step: the first chunk (the first user) only.
      await advanceRestore(w.deps, planId, { deadline: w.clock.now() });
      // Both people are erased now (the first one from the pool too, if that step brought them back).
      const back = await w.directory.getUser(w.first.username);
      await eraseUser(w.deps, back ? { username: w.first.username } : { userId: w.first.sub });
      await eraseUser(w.deps, { userId: w.second.sub });
      let status = await advanceRestore(w.deps, planId, { deadline: w.clock.now() });
      for (let i = 0; status.state !== "finished" && i < 20; i += 1) {
        status = await advanceRestore(w.deps, planId, { deadline: w.clock.now() });
      }
      expect(status.state).toBe("finished");
      expect(await w.directory.getUser(w.first.username)).toBeUndefined();
      expect(await w.directory.getUser(w.second.username)).toBeUndefined();
      expect(status.finalization?.missing).toEqual([]);
    },
  );

  it("an import job started before the erasure imports the person; the resume takes them out again", async () => {
    const w = await lostPool();
    const started = await startRestore(w.deps, { strategy: "import-job" });
    const planId = started.stored.plan.planId;
    // Create, upload and start the one job: it holds both people.
    await advanceRestore(w.deps, planId, { deadline: w.clock.now() });
    await w.erasures.record({ userId: w.second.sub, erasedAt: w.clock.now() });
    const status = await advanceRestore(w.deps, planId);
    expect(status.state).toBe("finished");
    expect(await w.directory.getUser(w.first.username)).toBeDefined();
    expect(await w.directory.getUser(w.second.username)).toBeUndefined();
  });

  it.each<RestoreStrategy>(["admin-create", "import-job"])(
    "erase takes the person out of an unfinished %s restore's plan and progress, and it still resumes",
    async (strategy) => {
      const w = await lostPool();
      const started = await startRestore(w.deps, {
        strategy,
        adminCreateChunkSize: 1,
        importFileLimits: { maxUsersPerFile: 1 },
      });
      const planId = started.stored.plan.planId;
      await advanceRestore(w.deps, planId, { deadline: w.clock.now() });
      const report = await eraseUser(w.deps, { userId: w.second.sub });
      expect(report).toMatchObject({ restoresRewritten: 1, complete: true });
      for (const key of w.backups.keys().filter((k) => k.startsWith(`restores/${planId}/`))) {
        for (const text of w.backups.versions(key)) {
          // (The second chunk had not begun: not even the username stays.)
          expect(text).not.toContain(w.second.username);
          expect(text).not.toContain(w.second.attributes.email);
        }
      }
      const status = await advanceRestore(w.deps, planId);
      expect(status).toMatchObject({ state: "finished", complete: true });
      expect(await w.directory.getUser(w.first.username)).toBeDefined();
      expect(await w.directory.getUser(w.second.username)).toBeUndefined();
      expect(w.directory.snapshot().map((user) => user.username)).toEqual([w.first.username]);
    },
  );
});
