import { rejectionOf } from "../core/testing/errors.js";
import { describe, expect, it } from "vitest";
import { InMemoryAccountStore } from "../adapters/in-memory/account-store.js";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../adapters/in-memory/user-directory.js";
import { LifecycleError, ValidationError } from "../core/errors.js";
import { DEFAULT_PURGE_POLICY } from "../core/purge/index.js";
import { aUser } from "../core/testing/builders.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import { eraseHandler } from "./erase.js";
import { RunFailedError } from "../runtime/invocation.js";
import { purgeUnconfirmedAccountsHandler } from "./purge-unconfirmed-accounts.js";
import { purgeUnconfirmedIdentitiesHandler } from "./purge-unconfirmed-identities.js";
import { restoreHandler } from "./restore.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { snapshotAndReconcileHandler } from "./snapshot-and-reconcile.js";
import { RecordingObservability } from "../runtime/testing/recording-observability.js";

const NOW = "2026-06-10T12:00:00.000Z";
const lambdaContext = (remainingMs = 900_000) => ({
  awsRequestId: "req-42",
  getRemainingTimeInMillis: () => remainingMs,
});

function world() {
  const clock = new ManualClock(NOW);
  const directory = new InMemoryUserDirectory({ clock });
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const observability = new RecordingObservability();
  const erasures = new InMemoryErasureLedger();
  return { clock, sleeper: clock, directory, profiles, backups, restores: backups, erasures, observability };
}

const old = new Date("2026-06-01T00:00:00.000Z");

