import { describe, expect, it } from "vitest";
import { InMemoryAccountStore } from "../adapters/in-memory/account-store.js";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../adapters/in-memory/user-directory.js";
import { DEFAULT_PURGE_POLICY } from "../core/purge/index.js";
import { aUser } from "../core/testing/builders.js";
import { aConfirmationEvent } from "../core/testing/confirmation-event.js";
import { parsePostConfirmationEvent } from "../core/user/post-confirmation.js";
import { aBackupRecord } from "../core/testing/backup.js";
import { advanceRestore, startRestore } from "../core/use-cases/restore-steps.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import { JOB_NAMES, type JobName } from "../jobs/catalogue.js";
import { eraseHandler } from "./erase.js";
import { FUNCTION_PORT_USES, type PortUses } from "./permissions.js";
import { postConfirmationHandler } from "./post-confirmation.js";
import { purgeUnconfirmedAccountsHandler } from "./purge-unconfirmed-accounts.js";
import { purgeUnconfirmedIdentitiesHandler } from "./purge-unconfirmed-identities.js";
import { restoreHandler } from "./restore.js";
import { setupAccountsDatabaseHandler } from "./setup-accounts-database.js";
import { snapshotAndReconcileHandler } from "./snapshot-and-reconcile.js";
import { RecordingObservability } from "../runtime/testing/recording-observability.js";

type Port = Exclude<keyof PortUses, "accountsSecret" | "purgeLoginSecret">;

/** Wraps an adapter so every method called through it is recorded under its port. */
class Recorder {
  readonly calls = new Map<Port, Set<string>>();

  wrap<T extends object>(port: Port, target: T): T {
    const calls = this.calls.get(port) ?? new Set<string>();
    this.calls.set(port, calls);
    return new Proxy(target, {
      get(object, property, receiver) {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== "function" || typeof property !== "string") return value;
        return (...args: unknown[]) => {
          calls.add(property);
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    });
  }

  uses(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [port, methods] of this.calls) if (methods.size > 0) out[port] = [...methods].sort();
    return out;
  }
}

const context = { awsRequestId: "req-1", getRemainingTimeInMillis: () => 900_000 };
const longAgo = new Date("2026-01-01T00:00:00.000Z");

function world() {
  const clock = new ManualClock("2026-06-10T12:00:00.000Z");
  const directory = new InMemoryUserDirectory({ clock });
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  return {
    clock,
    sleeper: clock,
    directory,
    profiles,
    backups,
    restores: backups,
    erasures: new InMemoryErasureLedger(),
    observability: new RecordingObservability(),
  };
}

/**
 * Each handler driven through the paths that touch the most: first runs and repeats, users with groups and
 * disabled users, both restore strategies, erase by username and by id. Errors are ignored: a failing path
 * still calls what it calls, and a grant is needed for it.
 */
