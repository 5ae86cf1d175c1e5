import { describe, expect, it } from "vitest";
import { InMemoryAccountStore } from "../../adapters/in-memory/account-store.js";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { LifecycleError } from "../errors.js";
import { describePart, SnapshotPartWriter } from "../backup/snapshot.js";
import { aBackupRecord } from "../testing/backup.js";
import { aUser } from "../testing/builders.js";
import { LEGACY_SUB_ATTRIBUTE, type User } from "../user/user.js";
import { eraseUser, previewErasure } from "./erase-user.js";
import { reconcile } from "./reconcile.js";
import { snapshotUsers } from "./snapshot-users.js";

function world() {
  const clock = new ManualClock("2026-06-01T00:00:00.000Z");
  const directory = new InMemoryUserDirectory({ clock });
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const erasures = new InMemoryErasureLedger();
  /** The application's accounts table (MySQL `users`). */
  const table = new InMemoryAccountStore();
  const deps = { clock, directory, profiles, backups, erasures, restores: backups, accounts: table };
  return { ...deps, table, deps };
}

/** Every stored text of every object, every version (what an erased person must be absent from). */
function everything(backups: InMemoryBackupStore): string[] {
  return backups.keys().flatMap((key) => [...backups.versions(key)]);
}

/** A user who confirmed: in the pool, with a profile, a backup, and in a snapshot. */
async function recorded(w: ReturnType<typeof world>, ...users: User[]) {
  w.directory.seed(...users);
  await reconcile(w.deps, { userPoolId: "p" });
  w.clock.advance(1000);
  return snapshotUsers(w.deps, { userPoolId: "p" });
}

describe("eraseUser: the tombstone comes first", () => {
  it("records the tombstone before it deletes anything", async () => {
    const w = world();
    const user = aUser();
    await recorded(w, user);
    const seenAtDeletion: boolean[] = [];
    const deleteUser = w.directory.deleteUser.bind(w.directory);
    w.directory.deleteUser = async (username) => {
      seenAtDeletion.push(await w.erasures.isErased(user.sub));
      return deleteUser(username);
    };
    w.backups.beforeNext("eraseUserBackups", async () => {
      seenAtDeletion.push(await w.erasures.isErased(user.sub));
    });
    const report = await eraseUser(w.deps, { username: user.username });
    expect(seenAtDeletion).toEqual([true, true]);
    expect(report).toMatchObject({ userId: user.sub, erasedAt: w.clock.now(), complete: true });
    expect(w.erasures.all()).toEqual([{ userId: user.sub, erasedAt: w.clock.now() }]);
  });

  it("a failure half-way leaves the tombstone, and a rerun by user id finishes the job", async () => {
    const w = world();
    const user = aUser();
    await recorded(w, user);
    w.backups.beforeNext("eraseUserBackups", async () => w.backups.outage.begin());
    await expect(eraseUser(w.deps, { username: user.username })).rejects.toThrow();
    w.backups.outage.end();
    expect(await w.erasures.isErased(user.sub)).toBe(true);
    expect(await w.directory.getUser(user.username)).toBeUndefined();
    // The user left the pool: only the id names them now.
    await expect(eraseUser(w.deps, { username: user.username })).rejects.toMatchObject({
      code: "USER.NOT_FOUND",
    });
    const rerun = await eraseUser(w.deps, { userId: user.sub });
    expect(rerun).toMatchObject({ backupVersionsDeleted: 1, snapshotRecordsRemoved: 1, complete: true });
    for (const text of everything(w.backups)) expect(text).not.toContain(user.attributes.email);
  });
});