describe("purge-unconfirmed-identities handler", () => {
  it("deletes expired unconfirmed users only, returns the report and logs counts without emails", async () => {
    const w = world();
    const expired = aUser({ status: "UNCONFIRMED", createdAt: old });
    const young = aUser({ status: "UNCONFIRMED", createdAt: new Date("2026-06-10T11:00:00.000Z") });
    const confirmed = aUser({ createdAt: old });
    w.directory.seed(expired, young, confirmed, ...Array.from({ length: 20 }, () => aUser()));
    const handler = purgeUnconfirmedIdentitiesHandler({ ...w, policy: DEFAULT_PURGE_POLICY });
    const report = await handler({}, lambdaContext());
    expect(report).toMatchObject({ target: "identities", deleted: 1, stoppedBy: "completed" });
    expect(w.directory.snapshot().map((u) => u.username)).not.toContain(expired.username);
    expect(w.directory.snapshot().map((u) => u.username)).toContain(young.username);
    expect(w.observability.counters.get("IdentitiesDeleted")).toBe(1);
    expect(w.observability.invocations).toEqual([expect.objectContaining({ awsRequestId: "req-42" })]);
    expect(w.observability.text()).not.toMatch(/@example\.com|user-\d+/);
  });

  it("deletes nothing on a dry run", async () => {
    const w = world();
    const expired = aUser({ status: "UNCONFIRMED", createdAt: old });
    w.directory.seed(expired, ...Array.from({ length: 30 }, () => aUser()));
    const handler = purgeUnconfirmedIdentitiesHandler({
      ...w,
      policy: { ...DEFAULT_PURGE_POLICY, dryRun: true },
    });
    expect(await handler({}, lambdaContext())).toMatchObject({ dryRun: true, deleted: 0, eligible: 1 });
    expect(w.directory.snapshot().map((u) => u.username)).toContain(expired.username);
  });

  it("warns and counts a refused run", async () => {
    const w = world();
    w.directory.seed(
      aUser({ status: "UNCONFIRMED", createdAt: old }),
      aUser({ status: "UNCONFIRMED", createdAt: old }),
      aUser(),
    );
    const handler = purgeUnconfirmedIdentitiesHandler({ ...w, policy: DEFAULT_PURGE_POLICY });
    const report = await handler({}, lambdaContext());
    expect(report.stoppedBy).toBe("refused");
    expect(w.observability.counters.get("IdentitiesPurgeRefused")).toBe(1);
    expect(w.observability.lines.some((l) => l.level === "warn")).toBe(true);
  });

  it("fails the invocation when a deletion failed, so the error alarm fires", async () => {
    const w = world();
    w.directory.seed(
      aUser({ status: "UNCONFIRMED", createdAt: old }),
      ...Array.from({ length: 30 }, () => aUser()),
    );
    w.directory.deleteUser = async () => {
      throw new LifecycleError("DIRECTORY.THROTTLED", "slow down");
    };
    const handler = purgeUnconfirmedIdentitiesHandler({ ...w, policy: DEFAULT_PURGE_POLICY });
    const error = await rejectionOf(handler({}, lambdaContext()));
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).report).toMatchObject({
      failed: 1,
      failureCodes: { "DIRECTORY.THROTTLED": 1 },
    });
    expect(w.observability.counters.get("PurgeUnconfirmedIdentitiesFailed")).toBe(1);
  });

  it("stops its steps when the invocation's time is nearly up, deleting nothing it has not planned, and defers the rest", async () => {
    const w = world();
    w.directory.seed(
      ...Array.from({ length: 3 }, () => aUser({ status: "UNCONFIRMED", createdAt: old })),
      ...Array.from({ length: 60 }, () => aUser()),
    );
    const handler = purgeUnconfirmedIdentitiesHandler({ ...w, policy: DEFAULT_PURGE_POLICY });
    // 30 s left: the margin the function keeps to log its report. One step lists a page, then the run stops.
    const report = await handler({}, { awsRequestId: "req-43", getRemainingTimeInMillis: () => 30_000 });
    expect(report).toMatchObject({ stoppedBy: "time-budget", deleted: 0 });
    expect(w.directory.snapshot()).toHaveLength(63);
  });

  it("takes one step per state machine event, listing then deleting, and counts the report at the end", async () => {
    const w = world();
    const expired = aUser({ status: "UNCONFIRMED", createdAt: old });
    w.directory.seed(expired, ...Array.from({ length: 30 }, () => aUser()));
    const handler = purgeUnconfirmedIdentitiesHandler({ ...w, policy: DEFAULT_PURGE_POLICY }) as unknown as (
      event: unknown,
      context?: unknown,
    ) => Promise<{ state: unknown; done: boolean }>;
    let answer = await handler({ execution: "purge-1", input: {}, state: null }, lambdaContext());
    expect(answer.done).toBe(false);
    expect(w.directory.snapshot().map((u) => u.username)).toContain(expired.username);
    answer = await handler({ execution: "purge-1", state: answer.state }, lambdaContext());
    expect(answer.done).toBe(true);
    expect(w.directory.snapshot().map((u) => u.username)).not.toContain(expired.username);
    expect(w.observability.counters.get("IdentitiesDeleted")).toBe(1);
  });

  it("refuses a state that is not an identity purge's, naming the field, and changes nothing", async () => {
    const w = world();
    w.directory.seed(aUser({ status: "UNCONFIRMED", createdAt: old }), aUser());
    const handler = purgeUnconfirmedIdentitiesHandler({ ...w, policy: DEFAULT_PURGE_POLICY });
    const bad = { version: 1, next: 0, plan: { toDelete: ["user-000001"] } };
    const error = await rejectionOf(handler({ execution: "purge-2", state: bad }, lambdaContext()));
    expect(error).toMatchObject({ code: "STEP.STATE_INVALID" });
    expect(w.directory.snapshot()).toHaveLength(2);
    expect(w.directory.calls.get("AdminDeleteUser")).toBeUndefined();
  });

  it("fails the invocation when the directory cannot be read", async () => {
    const w = world();
    w.directory.listUsers = async () => {
      throw new LifecycleError("SERVICE.UNREACHABLE", "Cognito is unreachable");
    };
    const handler = purgeUnconfirmedIdentitiesHandler({ ...w, policy: DEFAULT_PURGE_POLICY });
    expect(await rejectionOf(handler({}, lambdaContext()))).toMatchObject({ code: "SERVICE.UNREACHABLE" });
    expect(w.observability.lines.at(-1)?.attributes).toEqual({ errorCode: "SERVICE.UNREACHABLE" });
  });
});