const scenarios: Record<JobName, (recorder: Recorder) => Promise<void>> = {
  async "post-confirmation"(r) {
    const w = world();
    // The trigger reads its user without groups: its grant is AdminGetUser alone.
    const withoutGroups = new Proxy(w.directory, {
      get: (target, property, receiver) =>
        property === "getUser"
          ? (username: string, options?: { includeGroups?: boolean }) => {
              if (options?.includeGroups) throw new Error("the trigger is granted no group read");
              return target.getUser(username);
            }
          : Reflect.get(target, property, receiver),
    });
    const handler = postConfirmationHandler({
      ...w,
      directoryOf: () => r.wrap("triggeringPool", withoutGroups),
      profiles: r.wrap("profiles", w.profiles),
      backups: r.wrap("backups", w.backups),
      erasures: r.wrap("erasures", w.erasures),
      failureMode: "continue",
      deadlineMs: 3_000,
    });
    const seeded = (overrides: Parameters<typeof aConfirmationEvent>[0] = {}) => {
      const event = aConfirmationEvent(overrides);
      w.directory.seed(parsePostConfirmationEvent(event).user);
      return event;
    };
    const event = seeded();
    await handler(event, context);
    await handler(event, context);
    // A disabled user's confirmation: held by the fence, nothing written.
    const held = seeded();
    await w.directory.disableUser(parsePostConfirmationEvent(held).user.username);
    await handler(held, context).catch(() => undefined);
    // An erasure that starts while a confirmation's writes are in flight: they are undone.
    const late = seeded();
    const lateSub = (late.request as { userAttributes: { sub: string } }).userAttributes.sub;
    w.erasures.beforeNextCall = async () => {
      w.erasures.beforeNextCall = async () => {
        await w.erasures.record({ userId: lateSub, erasedAt: w.clock.now() });
      };
    };
    await handler(late, context);
    await handler(seeded({ triggerSource: "PostConfirmation_ConfirmForgotPassword" }), context);
  },

  async "purge-unconfirmed-identities"(r) {
    const w = world();
    w.directory.seed(
      aUser({ status: "UNCONFIRMED", createdAt: longAgo }),
      aUser({ status: "UNCONFIRMED" }),
      ...Array.from({ length: 80 }, () => aUser()),
    );
    const late = aUser({ status: "UNCONFIRMED", createdAt: longAgo });
    w.directory.seed(late);
    // One of them confirms while the purge holds it disabled: the fence enables it again.
    const disableUser = w.directory.disableUser.bind(w.directory);
    w.directory.disableUser = async (username) => {
      await disableUser(username);
      if (username === late.username) w.directory.seed({ ...late, status: "CONFIRMED", enabled: false });
    };
    const handler = purgeUnconfirmedIdentitiesHandler({
      ...w,
      directory: r.wrap("directory", w.directory),
      policy: DEFAULT_PURGE_POLICY,
    });
    await handler({}, context);
  },

  async "purge-unconfirmed-accounts"() {
    const w = world();
    const accounts = new InMemoryAccountStore();
    accounts.insert({ email: "old@example.com", confirmedAt: null, confirmationSentAt: longAgo });
    for (let i = 0; i < 40; i++)
      accounts.insert({ email: `ok-${i}@example.com`, confirmedAt: longAgo, confirmationSentAt: longAgo });
    const handler = purgeUnconfirmedAccountsHandler({
      ...w,
      accounts: async () => accounts,
      policy: DEFAULT_PURGE_POLICY,
      batchSize: 10,
      lanes: 2,
    });
    await handler({}, context);
  },

  async "setup-accounts-database"() {
    // It calls no port: only the database (as the master user) and the two secrets, granted apart.
    const handler = setupAccountsDatabaseHandler({
      adminPool: () => Promise.reject(new Error("no database in this test")),
      purgeLogin: async () => ({ username: "lifecycle_purge", password: "p".repeat(43) }),
      database: "app",
      requireTls: true,
      migrate: true,
      observability: new RecordingObservability(),
    });
    await expect(handler({}, context)).rejects.toThrow("no database in this test");
  },

  async "snapshot-and-reconcile"(r) {
    const w = world();
    const backedUp = aUser({ groups: ["admins"] });
    const erasedDuringSnapshot = aUser();
    const erasedDuringReconcile = aUser();
    w.directory.seed(backedUp, aUser({ groups: ["staff"] }), erasedDuringSnapshot, erasedDuringReconcile);
    await w.backups.putUserBackup(aBackupRecord({ user: backedUp }));
    // A profile without a digest yet (written before digests were): reconcile records it.
    await w.profiles.createIfAbsent({
      id: backedUp.sub,
      username: backedUp.username,
      createdAt: new Date(0),
    });
    // A snapshot that never completed, older than this run: cleaned.
    await w.backups.putSnapshotFile("2020-01-01T00-00-00-000Z", "p-0/part-00001.jsonl", "");
    const handler = snapshotAndReconcileHandler({
      ...w,
      directory: r.wrap("directory", w.directory),
      profiles: r.wrap("profiles", w.profiles),
      backups: r.wrap("backups", w.backups),
      erasures: r.wrap("erasures", w.erasures),
      userPoolId: "eu-west-1_AbC123",
    });
    // Erasures while it runs: one after the snapshot's first ledger read, one while reconcile writes.
    w.erasures.beforeNextCall = async () => {
      w.erasures.beforeNextCall = async () => {
        await w.erasures.record({ userId: erasedDuringSnapshot.sub, erasedAt: w.clock.now() });
      };
    };
    w.backups.beforeNext("putUserBackup", async () => {
      await w.erasures.record({ userId: erasedDuringReconcile.sub, erasedAt: w.clock.now() });
    });
    await handler({}, context);
    await handler({}, context);
  },

  async restore(r) {
    for (const strategy of ["admin-create", "import-job"] as const) {
      for (const source of ["latest", "user-backups"] as const) {
        const w = world();
        const lost = aUser({ groups: ["admins"] });
        const disabled = aUser({ enabled: false });
        w.directory.seed(lost, disabled, aUser());
        await snapshotUsers(w, { userPoolId: "eu-west-1_AbC123" });
        const later = aUser({ groups: ["staff"] });
        await w.backups.putUserBackup(aBackupRecord({ user: later, capturedAt: w.clock.now() }));
        await w.directory.deleteUser(lost.username);
        await w.directory.deleteUser(disabled.username);
        const handler = restoreHandler({
          ...w,
          backups: r.wrap("backups", w.backups),
          restores: r.wrap("restores", w.restores),
          erasures: r.wrap("erasures", w.erasures),
          target: () => ({
            directory: r.wrap("directory", w.directory),
            importer: r.wrap("importer", w.directory),
          }),
        });
        await handler({ action: "plan", source, strategy }, context);
        // One step only, then the lost user is erased: the resume must take them out of the pool again.
        const oneStep = { ...context, getRemainingTimeInMillis: () => 30_000 };
        const started = await handler({ action: "start", source, strategy }, oneStep).catch(
          (error: { report?: { planId?: string } }) => error.report,
        );
        await w.erasures.record({ userId: lost.sub, erasedAt: w.clock.now() });
        if (started?.planId) {
          await handler({ action: "resume", planId: started.planId }, context).catch(() => undefined);
          await handler({ action: "status", planId: started.planId }, context);
        }
      }
    }
  },

  async erase(r) {
    const w = world();
    const byName = aUser({ groups: ["staff"] });
    const byId = aUser();
    w.directory.seed(byName, byId, aUser());
    await snapshotUsers(w, { userPoolId: "eu-west-1_AbC123" });
    const handler = eraseHandler({
      ...w,
      restores: r.wrap("restores", w.restores),
      directory: r.wrap("directory", w.directory),
      profiles: r.wrap("profiles", w.profiles),
      backups: r.wrap("backups", w.backups),
      erasures: r.wrap("erasures", w.erasures),
    });
    // byId left the pool and a restore brought them back: erase scrubs its plan and progress.
    await w.directory.deleteUser(byId.username);
    const restored = await startRestore(w, { strategy: "admin-create" });
    await advanceRestore(w, restored.stored.plan.planId);
    await handler({ username: byName.username }, context);
    await handler({ userId: byId.sub }, context);
  },
};

