/**
 * A restore interrupted at every step boundary, then run again, must end with the pool as backed up: every
 * user, every group membership, every disabled flag — and say `complete` only then.
 *
 * The interruption is injected at the n-th call the restore makes to the target pool, its import jobs or its
 * state store (a process killed, Ctrl-C, an S3 or Cognito outage): the call throws either before it happens,
 * or after it happened with its answer lost. Then the restore is run again, by the same request or by its
 * plan id, and the pool is compared with the backup.
 */
import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { LifecycleError } from "../errors.js";
import { aUser } from "../testing/builders.js";
import { LEGACY_SUB_ATTRIBUTE, type User } from "../user/user.js";
import { advanceRestore, type RestoreReport, type RestoreStrategy, restoreUsers } from "./restore-users.js";
import { snapshotUsers } from "./snapshot-users.js";

const NOW = "2026-06-10T12:00:00.000Z";

function backedUpUsers(): User[] {
  return [
    aUser({ groups: ["admins", "staff"] }),
    aUser({ enabled: false, groups: ["staff"] }),
    aUser({ groups: ["staff"] }),
    aUser({ enabled: false }),
    aUser(),
  ];
}

class Crash extends Error {
  override name = "SimulatedCrash";
}

type When = "before" | "after";

/** Wraps `target` so that its calls are counted and the `at`-th (from 0) throws, before or after it ran. */
function crashing<T extends object>(target: T, counter: { n: number; at?: number; when: When }): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const n = counter.n;
        counter.n += 1;
        if (n === counter.at && counter.when === "before") throw new Crash(`crash before call ${n}`);
        const crashAfter = n === counter.at && counter.when === "after";
        let result: unknown;
        try {
          result = await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        } catch (error) {
          if (crashAfter) throw new Crash(`crash after call ${n}`, { cause: error });
          throw error;
        }
        if (crashAfter) throw new Crash(`crash after call ${n}`);
        return result;
      };
    },
  });
}

async function world(strategy: RestoreStrategy) {
  const clock = new ManualClock(NOW);
  const source = new InMemoryUserDirectory({ clock });
  const backups = new InMemoryBackupStore();
  const users = backedUpUsers();
  source.seed(...users);
  await snapshotUsers(
    { directory: source, backups, clock, erasures: new InMemoryErasureLedger() },
    { userPoolId: "eu-west-1_Source" },
  );
  const target = new InMemoryUserDirectory({ clock });
  const counter: { n: number; at?: number; when: When } = { n: 0, when: "before" };
  const pool = crashing(target, counter);
  const restores = crashing(backups, counter);
  let planId: string | undefined;
  const deps = {
    directory: pool,
    importer: pool,
    backups,
    restores,
    erasures: new InMemoryErasureLedger(),
    clock,
    sleeper: clock,
    onPlanStored: (id: string) => {
      planId = id;
    },
  };
  const options = {
    strategy,
    targetUserPoolId: "eu-west-1_Target",
    importFileLimits: { maxUsersPerFile: 2 },
    adminCreateChunkSize: 2,
    finalizeChunkSize: 2,
    pollIntervalMs: 1,
  };
  return { users, target, counter, deps, options, planId: () => planId };
}

/** The target pool holds every backed-up user as backed up: groups, enabled flag, old sub as legacy_sub. */
function expectPoolAsBackedUp(target: InMemoryUserDirectory, users: readonly User[]): void {
  const restored = new Map(target.snapshot().map((user) => [user.username, user]));
  for (const user of users) {
    const back = restored.get(user.username);
    expect(back, `${user.username} is missing`).toBeDefined();
    expect(back?.groups, `${user.username}'s groups`).toEqual(user.groups);
    expect(back?.enabled, `${user.username}'s enabled flag`).toBe(user.enabled);
    expect(back?.attributes[LEGACY_SUB_ATTRIBUTE]).toBe(user.sub);
  }
  expect(restored.size).toBe(users.length);
}

function expectCompleteReport(report: RestoreReport, users: readonly User[]): void {
  expect(report.complete).toBe(true);
  expect(report.finalization).toMatchObject({
    restored: users.length,
    missing: [],
    failed: 0,
    membershipsInPlace: users.reduce((n, user) => n + user.groups.length, 0),
    disabledInPlace: users.filter((user) => !user.enabled).length,
  });
}

async function callsOfACleanRun(strategy: RestoreStrategy): Promise<number> {
  const w = await world(strategy);
  const report = await restoreUsers(w.deps, w.options);
  expectCompleteReport(report, w.users);
  expectPoolAsBackedUp(w.target, w.users);
  return w.counter.n;
}

describe.each<RestoreStrategy>(["admin-create", "import-job"])(
  "a %s restore interrupted at any call, then run again",
  (strategy) => {
    for (const when of ["before", "after"] as const) {
      for (const rerun of ["the same request", "its plan id"] as const) {
        it(`ends as backed up and complete: a crash ${when} each call, rerun by ${rerun}`, async () => {
          const calls = await callsOfACleanRun(strategy);
          expect(calls).toBeGreaterThan(10);
          for (let at = 0; at < calls; at += 1) {
            const w = await world(strategy);
            w.counter.at = at;
            w.counter.when = when;
            const first = await restoreUsers(w.deps, w.options).then(
              () => undefined,
              (error: unknown) => error,
            );
            expect(first, `call ${at}`).toBeInstanceOf(Crash);
            w.counter.at = undefined;
            const planId = w.planId();
            const report =
              rerun === "its plan id" && planId !== undefined
                ? await advanceRestore(w.deps, planId, w.options)
                : await restoreUsers(w.deps, w.options);
            try {
              // A crash after the last write leaves a finished restore: the same request then finds every
              // user in the pool, and plans nothing.
              if (report.plan.users.length === 0) expect(report.plan.existing).toHaveLength(w.users.length);
              else expectCompleteReport(report, w.users);
              expectPoolAsBackedUp(w.target, w.users);
            } catch (error) {
              throw new Error(`crash ${when} call ${at}: ${(error as Error).message}`, { cause: error });
            }
          }
        });
      }
    }
  },
);

describe("a restore interrupted by an outage that lasts", () => {
  it("never reports complete while a membership or a flag is missing, and completes once the pool answers", async () => {
    const w = await world("admin-create");
    let outage = true;
    const addUserToGroup = w.target.addUserToGroup.bind(w.target);
    w.target.addUserToGroup = async (username, group) => {
      if (outage) throw new LifecycleError("SERVICE.UNREACHABLE", "Cognito is unreachable");
      return addUserToGroup(username, group);
    };
    await expect(restoreUsers(w.deps, w.options)).rejects.toMatchObject({ code: "SERVICE.UNREACHABLE" });
    const planId = w.planId() as string;
    const during = await advanceRestore(w.deps, planId, w.options).catch((error: unknown) => error);
    expect(during).toMatchObject({ code: "SERVICE.UNREACHABLE" });
    outage = false;
    const report = await advanceRestore(w.deps, planId, w.options);
    expectCompleteReport(report, w.users);
    expectPoolAsBackedUp(w.target, w.users);
  });
});
