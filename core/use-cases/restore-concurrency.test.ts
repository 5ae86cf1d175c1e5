/**
 * Two advances of one restore at the same time: only one goes on (every progress write is conditional on the
 * version its run last saw), the other stops with RESTORE.CONFLICT naming the plan id, and the report never
 * counts a user twice.
 */
import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { aUser } from "../testing/builders.js";
import type { User } from "../user/user.js";
import { advanceRestore, restoreStatus, loadRestore, startRestore } from "./restore-users.js";
import { snapshotUsers } from "./snapshot-users.js";

const NOW = "2026-06-10T12:00:00.000Z";

async function startedRestore(strategy: "admin-create" | "import-job") {
  const clock = new ManualClock(NOW);
  const source = new InMemoryUserDirectory({ clock });
  const backups = new InMemoryBackupStore();
  const users: User[] = [
    aUser({ groups: ["staff"] }),
    aUser({ enabled: false }),
    ...Array.from({ length: 5 }, () => aUser({ groups: ["staff"] })),
  ];
  source.seed(...users);
  await snapshotUsers(
    { directory: source, backups, clock, erasures: new InMemoryErasureLedger() },
    { userPoolId: "eu-west-1_Source" },
  );
  const target = new InMemoryUserDirectory({ clock });
  const deps = {
    directory: target,
    importer: target,
    backups,
    restores: backups,
    erasures: new InMemoryErasureLedger(),
    clock,
    sleeper: clock,
  };
  const started = await startRestore(deps, {
    strategy,
    adminCreateChunkSize: 2,
    importFileLimits: { maxUsersPerFile: 2 },
  });
  return { deps, target, users, planId: started.stored.plan.planId };
}

const options = { finalizeChunkSize: 2, pollIntervalMs: 1 };

describe.each(["admin-create", "import-job"] as const)(
  "two advances of one %s restore at once",
  (strategy) => {
    it("started together: one does the restore, the other is refused before doing anything", async () => {
      const w = await startedRestore(strategy);
      const results = await Promise.allSettled([
        advanceRestore(w.deps, w.planId, options),
        advanceRestore(w.deps, w.planId, options),
      ]);
      const refused = results.filter((r) => r.status === "rejected");
      expect(refused).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
        code: "RESTORE.CONFLICT",
        message: expect.stringContaining(w.planId),
      });
      const status = restoreStatus(await loadRestore(w.deps.restores, w.planId));
      expect(status).toMatchObject({ state: "finished", complete: true });
      expect(status.execution.created).toBe(w.users.length);
      expect(status.finalization?.restored).toBe(w.users.length);
      expect(w.target.snapshot()).toHaveLength(w.users.length);
    });

    it("one taking over while the other is mid-way: the first stops at its next write, nothing is counted twice", async () => {
      const w = await startedRestore(strategy);
      let second: Promise<unknown> | undefined;
      const directory = new Proxy(w.target, {
        get(object, property, receiver) {
          const value = Reflect.get(object, property, receiver) as unknown;
          if (typeof value !== "function") return value;
          return async (...args: unknown[]) => {
            const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
            // After the first run's first effect on the pool, a second run takes the whole restore over.
            if (second === undefined && ["createUser", "startImportJob"].includes(String(property))) {
              second = advanceRestore(w.deps, w.planId, options);
              await second;
            }
            return result;
          };
        },
      });
      const first = advanceRestore({ ...w.deps, directory, importer: directory }, w.planId, options);
      await expect(first).rejects.toMatchObject({ code: "RESTORE.CONFLICT" });
      await expect(second).resolves.toMatchObject({ state: "finished", complete: true });
      const status = restoreStatus(await loadRestore(w.deps.restores, w.planId));
      expect(status.execution.created).toBe(w.users.length);
      expect(status.finalization?.membershipsInPlace).toBe(6);
      expect(status.finalization?.subMapping).toHaveLength(w.users.length);
      expect(status.complete).toBe(true);
    });
  },
);