describe("purge-unconfirmed-accounts handler", () => {
  function accountsWorld() {
    const w = world();
    const accounts = new InMemoryAccountStore();
    accounts.insert({ email: "old@example.com", confirmedAt: null, confirmationSentAt: old });
    for (let i = 0; i < 30; i++)
      accounts.insert({ email: `ok-${i}@example.com`, confirmedAt: old, confirmationSentAt: old });
    return { ...w, accounts };
  }

  it("deletes the expired rows in batches and reports counts", async () => {
    const w = accountsWorld();
    const handler = purgeUnconfirmedAccountsHandler({
      ...w,
      accounts: async () => w.accounts,
      policy: DEFAULT_PURGE_POLICY,
      batchSize: 100,
      lanes: 2,
    });
    expect(await handler({}, lambdaContext())).toMatchObject({ target: "accounts", deleted: 1 });
    expect(w.accounts.all()).toHaveLength(30);
    expect(w.observability.text()).not.toContain("@example.com");
  });

  it("a dry run logs counts only: no email reaches the logs, masked or not, and no email is read", async () => {
    const w = accountsWorld();
    const reads: string[] = [];
    const watched = Object.assign(Object.create(w.accounts) as InMemoryAccountStore, {
      oldestExpiredUnconfirmedEmails: async (cutoff: Date, limit: number) => {
        reads.push("emails");
        return w.accounts.oldestExpiredUnconfirmedEmails(cutoff, limit);
      },
    });
    const handler = purgeUnconfirmedAccountsHandler({
      ...w,
      accounts: async () => watched,
      policy: DEFAULT_PURGE_POLICY,
      batchSize: 100,
      lanes: 2,
    });
    expect(await handler({ dryRun: true }, lambdaContext())).toMatchObject({ eligible: 1, deleted: 0 });
    expect(w.observability.text()).toContain('"eligible":1');
    expect(w.observability.text()).not.toMatch(/@/);
    expect(reads).toEqual([]);
    expect(w.accounts.all()).toHaveLength(31);
  });

  it("reads the secret again once when the login is refused (a rotated password), then goes on", async () => {
    const w = accountsWorld();
    const opened: boolean[] = [];
    const handler = purgeUnconfirmedAccountsHandler({
      ...w,
      accounts: async ({ refreshCredentials }) => {
        opened.push(refreshCredentials);
        if (!refreshCredentials) throw new LifecycleError("DATABASE.AUTH_FAILED", "Access denied for user");
        return w.accounts;
      },
      policy: DEFAULT_PURGE_POLICY,
      batchSize: 100,
      lanes: 2,
    });
    expect(await handler({}, lambdaContext())).toMatchObject({ deleted: 1 });
    expect(opened).toEqual([false, true]);
  });

  it("fails with one clear error when the login is refused again", async () => {
    const w = accountsWorld();
    const handler = purgeUnconfirmedAccountsHandler({
      ...w,
      accounts: async () => {
        throw new LifecycleError("DATABASE.AUTH_FAILED", "Access denied for user");
      },
      policy: DEFAULT_PURGE_POLICY,
      batchSize: 100,
      lanes: 2,
    });
    expect(await rejectionOf(handler({}, lambdaContext()))).toMatchObject({ code: "DATABASE.AUTH_FAILED" });
    expect(w.accounts.all()).toHaveLength(31);
  });
});