function declared(uses: PortUses): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const port of [
    "directory",
    "triggeringPool",
    "importer",
    "profiles",
    "backups",
    "restores",
    "erasures",
  ] as const) {
    const methods = uses[port];
    if (methods && methods.length > 0) out[port] = [...methods].sort();
  }
  return out;
}

describe("FUNCTION_PORT_USES: the port methods each function is granted", () => {
  it("names every function the build bundles, and no other", () => {
    expect(Object.keys(FUNCTION_PORT_USES).sort()).toEqual([...JOB_NAMES].sort());
  });

  it.each([...JOB_NAMES])("%s is granted exactly the port methods it calls", async (name) => {
    const recorder = new Recorder();
    await scenarios[name](recorder);
    // A missing entry would be an AccessDenied in AWS; an extra one a grant nobody uses.
    expect(recorder.uses()).toEqual(declared(FUNCTION_PORT_USES[name]));
  });

  it("grants the accounts secret to the accounts purge alone", () => {
    const withSecret = Object.entries(FUNCTION_PORT_USES)
      .filter(([, uses]) => (uses as PortUses).accountsSecret === true)
      .map(([name]) => name);
    expect(withSecret).toEqual(["purge-unconfirmed-accounts", "setup-accounts-database"]);
  });

  it("lets the database setup alone write the purge login's secret", () => {
    const writers = Object.entries(FUNCTION_PORT_USES)
      .filter(([, uses]) => (uses as PortUses).purgeLoginSecret === true)
      .map(([name]) => name);
    expect(writers).toEqual(["setup-accounts-database"]);
  });
});