describe("eraseUser: whom it erases", () => {
  it("refuses a username and a user id of two different people, and erases nothing", async () => {
    const w = world();
    const a = aUser();
    const b = aUser();
    await recorded(w, a, b);
    const before = everything(w.backups);
    await expect(eraseUser(w.deps, { username: a.username, userId: b.sub })).rejects.toMatchObject({
      code: "ERASE.USER_MISMATCH",
    });
    // B left the pool: B's records still say whose the id is.
    await w.directory.deleteUser(b.username);
    await expect(eraseUser(w.deps, { username: a.username, userId: b.sub })).rejects.toMatchObject({
      code: "ERASE.USER_MISMATCH",
    });
    expect(everything(w.backups)).toEqual(before);
    expect(await w.profiles.get(b.sub)).toBeDefined();
    expect(await w.directory.getUser(a.username)).toBeDefined();
    expect(w.erasures.all()).toEqual([]);
  });

  it("refuses the user id of a user still in the pool unless the username names them too", async () => {
    const w = world();
    const user = aUser();
    await recorded(w, user);
    await expect(eraseUser(w.deps, { userId: user.sub })).rejects.toMatchObject({
      code: "ERASE.STILL_IN_POOL",
    });
    expect(await w.profiles.get(user.sub)).toBeDefined();
    expect(w.erasures.all()).toEqual([]);
    expect(await eraseUser(w.deps, { username: user.username, userId: user.sub })).toMatchObject({
      deletedFromPool: true,
      profileDeleted: true,
    });
  });

  it.each(["../../x", "__proto__", "x".repeat(2049), "6F1C2A9E-0000-4000-8000-00000000A11C"])(
    "refuses the user id %s as no user id, naming the field, and writes nothing",
    async (userId) => {
      const w = world();
      await expect(eraseUser(w.deps, { userId })).rejects.toMatchObject({
        name: "ValidationError",
        code: "USER.INVALID_ID",
        field: "userId",
      });
      expect(w.erasures.all()).toEqual([]);
      expect(w.backups.writes.size).toBe(0);
    },
  );

  it("erasing a user who claimed another's id (custom:legacy_sub) erases them only, never the victim", async () => {
    const w = world();
    const victim = aUser();
    await recorded(w, victim);
    const attacker = aUser({ attributes: { [LEGACY_SUB_ATTRIBUTE]: victim.sub } });
    w.directory.seed(attacker);
    w.clock.advance(1000);
    await snapshotUsers(w.deps, { userPoolId: "p" });

    const preview = await previewErasure(w.deps, { username: attacker.username });
    expect(preview).toMatchObject({ identityConflict: "BOUND_TO_ANOTHER_USER", inPool: true });
    expect(preview.userId).toBeUndefined();
    const report = await eraseUser(w.deps, { username: attacker.username });
    expect(report).toMatchObject({
      identityConflict: "BOUND_TO_ANOTHER_USER",
      deletedFromPool: true,
      profileDeleted: false,
      backupVersionsDeleted: 0,
    });
    expect(report.userId).toBeUndefined();
    // The victim keeps everything, and no tombstone names them.
    expect(await w.directory.getUser(victim.username)).toBeDefined();
    expect((await w.profiles.get(victim.sub))?.username).toBe(victim.username);
    expect((await w.backups.getUserBackup(victim.sub))?.user.username).toBe(victim.username);
    expect(await w.erasures.isErased(victim.sub)).toBe(false);
    const all = everything(w.backups).join("");
    expect(all).toContain(victim.attributes.email);
    // The attacker's own snapshot records are gone.
    const latest = (await w.backups.listSnapshots()).at(-1) as string;
    const part = await w.backups.getSnapshotPart(latest, "p-0/part-00001.jsonl");
    expect(part).not.toContain(attacker.attributes.email);
    expect(part).toContain(victim.attributes.email);
  });

  it("erases a user whose custom:legacy_sub is no user id from the pool and the snapshots, touching no key of it", async () => {
    const w = world();
    const hostile = aUser({ attributes: { [LEGACY_SUB_ATTRIBUTE]: "../../x" } });
    w.directory.seed(hostile, aUser());
    const report = await eraseUser(w.deps, { username: hostile.username });
    expect(report).toMatchObject({ identityConflict: "INVALID_ID", deletedFromPool: true, complete: true });
    expect(w.erasures.all()).toEqual([]);
  });
});

describe("eraseUser: every snapshot part, complete or not", () => {
  it("scrubs parts of a snapshot that has no manifest (running, or stopped half-way)", async () => {
    const w = world();
    const user = aUser();
    const other = aUser();
    w.directory.seed(user, other);
    const writer = new SnapshotPartWriter();
    writer.add(aBackupRecord({ user }));
    writer.add(aBackupRecord({ user: other }));
    const part = writer.finish();
    if (!part) throw new Error("setup");
    await w.backups.putSnapshotPart("2026-05-01T00-00-00-000Z", part);
    const report = await eraseUser(w.deps, { username: user.username });
    expect(report).toMatchObject({ snapshotsRewritten: 1, snapshotRecordsRemoved: 1, complete: true });
    const text = await w.backups.getSnapshotPart("2026-05-01T00-00-00-000Z", part.name);
    expect(text).not.toContain(user.attributes.email);
    expect(text).toContain(other.attributes.email);
  });

  it("goes on past a corrupt part, names it, and scrubs the rest", async () => {
    const w = world();
    const user = aUser();
    const manifest = await recorded(w, user, aUser());
    w.clock.advance(1000);
    const second = await snapshotUsers(w.deps, { userPoolId: "p" });
    // The first snapshot's part no longer matches its manifest.
    const corrupt = `${await w.backups.getSnapshotPart(manifest.snapshotId, "p-0/part-00001.jsonl")}{}\n`;
    w.backups.putRaw(`snapshots/${manifest.snapshotId}/p-0/part-00001.jsonl`, corrupt);

    const report = await eraseUser(w.deps, { username: user.username });
    expect(report).toMatchObject({
      complete: false,
      deletedFromPool: true,
      profileDeleted: true,
      snapshotRecordsRemoved: 1,
      unscrubbed: [
        { snapshotId: manifest.snapshotId, part: "p-0/part-00001.jsonl", code: "SNAPSHOT.CHECKSUM_MISMATCH" },
      ],
    });
    expect(await w.backups.getSnapshotPart(second.snapshotId, "p-0/part-00001.jsonl")).not.toContain(
      user.attributes.email,
    );
    // Once the damaged part is dealt with (here: put back as it was), a rerun by id finishes the job.
    const original = corrupt.slice(0, -3);
    w.backups.putRaw(`snapshots/${manifest.snapshotId}/p-0/part-00001.jsonl`, original);
    expect(describePart("p-0/part-00001.jsonl", original).records).toBe(2);
    const rerun = await eraseUser(w.deps, { userId: user.sub });
    expect(rerun).toMatchObject({ complete: true, snapshotRecordsRemoved: 1, unscrubbed: [] });
    for (const key of w.backups.keys().filter((k) => k.startsWith("snapshots/"))) {
      expect(w.backups.versions(key).at(-1)).not.toContain(user.attributes.email);
    }
  });
});