describe("scheduled events are parsed as strictly as manual ones", () => {
  function purgeWorld() {
    const w = world();
    const expired = aUser({ status: "UNCONFIRMED", createdAt: old });
    w.directory.seed(expired, ...Array.from({ length: 30 }, () => aUser()));
    const accounts = new InMemoryAccountStore();
    accounts.insert({ email: "old@example.com", confirmedAt: null, confirmationSentAt: old });
    for (let i = 0; i < 30; i++)
      accounts.insert({ email: `ok-${i}@example.com`, confirmedAt: old, confirmationSentAt: old });
    const identities = purgeUnconfirmedIdentitiesHandler({ ...w, policy: DEFAULT_PURGE_POLICY });
    const accountsHandler = purgeUnconfirmedAccountsHandler({
      ...w,
      accounts: async () => accounts,
      policy: DEFAULT_PURGE_POLICY,
      batchSize: 100,
      lanes: 2,
    });
    return { ...w, expired, accounts, identities, accountsHandler };
  }

  it('{"dryRun":true} makes both purges dry runs: nothing is deleted', async () => {
    const w = purgeWorld();
    expect(await w.identities({ dryRun: true }, lambdaContext())).toMatchObject({
      dryRun: true,
      deleted: 0,
      eligible: 1,
    });
    expect(await w.accountsHandler({ dryRun: true }, lambdaContext())).toMatchObject({
      dryRun: true,
      deleted: 0,
    });
    expect(w.directory.snapshot().map((u) => u.username)).toContain(w.expired.username);
    expect(w.accounts.all()).toHaveLength(31);
  });

  it.each([
    [{ dryrun: true }, "dryrun"],
    [{ dryRun: "yes" }, "dryRun"],
    [{ dryRun: true, limit: 5 }, "limit"],
    [[], "event"],
    ["go", "event"],
  ])("a purge refuses %j naming %s, and deletes nothing", async (event, named) => {
    const w = purgeWorld();
    for (const handler of [w.identities, w.accountsHandler]) {
      const error = await rejectionOf(handler(event, lambdaContext()));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: "EVENT.INVALID" });
      expect((error as Error).message).toContain(named);
    }
    expect(w.directory.snapshot().map((u) => u.username)).toContain(w.expired.username);
    expect(w.accounts.all()).toHaveLength(31);
  });

  it("the purges run for real on the scheduler's {} and on no event at all", async () => {
    const w = purgeWorld();
    expect(await w.identities({}, lambdaContext())).toMatchObject({ deleted: 1 });
    expect(await w.accountsHandler(undefined, lambdaContext())).toMatchObject({ deleted: 1 });
  });

  it.each([
    [{ dryRun: true }, "dryRun"],
    [{ snapshotId: "x" }, "snapshotId"],
  ])("snapshot-and-reconcile refuses %j naming %s, and writes nothing", async (event, named) => {
    const w = world();
    w.directory.seed(aUser());
    const handler = snapshotAndReconcileHandler({ ...w, userPoolId: "eu-west-1_AbC123" });
    const error = await rejectionOf(handler(event, lambdaContext()));
    expect(error).toMatchObject({ code: "EVENT.INVALID" });
    expect((error as Error).message).toContain(named);
    expect(await w.backups.listSnapshots()).toEqual([]);
    expect(await w.profiles.get(w.directory.snapshot()[0]?.sub ?? "")).toBeUndefined();
  });
});

