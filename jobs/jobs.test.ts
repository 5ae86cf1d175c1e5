/**
 * The job homes on their own, without a Lambda handler: each refuses an input with an unknown field, and
 * answers with its report — a failed run is a report that says so, never data carried inside an exception.
 */
import { describe, expect, it } from "vitest";
import { InMemoryAccountStore } from "../adapters/in-memory/account-store.js";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../adapters/in-memory/user-directory.js";
import { LifecycleError } from "../core/errors.js";
import { DEFAULT_PURGE_POLICY } from "../core/purge/index.js";
import { aUser } from "../core/testing/builders.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import { eraseFailed, eraseInputSchema, runErase } from "./erase/index.js";
import { purgeAccountsFailed, purgeAccountsInputSchema, runPurgeAccounts } from "./purge-accounts/index.js";
import { restoreFailed, restoreInputSchema, runRestore } from "./restore/index.js";
import { aConfirmationEvent } from "../core/testing/confirmation-event.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { parseSyncInput, runSync, syncFailed, type SyncFailureMode } from "./sync/index.js";

const NOW = "2026-06-10T12:00:00.000Z";
const old = new Date("2026-06-01T00:00:00.000Z");

function world() {
  const clock = new ManualClock(NOW);
  const directory = new InMemoryUserDirectory({ clock });
  const backups = new InMemoryBackupStore();
  return {
    clock,
    sleeper: clock,
    directory,
    profiles: new InMemoryProfileStore(),
    backups,
    restores: backups,
    erasures: new InMemoryErasureLedger(),
  };
}

describe("each job's input schema", () => {
  it.each([
    ["restore", restoreInputSchema, { action: "plan", source: "latest", dryRun: true }],
    ["restore (resume)", restoreInputSchema, { action: "resume", planId: "x", strategy: "admin-create" }],
    ["erase", eraseInputSchema, { username: "alice", deleteAccountRow: true }],
    ["purge-accounts", purgeAccountsInputSchema, { dryRun: true, limit: 5 }],
  ])("%s refuses an unknown field", (_job, schema, input) => {
    expect(schema.safeParse(input).success).toBe(false);
  });

  it("restore plans when no action is given, with its defaults", () => {
    expect(restoreInputSchema.parse({})).toEqual({
      action: "plan",
      source: "latest",
      strategy: "import-job",
    });
  });

  it("erase needs a username or a user id", () => {
    expect(eraseInputSchema.safeParse({}).success).toBe(false);
    expect(eraseInputSchema.parse({ userId: "u" })).toEqual({ userId: "u" });
  });
});

describe("jobs answer with their report", () => {
  it("restore: a user in no backup finishes the restore incomplete, reported, not thrown", async () => {
    const w = world();
    const user = aUser();
    w.directory.seed(user);
    await snapshotUsers(w, { userPoolId: "eu-west-1_AbC123" });
    const deps = { ...w, target: () => ({ directory: w.directory }) };
    const stored: string[] = [];
    const summary = await runRestore(
      deps,
      restoreInputSchema.parse({ action: "start", strategy: "admin-create", usernames: ["nobody"] }),
      { deadline: new Date(w.clock.now().getTime() + 60_000), onPlanStored: (id) => stored.push(id) },
    );
    expect(summary).toMatchObject({
      action: "start",
      state: "finished",
      notFound: ["nobody"],
      complete: false,
    });
    expect(restoreFailed(summary)).toBe(true);
    expect(stored).toEqual([summary.planId]);
    // A status read of it has not failed.
    const status = await runRestore(
      deps,
      { action: "status", planId: summary.planId },
      { deadline: new Date() },
    );
    expect(restoreFailed(status)).toBe(false);
  });

  it("restore: a start that repeats an unfinished restore's request is refused, naming the plan id", async () => {
    const w = world();
    w.directory.seed(aUser(), aUser());
    await snapshotUsers(w, { userPoolId: "eu-west-1_AbC123" });
    for (const user of w.directory.snapshot()) await w.directory.deleteUser(user.username);
    const deps = { ...w, target: () => ({ directory: w.directory }) };
    const start = restoreInputSchema.parse({ action: "start", strategy: "admin-create" });
    // A deadline already passed: the restore is stored and left running.
    const first = await runRestore(deps, start, { deadline: w.clock.now() });
    expect(first.state).toBe("running");
    await expect(runRestore(deps, start, { deadline: w.clock.now() })).rejects.toMatchObject({
      code: "RESTORE.UNFINISHED",
      details: { planId: first.planId },
    });
  });

  it("erase: the report of a person erased everywhere is complete; the job never touches an accounts table", async () => {
    const w = world();
    const user = aUser();
    w.directory.seed(user);
    const report = await runErase(
      { ...w, accounts: { countByEmail: () => Promise.reject(new Error("not to be called")) } } as never,
      { username: user.username },
    );
    expect(report).toMatchObject({ deletedFromPool: true, accountRow: { status: "not-checked" } });
    expect(eraseFailed(report)).toBe(false);
  });

  it("purge-accounts: reads the secret again once when the login is refused, and a dry run deletes nothing", async () => {
    const w = world();
    const accounts = new InMemoryAccountStore();
    accounts.insert({ email: "old@example.com", confirmedAt: null, confirmationSentAt: old });
    const opened: boolean[] = [];
    const refused: string[] = [];
    const deps = {
      accounts: async ({ refreshCredentials }: { refreshCredentials: boolean }) => {
        opened.push(refreshCredentials);
        if (!refreshCredentials) throw new LifecycleError("DATABASE.AUTH_FAILED", "Access denied for user");
        return accounts;
      },
      clock: w.clock,
      policy: DEFAULT_PURGE_POLICY,
      batchSize: 100,
      lanes: 2,
    };
    const deadline = new Date(w.clock.now().getTime() + 60_000);
    const dry = await runPurgeAccounts(
      deps,
      { dryRun: true },
      { deadline, onLoginRefused: () => refused.push("x") },
    );
    expect(dry).toMatchObject({ deleted: 0, eligible: 1 });
    expect(opened).toEqual([false, true]);
    expect(refused).toHaveLength(1);
    const report = await runPurgeAccounts(deps, {}, { deadline });
    expect(report).toMatchObject({ deleted: 1, failed: 0 });
    expect(purgeAccountsFailed(report)).toBe(false);
  });
});

