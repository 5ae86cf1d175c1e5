/**
 * Erase and the application's accounts table (MySQL `users`): the person's rows are found by email and
 * reported, deleted only when asked, and a database failure is reported without stopping the rest.
 */
import { describe, expect, it } from "vitest";
import { InMemoryAccountStore } from "../../adapters/in-memory/account-store.js";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { LifecycleError } from "../errors.js";
import { aUser } from "../testing/builders.js";
import { LEGACY_SUB_ATTRIBUTE, type User } from "../user/user.js";
import { eraseUser, previewErasure } from "./erase-user.js";
import { reconcile } from "./reconcile.js";

function world() {
  const clock = new ManualClock("2026-06-01T00:00:00.000Z");
  const directory = new InMemoryUserDirectory({ clock });
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const erasures = new InMemoryErasureLedger();
  const table = new InMemoryAccountStore();
  const deps = { clock, directory, profiles, backups, erasures, restores: backups, accounts: table };
  return { ...deps, table, deps };
}

/** A confirmed user with a profile and a backup, and their row in the accounts table (plus a bystander's). */
async function recorded(w: ReturnType<typeof world>, user: User = aUser()) {
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
    const user = await recorded(w);
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
    const user = await recorded(w);
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
    const user = await recorded(w);
    await w.directory.deleteUser(user.username);
    const report = await eraseUser(w.deps, { userId: user.sub }, { deleteAccountRow: true });
    expect(report).toMatchObject({ profileDeleted: true, accountRow: { status: "deleted", rows: 1 } });
    expect(emails(w)).toEqual(["bystander@example.com"]);
  });

  it("finds it by the backup's email when only the backup is left", async () => {
    const w = world();
    const user = await recorded(w);
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
    const user = await recorded(w);
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
      const user = await recorded(w);
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
    const user = await recorded(w);
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
    const victim = await recorded(w);
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
    const user = await recorded(w);
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