describe("snapshot-and-reconcile handler", () => {
  it("snapshots the pool and repairs a missing profile", async () => {
    const w = world();
    const user = aUser({ groups: ["admins"] });
    w.directory.seed(user);
    const handler = snapshotAndReconcileHandler({ ...w, userPoolId: "eu-west-1_AbC123" });
    const report = await handler({}, lambdaContext());
    expect(report.snapshot).toMatchObject({ ok: true, users: 1 });
    expect(report.reconcile).toMatchObject({ profilesCreated: 1, backupsWritten: 1, failed: 0 });
    expect(await w.backups.listSnapshots()).toHaveLength(1);
  });

  it("fails the invocation when a snapshot step fails; the next run cleans what it left and completes", async () => {
    const w = world();
    const user = aUser();
    w.directory.seed(user);
    const put = w.backups.putSnapshotManifest.bind(w.backups);
    w.backups.putSnapshotManifest = async () => {
      throw new LifecycleError("SERVICE.UNREACHABLE", "S3 is unreachable");
    };
    const handler = snapshotAndReconcileHandler({ ...w, userPoolId: "eu-west-1_AbC123" });
    const error = await rejectionOf(handler({}, lambdaContext()));
    expect(error).toMatchObject({ code: "SERVICE.UNREACHABLE" });
    expect(w.observability.counters.get("SnapshotAndReconcileFailed")).toBe(1);
    expect(await w.backups.listSnapshots()).toEqual([]);
    // Reconcile rode the pages listed before the failure: the repair is made already.
    expect(await w.profiles.get(user.sub)).toBeDefined();
    w.backups.putSnapshotManifest = put;
    w.clock.advance(60_000);
    const report = await handler({}, lambdaContext());
    expect(report.snapshot).toMatchObject({ ok: true, users: 1 });
    expect(report.reconcile).toMatchObject({
      checked: 1,
      profilesCreated: 0,
      backupsCurrent: 1,
      backupsRead: 0,
    });
    expect(await w.backups.listSnapshotIds()).toEqual(await w.backups.listSnapshots());
  });

  it("stops a snapshot that cannot finish in the invocation (SNAPSHOT.INCOMPLETE), and the next run cleans it", async () => {
    const w = world();
    w.directory.seed(...Array.from({ length: 200 }, () => aUser()));
    // Each ListUsers call takes 30 s (virtual): 19 calls (4 pages, 15 empty partitions) outlast 5 minutes.
    const slow: UserDirectory = Object.create(w.directory) as UserDirectory;
    slow.listUsers = async (query) => {
      w.clock.advance(30_000);
      return w.directory.listUsers(query);
    };
    const handler = snapshotAndReconcileHandler({ ...w, directory: slow, userPoolId: "eu-west-1_AbC123" });
    const error = await rejectionOf(handler({}, lambdaContext(5 * 60_000)));
    expect((error as RunFailedError).report).toMatchObject({
      snapshot: { ok: false, errorCode: "SNAPSHOT.INCOMPLETE" },
    });
    expect(await w.backups.listSnapshots()).toEqual([]);
    expect(await w.backups.listSnapshotIds()).toHaveLength(1);
    const report = await handler({}, lambdaContext(60 * 60_000));
    expect(report.snapshot).toMatchObject({ ok: true, users: 200 });
    // The incomplete one is gone; only the complete one remains.
    expect(await w.backups.listSnapshotIds()).toEqual(await w.backups.listSnapshots());
  });
});

describe("erase handler", () => {
  it("erases the user everywhere and logs the sub, never the username", async () => {
    const w = world();
    const user = aUser();
    w.directory.seed(user);
    await snapshotAndReconcileHandler({ ...w, userPoolId: "eu-west-1_AbC123" })({}, lambdaContext());
    const report = await eraseHandler(w)({ username: user.username }, lambdaContext());
    expect(report).toMatchObject({
      userId: user.sub,
      deletedFromPool: true,
      profileDeleted: true,
      snapshotsRewritten: 1,
    });
    expect(await w.backups.getUserBackup(user.sub)).toBeUndefined();
    // The sub is a pseudonymous id, kept for the audit trail; the username may be an email or a name.
    expect(w.observability.text()).toContain(user.sub);
    expect(w.observability.text()).not.toContain(user.username);
  });

  it("has no access to the accounts database: says the row was not checked, and leaves it", async () => {
    const w = world();
    const user = aUser();
    w.directory.seed(user);
    const at = w.clock.now();
    const accounts = new InMemoryAccountStore();
    accounts.insert({ email: user.attributes.email!, confirmedAt: at, confirmationSentAt: at });
    // Even handed a table, the function does not touch it: it never has one in AWS.
    const handed = { ...w, accounts };
    const report = await eraseHandler(handed)({ username: user.username }, lambdaContext());
    expect(report).toMatchObject({
      deletedFromPool: true,
      accountRow: { status: "not-checked", reason: "NO_DATABASE_ACCESS" },
      complete: true,
    });
    expect(accounts.all().map((row) => row.email)).toEqual([user.attributes.email]);
    expect(w.observability.text()).toContain("NO_DATABASE_ACCESS");
    expect(w.observability.text()).not.toContain(user.attributes.email!);
  });

  it.each([
    [{}, "event: give a username, a userId, or both"],
    [{ username: "" }, "event.username"],
    [{ user: "x" }, "unknown: user"],
    [{ userId: 7 }, "event.userId"],
    [{ username: "alice", deleteAccountRow: true }, "unknown: deleteAccountRow"],
  ])("refuses the event %j, naming what is wrong, and erases nothing", async (event, expected) => {
    const w = world();
    const user = aUser();
    w.directory.seed(user);
    const error = await rejectionOf(eraseHandler(w)(event, lambdaContext()));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain(expected);
    expect(w.directory.snapshot()).toHaveLength(1);
  });
});