describe("the sync job (Post Confirmation)", () => {
  function syncWorld(failureMode: SyncFailureMode = "continue") {
    const w = world();
    const deps = {
      ...w,
      failureMode,
      deadlineMs: 3_000,
      directoryOf: (): UserDirectory => w.directory,
    };
    return { ...w, deps };
  }

  function confirmed(w: ReturnType<typeof syncWorld>) {
    const confirmation = parseSyncInput(aConfirmationEvent());
    w.directory.seed(confirmation.user);
    return confirmation;
  }

  it.each<[string, (event: Record<string, unknown>) => void]>([
    ["top level", (event) => (event.extra = "x")],
    ["request", (event) => ((event.request as Record<string, unknown>).validationData = {})],
    ["callerContext", (event) => ((event.callerContext as Record<string, unknown>).other = "x")],
    ["response", (event) => ((event.response as Record<string, unknown>).autoConfirmUser = true)],
  ])("refuses an unknown field (%s), naming it, never a value", (_where, change) => {
    const event = aConfirmationEvent();
    change(event);
    let thrown: unknown;
    try {
      parseSyncInput(event);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: "ValidationError", code: "EVENT.INVALID" });
    expect((thrown as Error).message).toMatch(/unknown: (extra|validationData|other|autoConfirmUser)/);
    expect((thrown as Error).message).not.toContain("@example.com");
  });

  it("a confirmation held by the fence is a report that fails the confirmation, with nothing recorded", async () => {
    const w = syncWorld();
    const confirmation = confirmed(w);
    await w.directory.disableUser(confirmation.user.username);
    const report = await runSync(w.deps, confirmation);
    expect(report).toMatchObject({
      trigger: "ConfirmSignUp",
      fence: { kind: "held", reason: "DISABLED" },
      writes: { kind: "not-attempted" },
    });
    expect(syncFailed(report)).toBe(true);
    expect(await w.profiles.get(confirmation.user.sub)).toBeUndefined();
  });

  it("a confirmation whose user is gone is held too", async () => {
    const w = syncWorld();
    const report = await runSync(w.deps, parseSyncInput(aConfirmationEvent()));
    expect(report.fence).toMatchObject({ kind: "held", reason: "GONE" });
    expect(syncFailed(report)).toBe(true);
  });

  it("a clear confirmation is recorded and does not fail", async () => {
    const w = syncWorld();
    const confirmation = confirmed(w);
    const report = await runSync(w.deps, confirmation);
    expect(report).toMatchObject({
      fence: { kind: "clear" },
      writes: { kind: "recorded", result: { profile: "created", backup: "written" } },
    });
    expect(syncFailed(report)).toBe(false);
  });

  it.each<[SyncFailureMode, boolean, string]>([
    ["continue", false, "recorded"],
    ["fail", true, "not-attempted"],
  ])("an unread fence in %s mode: failed=%s, writes %s", async (mode, failed, writes) => {
    const w = syncWorld(mode);
    const confirmation = confirmed(w);
    const unreadable = {
      ...w.directory,
      getUser: () => Promise.reject(new LifecycleError("QUOTA.DEADLINE_REACHED", "throttled")),
    } as unknown as UserDirectory;
    const report = await runSync({ ...w.deps, directoryOf: () => unreadable }, confirmation);
    expect(report.fence).toMatchObject({ kind: "unchecked", error: { code: "QUOTA.DEADLINE_REACHED" } });
    expect(report.writes.kind).toBe(writes);
    expect(syncFailed(report)).toBe(failed);
  });
});