// ---- the application's accounts table: found by email, reported, deleted only when asked ----

/** A confirmed user with a profile and a backup, and their row in the accounts table (plus a bystander's). */
async function recordedWithRow(w: ReturnType<typeof world>, user: User = aUser()) {
  w.directory.seed(user);
  await reconcile(w.deps, { userPoolId: "p" });
  const at = w.clock.now();
  w.table.insert({ email: user.attributes.email as string, confirmedAt: at, confirmationSentAt: at });
  w.table.insert({ email: "bystander@example.com", confirmedAt: at, confirmationSentAt: at });
  return user;
}

const emails = (w: ReturnType<typeof world>) => w.table.all().map((row) => row.email);

describe("eraseUser and the application's accounts table", () => {
  it("says the person is still in the table, and keeps the row, when deleting it was not asked for", async () => {
    const w = world();
    const user = await recordedWithRow(w);
    const report = await eraseUser(w.deps, { username: user.username });
    expect(report).toMatchObject({
      deletedFromPool: true,
      profileDeleted: true,
      accountRow: { status: "present", rows: 1 },
      complete: true,
    });
    expect(emails(w)).toEqual([user.attributes.email, "bystander@example.com"]);
  });

  it("deletes the person's rows when asked, a row whose email differs only by case among them", async () => {
    const w = world();
    const user = await recordedWithRow(w);
    const at = w.clock.now();
    w.table.insert({ email: user.attributes.email!.toUpperCase(), confirmedAt: at, confirmationSentAt: at });
    w.table.insert({ email: `x${user.attributes.email}`, confirmedAt: at, confirmationSentAt: at });
    const report = await eraseUser(w.deps, { username: user.username }, { deleteAccountRow: true });
    expect(report).toMatchObject({ accountRow: { status: "deleted", rows: 2 }, complete: true });
    expect(emails(w)).toEqual(["bystander@example.com", `x${user.attributes.email}`]);
    // Idempotent: the rows are gone, and a second erase by id finds neither them nor an email to look with.
    const again = await eraseUser(w.deps, { userId: user.sub }, { deleteAccountRow: true });
    expect(again.accountRow).toEqual({ status: "not-checked", reason: "EMAIL_UNKNOWN" });
  });

  it("says absent when no row holds the person's email", async () => {
    const w = world();
    const user = aUser();
    w.directory.seed(user);
    const report = await eraseUser(w.deps, { username: user.username }, { deleteAccountRow: true });
    expect(report).toMatchObject({ accountRow: { status: "absent" }, complete: true });
  });

  it("finds the row by the profile's email once the user left the pool", async () => {
    const w = world();
    const user = await recordedWithRow(w);
    await w.directory.deleteUser(user.username);
    const report = await eraseUser(w.deps, { userId: user.sub }, { deleteAccountRow: true });
    expect(report).toMatchObject({ profileDeleted: true, accountRow: { status: "deleted", rows: 1 } });
    expect(emails(w)).toEqual(["bystander@example.com"]);
  });

  it("finds it by the backup's email when only the backup is left", async () => {
    const w = world();
    const user = await recordedWithRow(w);
    await w.directory.deleteUser(user.username);
    await w.profiles.delete(user.sub);
    const report = await eraseUser(w.deps, { userId: user.sub });
    expect(report).toMatchObject({ backupVersionsDeleted: 1, accountRow: { status: "present", rows: 1 } });
  });

  it("says not-checked (EMAIL_UNKNOWN) when no store holds the email: complete unless deleting was asked for", async () => {
    const w = world();
    const id = aUser().sub;
    expect((await eraseUser(w.deps, { userId: id })).accountRow).toEqual({
      status: "not-checked",
      reason: "EMAIL_UNKNOWN",
    });
    expect((await eraseUser(w.deps, { userId: id })).complete).toBe(true);
    expect((await eraseUser(w.deps, { userId: id }, { deleteAccountRow: true })).complete).toBe(false);
  });

  it("without access to the database says not-checked (NO_DATABASE_ACCESS), deleting nothing", async () => {
    const w = world();
    const user = await recordedWithRow(w);
    const { accounts: _, ...withoutTable } = w.deps;
    const report = await eraseUser(withoutTable, { username: user.username });
    expect(report).toMatchObject({
      accountRow: { status: "not-checked", reason: "NO_DATABASE_ACCESS" },
      complete: true,
    });
    const asked = await eraseUser(withoutTable, { userId: user.sub }, { deleteAccountRow: true });
    expect(asked).toMatchObject({ accountRow: { reason: "NO_DATABASE_ACCESS" }, complete: false });
    expect(emails(w)).toContain(user.attributes.email);
  });

  it("with the database down, erases everything else and reports the row as not checked, with the code", async () => {
    for (const deleteAccountRow of [false, true]) {
      const w = world();
      const user = await recordedWithRow(w);
      w.table.outage.begin(new LifecycleError("SERVICE.UNREACHABLE", "The accounts database is unreachable"));
      const report = await eraseUser(w.deps, { username: user.username }, { deleteAccountRow });
      expect(report).toMatchObject({
        deletedFromPool: true,
        profileDeleted: true,
        backupVersionsDeleted: 1,
        accountRow: { status: "not-checked", reason: "DATABASE_FAILED", code: "SERVICE.UNREACHABLE" },
        // Deleting the row was asked for and could not be done: the erasure is not complete.
        complete: !deleteAccountRow,
      });
      expect(await w.erasures.isErased(user.sub)).toBe(true);
      w.table.outage.end();
      expect(emails(w)).toContain(user.attributes.email);
    }
  });

  it("writes the tombstone before it touches the table", async () => {
    const w = world();
    const user = await recordedWithRow(w);
    const seen: boolean[] = [];
    const deleteByEmail = w.table.deleteByEmail.bind(w.table);
    w.table.deleteByEmail = async (email) => {
      seen.push(await w.erasures.isErased(user.sub));
      return deleteByEmail(email);
    };
    await eraseUser(w.deps, { username: user.username }, { deleteAccountRow: true });
    expect(seen).toEqual([true]);
  });

  it("erasing a user who claimed another's id deletes the claimant's row, never the victim's", async () => {
    const w = world();
    const victim = await recordedWithRow(w);
    const claimant = aUser({ attributes: { [LEGACY_SUB_ATTRIBUTE]: victim.sub } });
    w.directory.seed(claimant);
    const at = w.clock.now();
    w.table.insert({ email: claimant.attributes.email!, confirmedAt: at, confirmationSentAt: at });
    const report = await eraseUser(w.deps, { username: claimant.username }, { deleteAccountRow: true });
    expect(report).toMatchObject({
      identityConflict: "BOUND_TO_ANOTHER_USER",
      accountRow: { status: "deleted", rows: 1 },
    });
    expect(emails(w)).toEqual([victim.attributes.email, "bystander@example.com"]);
  });
});

describe("previewErasure and the accounts table", () => {
  it("shows whether the person is in the table, deleting nothing", async () => {
    const w = world();
    const user = await recordedWithRow(w);
    expect((await previewErasure(w.deps, { username: user.username })).accountRow).toEqual({
      status: "present",
      rows: 1,
    });
    expect(emails(w)).toContain(user.attributes.email);
    const stranger = aUser();
    w.directory.seed(stranger);
    expect((await previewErasure(w.deps, { username: stranger.username })).accountRow).toEqual({
      status: "absent",
    });
    w.table.outage.begin(new LifecycleError("DATABASE.AUTH_FAILED", "refused"));
    expect((await previewErasure(w.deps, { username: user.username })).accountRow).toEqual({
      status: "not-checked",
      reason: "DATABASE_FAILED",
      code: "DATABASE.AUTH_FAILED",
    });
    const { accounts: _, ...withoutTable } = w.deps;
    expect((await previewErasure(withoutTable, { username: user.username })).accountRow).toEqual({
      status: "not-checked",
      reason: "NO_DATABASE_ACCESS",
    });
  });
});