describe("restore handler", () => {
  async function lostUser() {
    const w = world();
    const user = aUser({ groups: ["admins"] });
    w.directory.seed(user, aUser());
    await snapshotUsers(w, { userPoolId: "eu-west-1_AbC123" });
    await w.directory.deleteUser(user.username);
    const handler = restoreHandler({
      ...w,
      target: () => ({ directory: w.directory, importer: w.directory }),
    });
    return { w, user, handler };
  }

  it("plans by default and changes nothing", async () => {
    const { w, user, handler } = await lostUser();
    const summary = await handler({ usernames: [user.username] }, lambdaContext());
    expect(summary).toMatchObject({ action: "plan", planned: 1, complete: false });
    expect(await w.directory.getUser(user.username)).toBeUndefined();
  });

  it("restores a deleted user with its groups and the old sub in custom:legacy_sub", async () => {
    const { w, user, handler } = await lostUser();
    const summary = await handler(
      { action: "restore", strategy: "admin-create", usernames: [user.username] },
      lambdaContext(),
    );
    expect(summary).toMatchObject({ action: "restore", restored: 1, membershipsAdded: 1, complete: true });
    const back = await w.directory.getUser(user.username, { includeGroups: true });
    expect(back?.attributes["custom:legacy_sub"]).toBe(user.sub);
    expect(back?.groups).toEqual(["admins"]);
    expect(w.observability.text()).not.toContain(user.username);
  });

  it("refuses to start the same request again while its restore is unfinished, naming the plan id; logs the id", async () => {
    const { w, user, handler } = await lostUser();
    const started = await handler(
      { action: "start", strategy: "admin-create", usernames: [user.username] },
      lambdaContext(30_000), // no time left past the margin: one step
    );
    expect(started.state).toBe("running");
    expect(w.observability.lines).toContainEqual(
      expect.objectContaining({ message: "Restore plan stored", attributes: { planId: started.planId } }),
    );
    const error = await rejectionOf(
      handler({ action: "start", strategy: "admin-create", usernames: [user.username] }, lambdaContext()),
    );
    expect(error).toMatchObject({
      code: "RESTORE.UNFINISHED",
      message: expect.stringContaining(started.planId),
    });
    // Another request is not held back by it.
    expect(
      await handler(
        { action: "start", strategy: "admin-create", usernames: ["nobody"] },
        lambdaContext(),
      ).catch((failed: RunFailedError) => failed.report),
    ).toMatchObject({ notFound: ["nobody"] });
  });

  it("skips a backed-up user with an attribute Cognito refuses, with a reason logged by code, and restores the rest", async () => {
    const w = world();
    const poison = aUser({ attributes: { "custom:legacy_sub": aUser().sub, nickname: "é".repeat(1025) } });
    const fine = aUser({ groups: ["admins"] });
    w.directory.seed(poison, fine, aUser());
    await snapshotUsers(w, { userPoolId: "eu-west-1_AbC123" });
    await w.directory.deleteUser(poison.username);
    await w.directory.deleteUser(fine.username);
    const handler = restoreHandler({
      ...w,
      target: () => ({ directory: w.directory, importer: w.directory }),
    });
    for (const strategy of ["admin-create", "import-job"] as const) {
      const summary = await handler({ action: "plan", strategy }, lambdaContext());
      expect(summary.skipped).toEqual([{ username: poison.username, reason: "INVALID_VALUE" }]);
      expect(summary.planned).toBe(1);
    }
    const summary = await handler({ action: "start", strategy: "admin-create" }, lambdaContext());
    expect(summary).toMatchObject({ state: "finished", restored: 1, complete: true });
    expect(await w.directory.getUser(fine.username)).toBeDefined();
    expect(w.observability.lines.at(-1)?.attributes).toMatchObject({
      report: { skipped: 1, skippedByReason: { INVALID_VALUE: 1 } },
    });
    expect(w.observability.text()).not.toContain(poison.username);
  });

  it("fails the invocation when a requested user is in no backup", async () => {
    const { handler } = await lostUser();
    const error = await rejectionOf(
      handler({ action: "restore", strategy: "admin-create", usernames: ["nobody"] }, lambdaContext()),
    );
    expect((error as RunFailedError).report).toMatchObject({ notFound: ["nobody"], complete: false });
  });

  it("stops before importing anything when a snapshot part is corrupt, naming the part", async () => {
    const { w, user, handler } = await lostUser();
    const [snapshotId] = await w.backups.listSnapshots();
    const manifest = await w.backups.getSnapshotManifest(snapshotId as string);
    const part = manifest.parts[0];
    w.backups.putRaw(`snapshots/${snapshotId}/${part?.name}`, "{}\n");
    const error = await rejectionOf(
      handler({ action: "restore", strategy: "admin-create" }, lambdaContext()),
    );
    expect(error.message).toContain(part?.name);
    expect(await w.directory.getUser(user.username)).toBeUndefined();
  });

  it("starts with little time left, resumes until finished, and reads the status without writing", async () => {
    const { w, user, handler } = await lostUser();
    // 30 s left is all margin: every invocation takes one step only.
    const short = lambdaContext(30_000);
    const started = await handler({ action: "start", strategy: "admin-create" }, short);
    expect(started).toMatchObject({ action: "start", state: "running", planned: 1, complete: false });
    let summary = started;
    for (let i = 0; summary.state === "running" && i < 10; i += 1) {
      summary = await handler({ action: "resume", planId: started.planId }, short);
    }
    expect(summary).toMatchObject({ action: "resume", state: "finished", restored: 1, complete: true });
    expect((await w.directory.getUser(user.username, { includeGroups: true }))?.groups).toEqual(["admins"]);

    const writes = new Map(w.backups.writes);
    const status = await handler({ action: "status", planId: started.planId }, short);
    expect(status).toMatchObject({ action: "status", state: "finished", complete: true });
    expect(w.backups.writes).toEqual(writes);
    const again = await handler({ action: "resume", planId: started.planId }, short);
    expect(again).toMatchObject({ state: "finished", complete: true });
    expect(w.backups.writes).toEqual(writes);
    expect(w.observability.text()).not.toContain(user.username);
  });

  it("resumes into the pool the restore was started for", async () => {
    const { w, user } = await lostUser();
    const other = new InMemoryUserDirectory({ clock: w.clock });
    const pools: (string | undefined)[] = [];
    const handler = restoreHandler({
      ...w,
      target: (userPoolId) => {
        pools.push(userPoolId);
        return userPoolId === "eu-west-1_Other1" ? { directory: other } : { directory: w.directory };
      },
    });
    const started = await handler(
      { action: "start", strategy: "admin-create", targetUserPoolId: "eu-west-1_Other1" },
      lambdaContext(30_000),
    );
    await handler({ action: "resume", planId: started.planId }, lambdaContext());
    expect(pools).toEqual(["eu-west-1_Other1", "eu-west-1_Other1"]);
    expect(await other.getUser(user.username)).toBeDefined();
  });

  it("refuses an unknown plan id with RESTORE.NOT_FOUND", async () => {
    const { handler } = await lostUser();
    const error = await rejectionOf(handler({ action: "status", planId: "restore-nope" }, lambdaContext()));
    expect(error).toMatchObject({ code: "RESTORE.NOT_FOUND" });
    expect(error.message).toContain("restore-nope");
  });

  it.each([
    [{ action: "resume" }, "event.planId"],
    [{ action: "status", planId: "../etc" }, "event.planId: must be a restore plan id"],
    [{ action: "resume", planId: "restore-1", strategy: "admin-create" }, "unknown: strategy"],
    [{ action: "nuke" }, "event.action"],
    [{ source: { snapshot: "x" } }, "event.source"],
    [{ targetUserPoolId: "pool" }, "event.targetUserPoolId: must be a user pool id"],
    [{ usernames: [] }, "event.usernames"],
  ])("refuses the event %j naming the field", async (event, expected) => {
    const { handler } = await lostUser();
    const error = await rejectionOf(handler(event, lambdaContext()));
    expect(error).toMatchObject({ code: "EVENT.INVALID" });
    expect(error.message).toContain(expected);
  });
});
