import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InMemoryAccountStore } from "../adapters/in-memory/account-store.js";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { ManualClock, SteppingClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../adapters/in-memory/user-directory.js";
import type { Environment } from "../runtime/composition-root.js";
import { LifecycleError, ValidationError } from "../core/errors.js";
import { DEFAULT_PURGE_POLICY } from "../core/purge/index.js";
import { aUser } from "../core/testing/builders.js";
import type { User } from "../core/user/user.js";
import { startRestore } from "../core/use-cases/restore-users.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import type { Connection } from "./connection.js";
import { run } from "./main.js";
import { capturedIo } from "./testing/captured-io.js";

const NOW = "2026-06-10T12:00:00.000Z";
const POOL = "eu-west-1_AbC123";
const old = new Date("2026-06-01T00:00:00.000Z");

function world(clock: ManualClock = new ManualClock(NOW), options: { accountsDatabase?: boolean } = {}) {
  const directory = new InMemoryUserDirectory({ clock });
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const accounts = new InMemoryAccountStore();
  const erasures = new InMemoryErasureLedger();
  const environments: Environment[] = [];
  let closed = 0;
  const connect = (env: Environment): Connection => {
    environments.push(env);
    return {
      userPoolId: () => POOL,
      directory: () => directory,
      importer: () => directory,
      profiles: () => profiles,
      backups: () => backups,
      restores: () => backups,
      erasures: () => erasures,
      accounts: async () => accounts,
      accountRows: async () => {
        if (options.accountsDatabase === false) {
          throw new ValidationError("CONFIG.INVALID", "ACCOUNTS_DB_HOST", "is required");
        }
        return accounts;
      },
      clock,
      sleeper: clock,
      purgePolicy: () => DEFAULT_PURGE_POLICY,
      accountsPurgeSizes: () => ({ batchSize: 500, lanes: 2 }),
      close: async () => {
        closed += 1;
      },
    };
  };
  return {
    clock,
    directory,
    profiles,
    backups,
    restores: backups,
    erasures,
    accounts,
    connect,
    environments,
    closed: () => closed,
  };
}

const fakeIo = capturedIo;

/** A pool of 40 confirmed users and one that never confirmed, an accounts table likewise. */
function withUnconfirmed() {
  const w = world();
  const expired = aUser({ status: "UNCONFIRMED", createdAt: old, username: "someone@example.com" });
  w.directory.seed(expired, ...Array.from({ length: 40 }, () => aUser()));
  for (let i = 0; i < 40; i += 1) {
    w.accounts.insert({ email: `a${i}@example.com`, confirmedAt: old, confirmationSentAt: old });
  }
  w.accounts.insert({ email: "late@example.com", confirmedAt: null, confirmationSentAt: old });
  return { w, expired };
}

const usernames = (w: ReturnType<typeof world>) => w.directory.snapshot().map((u) => u.username);

describe("user-lifecycle --help", () => {
  it("exits 0 and lists every command, with examples", async () => {
    const f = fakeIo();
    expect(await run(["--help"], f.io)).toBe(0);
    for (const command of ["purge-unconfirmed", "snapshot", "restore", "reconcile", "erase", "status"]) {
      expect(f.stdout()).toContain(command);
    }
    expect(f.stdout()).toContain("Examples:");
    expect(f.stdout()).toContain("userPoolId");
  });

  it("describes every flag of a command", async () => {
    const f = fakeIo();
    expect(await run(["restore", "--help"], f.io)).toBe(0);
    for (const flag of [
      "--source",
      "--strategy",
      "--user",
      "--target-pool",
      "--plan-id",
      "--dry-run",
      "--yes",
      "--json",
    ]) {
      expect(f.stdout()).toContain(flag);
    }
  });

  it.each(["purge-unconfirmed", "snapshot", "restore", "reconcile", "erase", "status"])(
    "%s --help: every example that changes something names its target (--local or --outputs)",
    async (command) => {
      const f = fakeIo();
      expect(await run([command, "--help"], f.io)).toBe(0);
      const examples = f
        .stdout()
        .split("\n")
        .filter((line) => line.trim().startsWith("$ "));
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) {
        if (/--dry-run|^\s*\$ \S+ status/.test(example)) continue;
        expect(example).toMatch(/--local|--outputs/);
      }
    },
  );
});

describe("usage errors", () => {
  it("names an unknown flag and exits 2", async () => {
    const f = fakeIo();
    expect(await run(["status", "--bogus"], f.io)).toBe(2);
    expect(f.stderr()).toContain("--bogus");
  });

  it("names --min-age when its value is bad, and exits 2", async () => {
    const f = fakeIo();
    expect(await run(["purge-unconfirmed", "--min-age", "5 parsecs", "--dry-run"], f.io)).toBe(2);
    expect(f.stderr()).toContain("--min-age");
    expect(f.stdout()).toBe("");
  });

  it("names --max-share and --target on bad values", async () => {
    let f = fakeIo();
    expect(await run(["purge-unconfirmed", "--max-share", "2"], f.io)).toBe(2);
    expect(f.stderr()).toContain("--max-share");
    f = fakeIo();
    expect(await run(["purge-unconfirmed", "--target", "everyone"], f.io)).toBe(2);
    expect(f.stderr()).toContain("--target");
  });

  it("names --target-pool when the pool id is malformed", async () => {
    const w = world();
    const f = fakeIo();
    expect(await run(["restore", "--dry-run", "--target-pool", "not a pool"], f.io, w)).toBe(2);
    expect(f.stderr()).toContain("--target-pool");
  });

  it("erase without --username or --user-id is a usage error", async () => {
    const w = world();
    const f = fakeIo();
    expect(await run(["erase", "--dry-run"], f.io, w)).toBe(2);
    expect(f.stderr()).toMatch(/--username.*--user-id/);
  });

  it("no command at all is a usage error", async () => {
    expect(await run([], fakeIo().io)).toBe(2);
  });

  it("never takes a flag as a value: restore --user --dry-run --yes is refused and restores nothing", async () => {
    const w = world();
    const user = aUser({ username: "alice" });
    w.directory.seed(user, aUser());
    await snapshotUsers({ ...w }, { userPoolId: POOL });
    await w.directory.deleteUser(user.username);
    const writes = new Map(w.backups.writes);
    const f = fakeIo();
    expect(
      await run(["restore", "--user", "--dry-run", "--yes", "--strategy", "admin-create"], f.io, w),
    ).toBe(2);
    expect(f.stderr()).toMatch(/--user.*--dry-run/);
    expect(await w.directory.getUser(user.username)).toBeUndefined();
    expect(w.backups.writes).toEqual(writes);
  });

  it.each([
    ["restore", "--user", "alice", "--user", "--yes"],
    ["restore", "--source", "--yes"],
    ["restore", "--target-pool", "--yes"],
    ["restore", "--plan-id", "--yes"],
    ["restore", "--strategy", "--dry-run"],
    ["purge-unconfirmed", "--min-age", "--yes"],
    ["purge-unconfirmed", "--max-deletions", "--yes"],
    ["purge-unconfirmed", "--max-share", "--yes"],
    ["purge-unconfirmed", "--target", "--yes"],
    ["erase", "--username", "--yes"],
    ["erase", "--user-id", "--dry-run"],
    ["status", "--snapshots", "--json"],
    ["status", "--outputs", "--local"],
    ["status", "--region", "--json"],
    ["status", "--profile", "--json"],
  ])("a flag where a value belongs is a usage error: %s %s %s", async (...argv) => {
    const w = world();
    const seeded = aUser({ status: "UNCONFIRMED", createdAt: old });
    w.directory.seed(seeded, ...Array.from({ length: 30 }, () => aUser()));
    const before = w.directory.snapshot();
    const f = fakeIo();
    expect(await run(argv, f.io, w)).toBe(2);
    expect(f.stderr()).toMatch(/takes a value/);
    expect(w.directory.snapshot()).toEqual(before);
  });
});

describe("purge-unconfirmed", () => {
  it("--dry-run deletes nothing and reports what it would delete", async () => {
    const { w, expired } = withUnconfirmed();
    const f = fakeIo();
    expect(await run(["purge-unconfirmed", "--dry-run"], f.io, w)).toBe(0);
    expect(usernames(w)).toContain(expired.username);
    expect(w.accounts.all()).toHaveLength(41);
    expect(f.stdout()).toContain("would delete 1 of 1 eligible");
    expect(f.stdout()).not.toContain("someone@example.com");
  });

  it("refuses without --yes when no terminal is attached, and changes nothing", async () => {
    const { w, expired } = withUnconfirmed();
    const f = fakeIo({ tty: false });
    expect(await run(["purge-unconfirmed"], f.io, w)).toBe(2);
    expect(f.stderr()).toContain("--yes");
    expect(usernames(w)).toContain(expired.username);
    expect(w.accounts.all()).toHaveLength(41);
    expect(f.questions).toEqual([]);
  });

  it("proceeds with --yes", async () => {
    const { w, expired } = withUnconfirmed();
    const f = fakeIo();
    expect(await run(["purge-unconfirmed", "--yes"], f.io, w)).toBe(0);
    expect(usernames(w)).not.toContain(expired.username);
    expect(w.accounts.all()).toHaveLength(40);
  });

  it("asks on a terminal, and a 'no' changes nothing", async () => {
    const { w, expired } = withUnconfirmed();
    const f = fakeIo({ tty: true, answer: "n" });
    expect(await run(["purge-unconfirmed", "--target", "identities"], f.io, w)).toBe(1);
    expect(f.questions).toHaveLength(1);
    expect(usernames(w)).toContain(expired.username);
  });

  it("asks on a terminal, and a 'yes' deletes", async () => {
    const { w, expired } = withUnconfirmed();
    const f = fakeIo({ tty: true, answer: "yes" });
    expect(await run(["purge-unconfirmed", "--target", "identities"], f.io, w)).toBe(0);
    expect(usernames(w)).not.toContain(expired.username);
    expect(w.accounts.all()).toHaveLength(41);
  });

  it("labels the preview as a preview, naming who (masked); the run after the 'yes' deletes exactly them", async () => {
    const w = world();
    const previewed = aUser({ status: "UNCONFIRMED", createdAt: old, username: "first@example.com" });
    const confirmsMeanwhile = aUser({
      status: "UNCONFIRMED",
      createdAt: old,
      username: "second@example.com",
    });
    w.directory.seed(previewed, confirmsMeanwhile, ...Array.from({ length: 60 }, () => aUser()));
    const late = aUser({ status: "UNCONFIRMED", createdAt: old, username: "late@example.com" });
    const f = fakeIo({ tty: true, answer: "yes" });
    f.io.prompt = async () => {
      // While the operator reads the preview: one previewed user confirms, another becomes eligible.
      w.directory.seed({ ...confirmsMeanwhile, status: "CONFIRMED" }, late);
      return "yes";
    };
    expect(await run(["purge-unconfirmed", "--target", "identities"], f.io, w)).toBe(0);
    expect(f.stderr()).toContain("PREVIEW: nothing has been deleted yet");
    expect(f.stderr()).not.toContain("dry run");
    expect(f.stderr()).toMatch(/who: f\S*@\S*, s\S*@/);
    expect(f.stdout()).toMatch(/who \(deleted\): f\S*@\S*\n/);
    expect(`${f.stdout()}${f.stderr()}`).not.toMatch(/first@example\.com|second@example\.com/);
    expect(usernames(w)).not.toContain(previewed.username);
    // Spared: confirmed since the preview; never listed: not in the preview.
    expect(usernames(w)).toContain(confirmsMeanwhile.username);
    expect(usernames(w)).toContain(late.username);
  });

  it("the accounts preview names whom it deletes (masked, the oldest 20 and how many more); the run after the 'yes' keeps the preview's cutoff", async () => {
    const w = world();
    const hoursBefore = (hours: number) => new Date(Date.parse(NOW) - hours * 3_600_000);
    for (let i = 0; i < 25; i++) {
      w.accounts.insert({
        email: `old${i}@example.com`,
        confirmedAt: null,
        confirmationSentAt: hoursBefore(100 - i),
      });
    }
    // 20 hours old: too young now, expired under a cutoff taken 10 hours later.
    w.accounts.insert({ email: "young@example.org", confirmedAt: null, confirmationSentAt: hoursBefore(20) });
    for (let i = 0; i < 600; i++) {
      w.accounts.insert({ email: `ok${i}@example.com`, confirmedAt: old, confirmationSentAt: old });
    }
    const f = fakeIo({ tty: true });
    f.io.prompt = async () => {
      // The operator takes ten hours to answer.
      w.clock.advance(10 * 3_600_000);
      return "yes";
    };
    expect(await run(["purge-unconfirmed", "--target", "accounts"], f.io, w)).toBe(0);
    expect(f.stderr()).toContain("PREVIEW: nothing has been deleted yet");
    const who = f
      .stderr()
      .split("\n")
      .find((line) => line.includes("who:"));
    expect(who).toBe(`    who: ${Array.from({ length: 20 }, () => "o***@e***.com").join(", ")} and 5 more`);
    expect(f.stdout()).toContain("deleted 25 of 25 eligible");
    expect(f.stdout()).toContain(`cutoff ${new Date(Date.parse(NOW) - 24 * 3_600_000).toISOString()}`);
    const emails = w.accounts.all().map((row) => row.email);
    expect(emails).toContain("young@example.org");
    expect(emails.filter((email) => email.startsWith("old"))).toEqual([]);
    expect(`${f.stdout()}${f.stderr()}`).not.toMatch(/old\d+@example\.com|young@/);
  });

  it("a dry run of the accounts names them too, masked, in --json as in text", async () => {
    const { w } = withUnconfirmed();
    const f = fakeIo();
    expect(await run(["purge-unconfirmed", "--target", "accounts", "--dry-run", "--json"], f.io, w)).toBe(0);
    expect(JSON.parse(f.stdout()).results[0]).toMatchObject({ users: ["l***@e***.com"], more: 0 });
    expect(f.stdout()).not.toContain("late@example.com");
    const human = fakeIo();
    expect(await run(["purge-unconfirmed", "--target", "accounts", "--dry-run"], human.io, w)).toBe(0);
    expect(human.stdout()).toContain("    who: l***@e***.com\n");
    expect(w.accounts.all()).toHaveLength(41);
  });

  it("--json prints one parseable document and nothing else on stdout", async () => {
    const { w } = withUnconfirmed();
    const f = fakeIo();
    expect(await run(["purge-unconfirmed", "--dry-run", "--json", "--min-age", "2d"], f.io, w)).toBe(0);
    const document = JSON.parse(f.stdout());
    expect(document).toMatchObject({ command: "purge-unconfirmed", ok: true, dryRun: true });
    expect(document.policy.minAge).toBe("2d");
    expect(document.results.map((r: { target: string }) => r.target)).toEqual(["identities", "accounts"]);
  });

  it("exits 1 when the run is refused (too large a share of the pool)", async () => {
    const w = world();
    w.directory.seed(
      aUser({ status: "UNCONFIRMED", createdAt: old }),
      aUser({ status: "UNCONFIRMED", createdAt: old }),
      aUser(),
    );
    const f = fakeIo();
    expect(await run(["purge-unconfirmed", "--target", "identities", "--yes"], f.io, w)).toBe(1);
    expect(f.stdout()).toContain("REFUSED");
    expect(w.directory.snapshot()).toHaveLength(3);
  });
});

describe("snapshot and reconcile", () => {
  it("snapshot --dry-run writes nothing; snapshot writes one", async () => {
    const w = world();
    w.directory.seed(aUser(), aUser());
    let f = fakeIo();
    expect(await run(["snapshot", "--dry-run"], f.io, w)).toBe(0);
    expect(await w.backups.listSnapshots()).toEqual([]);
    expect(f.stdout()).toContain("would hold 2 users");
    f = fakeIo();
    expect(await run(["snapshot", "--json"], f.io, w)).toBe(0);
    expect(await w.backups.listSnapshots()).toHaveLength(1);
    expect(JSON.parse(f.stdout())).toMatchObject({ ok: true, users: 2, dryRun: false });
  });

  it("reconcile --dry-run reports without writing; reconcile repairs", async () => {
    const w = world();
    const user = aUser();
    // A user with a profile but no backup (nor digest): a dry run records no digest for it either.
    const profiled = aUser();
    w.directory.seed(user, profiled);
    await w.profiles.createIfAbsent({
      id: profiled.sub,
      username: profiled.username,
      createdAt: new Date(0),
    });
    let f = fakeIo();
    expect(await run(["reconcile", "--dry-run", "--json"], f.io, w)).toBe(0);
    expect(JSON.parse(f.stdout())).toMatchObject({ profilesCreated: 1, backupsWritten: 2 });
    expect(await w.profiles.get(user.sub)).toBeUndefined();
    expect(await w.backups.getUserBackup(user.sub)).toBeUndefined();
    expect(await w.profiles.get(profiled.sub)).toEqual({
      id: profiled.sub,
      username: profiled.username,
      createdAt: new Date(0),
    });
    f = fakeIo();
    expect(await run(["reconcile"], f.io, w)).toBe(0);
    expect(await w.profiles.get(user.sub)).toBeDefined();
    expect(await w.backups.getUserBackup(user.sub)).toBeDefined();
  });
});

describe("restore", () => {
  async function lostUser() {
    const w = world();
    const user = aUser({ groups: ["admins"] });
    w.directory.seed(user, aUser());
    await snapshotUsers({ ...w }, { userPoolId: POOL });
    await w.directory.deleteUser(user.username);
    return { w, user };
  }

  it("--dry-run shows the plan and changes nothing", async () => {
    const { w, user } = await lostUser();
    const f = fakeIo();
    expect(await run(["restore", "--dry-run", "--json"], f.io, w)).toBe(0);
    expect(JSON.parse(f.stdout())).toMatchObject({ action: "plan", planned: 1, existing: 1 });
    expect(await w.directory.getUser(user.username)).toBeUndefined();
  });

  it("refuses without --yes and no terminal", async () => {
    const { w, user } = await lostUser();
    const f = fakeIo();
    expect(await run(["restore", "--strategy", "admin-create"], f.io, w)).toBe(2);
    expect(await w.directory.getUser(user.username)).toBeUndefined();
  });

  it("restores with --yes", async () => {
    const { w, user } = await lostUser();
    const f = fakeIo();
    const code = await run(
      ["restore", "--strategy", "admin-create", "--user", user.username, "--yes"],
      f.io,
      w,
    );
    expect(code).toBe(0);
    const back = await w.directory.getUser(user.username, { includeGroups: true });
    expect(back?.groups).toEqual(["admins"]);
    expect(f.stdout()).toContain("restored: 1");
    expect(f.stdout()).not.toContain(user.username);
  });

  it("--plan-id --dry-run shows where a started restore is and changes nothing", async () => {
    const { w, user } = await lostUser();
    const started = await startRestore(
      { ...w, importer: w.directory, sleeper: w.clock },
      { strategy: "admin-create" },
    );
    const planId = started.stored.plan.planId;
    const writes = new Map(w.backups.writes);
    const f = fakeIo();
    expect(await run(["restore", "--plan-id", planId, "--dry-run", "--json"], f.io, w)).toBe(0);
    expect(JSON.parse(f.stdout())).toMatchObject({
      action: "status",
      planId,
      state: "running",
      progress: { chunks: 1, chunksDone: 0 },
    });
    expect(w.backups.writes).toEqual(writes);
    expect(await w.directory.getUser(user.username)).toBeUndefined();
  });

  it("--plan-id carries a started restore on to the end", async () => {
    const { w, user } = await lostUser();
    const started = await startRestore(
      { ...w, importer: w.directory, sleeper: w.clock },
      { strategy: "admin-create" },
    );
    const f = fakeIo();
    expect(await run(["restore", "--plan-id", started.stored.plan.planId, "--yes"], f.io, w)).toBe(0);
    expect(f.stdout()).toContain("restored: 1");
    expect(f.stdout()).toContain("complete.");
    expect((await w.directory.getUser(user.username, { includeGroups: true }))?.groups).toEqual(["admins"]);
  });

  it("refuses --plan-id with plan flags, and an unknown plan id", async () => {
    const { w } = await lostUser();
    let f = fakeIo();
    expect(await run(["restore", "--plan-id", "restore-x", "--strategy", "admin-create"], f.io, w)).toBe(2);
    expect(f.stderr()).toContain("--plan-id");
    f = fakeIo();
    expect(await run(["restore", "--plan-id", "../x", "--dry-run"], f.io, w)).toBe(2);
    expect(f.stderr()).toContain("--plan-id");
    f = fakeIo();
    expect(await run(["restore", "--plan-id", "restore-nope", "--dry-run"], f.io, w)).toBe(1);
    expect(f.stderr()).toContain("RESTORE.NOT_FOUND");
  });
});

describe("restore: interrupted, then run again", () => {
  /** Six users backed up (groups, disabled ones), all lost; the pool's group additions fail while `down`. */
  async function lostPool(clock?: ManualClock) {
    const w = world(clock);
    const users = [
      aUser({ groups: ["admins", "staff"] }),
      aUser({ enabled: false, groups: ["staff"] }),
      aUser({ enabled: false }),
      ...Array.from({ length: 3 }, () => aUser({ groups: ["staff"] })),
    ];
    w.directory.seed(...users, aUser());
    await snapshotUsers({ ...w }, { userPoolId: POOL });
    for (const user of users) await w.directory.deleteUser(user.username);
    const outage = { down: false };
    const addUserToGroup = w.directory.addUserToGroup.bind(w.directory);
    w.directory.addUserToGroup = async (username, group) => {
      if (outage.down) throw Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError" });
      return addUserToGroup(username, group);
    };
    return { w, users, outage };
  }

  function expectPoolAsBackedUp(w: ReturnType<typeof world>, users: readonly User[]): void {
    const pool = new Map(w.directory.snapshot().map((u) => [u.username, u]));
    for (const user of users) {
      expect(pool.get(user.username)?.groups).toEqual(user.groups);
      expect(pool.get(user.username)?.enabled).toBe(user.enabled);
    }
  }

  it("names the plan id when it is stored and when the run fails; the same command then carries it on to complete", async () => {
    const { w, users, outage } = await lostPool();
    const argv = ["restore", "--strategy", "admin-create", "--yes", "--json"];
    outage.down = true;
    let f = fakeIo();
    expect(await run(argv, f.io, w)).toBe(1);
    const planId = /restore (restore-\S+): plan stored/.exec(f.stderr())?.[1];
    expect(planId).toBeDefined();
    expect(f.stderr()).toContain(`restore ${planId} stopped (TimeoutError)`);
    expect(f.stderr()).toContain(`--plan-id ${planId}`);

    // Today's failure: a new plan found every user "already in the pool" and said complete.
    outage.down = false;
    f = fakeIo();
    expect(await run(argv, f.io, w)).toBe(0);
    expect(f.stderr()).toContain(`restore ${planId} of the same request is unfinished: carrying it on`);
    const report = JSON.parse(f.stdout());
    expect(report).toMatchObject({
      planId,
      complete: true,
      restored: users.length,
      memberships: { planned: 6, inPlace: 6 },
      disabledFlags: { planned: 2, inPlace: 2 },
    });
    expectPoolAsBackedUp(w, users);
  });

  it("status lists an unfinished restore with how to carry it on", async () => {
    const { w, outage } = await lostPool();
    outage.down = true;
    expect(await run(["restore", "--strategy", "admin-create", "--yes"], fakeIo().io, w)).toBe(1);
    const f = fakeIo();
    await run(["status"], f.io, w);
    expect(f.stdout()).toMatch(
      /unfinished restores: 1\n\s+(restore-\S+)\s+6 users \(admin-create\).*restore --plan-id restore-/,
    );
    outage.down = false;
    expect(await run(["restore", "--strategy", "admin-create", "--yes"], fakeIo().io, w)).toBe(0);
    const after = fakeIo();
    await run(["status"], after.io, w);
    expect(after.stdout()).toContain("unfinished restores: none");
  });

  it("shows progress between steps as done / total with an estimate of the time left", async () => {
    // Every look at the clock takes 40 s: each step the CLI runs (60 s) ends after one piece of work.
    const { w, users } = await lostPool(new SteppingClock(NOW, 40_000));
    const f = fakeIo();
    expect(await run(["restore", "--strategy", "admin-create", "--yes"], f.io, w)).toBe(0);
    const lines = f
      .stderr()
      .split("\n")
      .filter((line) => line.includes(" done (users brought back"));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toMatch(new RegExp(`\\d+/${2 * users.length} done`));
    expect(lines.at(-1)).toMatch(/about \d+[smh]\S* left/);
  });
});

describe("erase", () => {
  async function recordedUser() {
    const w = world();
    const user = aUser();
    w.directory.seed(user, aUser());
    await run(["reconcile"], fakeIo().io, w);
    await snapshotUsers({ ...w }, { userPoolId: POOL });
    return { w, user };
  }

  it("--dry-run shows where the user is and changes nothing", async () => {
    const { w, user } = await recordedUser();
    const f = fakeIo();
    expect(await run(["erase", "--username", user.username, "--dry-run", "--json"], f.io, w)).toBe(0);
    expect(JSON.parse(f.stdout()).preview).toMatchObject({
      inPool: true,
      profile: true,
      backup: true,
      snapshots: 1,
      snapshotRecords: 1,
      maskedEmail: "u***@e***.com",
      alreadyErased: false,
    });
    expect(f.stdout()).not.toContain(user.attributes.email);
    const human = fakeIo();
    expect(await run(["erase", "--username", user.username, "--dry-run"], human.io, w)).toBe(0);
    expect(human.stdout()).toContain("email: u***@e***.com");
    expect(human.stdout()).toContain("snapshot records: 1 in 1 snapshot(s), complete or not");
    expect(human.stdout()).toContain("records a tombstone first");
    expect(await w.erasures.erasedIds()).toEqual(new Set());
    expect(await w.directory.getUser(user.username)).toBeDefined();
    expect(await w.profiles.get(user.sub)).toBeDefined();
  });

  it("refuses without --yes and no terminal, then erases with --yes", async () => {
    const { w, user } = await recordedUser();
    let f = fakeIo();
    expect(await run(["erase", "--username", user.username], f.io, w)).toBe(2);
    expect(await w.directory.getUser(user.username)).toBeDefined();
    f = fakeIo();
    expect(await run(["erase", "--username", user.username, "--yes"], f.io, w)).toBe(0);
    expect(await w.directory.getUser(user.username)).toBeUndefined();
    expect(await w.profiles.get(user.sub)).toBeUndefined();
    expect(await w.backups.getUserBackup(user.sub)).toBeUndefined();
    expect(f.stdout()).toContain("snapshot records removed: 1 (1 parts of 1 snapshots rewritten)");
    expect(f.stdout()).toContain("complete.");
    expect(await w.erasures.isErased(user.sub)).toBe(true);
    expect(f.stdout()).not.toContain(user.username);
  });

  it("fails (exit 1) naming the problem for an unknown username", async () => {
    const w = world();
    const f = fakeIo();
    expect(await run(["erase", "--username", "nobody", "--yes"], f.io, w)).toBe(1);
    expect(f.stderr()).toContain("USER.NOT_FOUND");
  });
});

describe("erase and the application's accounts table", () => {
  async function withAccountRow(options: { accountsDatabase?: boolean } = {}) {
    const w = world(new ManualClock(NOW), options);
    const user = aUser();
    w.directory.seed(user, aUser());
    await run(["reconcile"], fakeIo().io, w);
    const email = user.attributes.email as string;
    w.accounts.insert({ email, confirmedAt: old, confirmationSentAt: old });
    w.accounts.insert({ email: email.toUpperCase(), confirmedAt: old, confirmationSentAt: old });
    w.accounts.insert({ email: "bystander@example.com", confirmedAt: old, confirmationSentAt: old });
    const emails = () => w.accounts.all().map((row) => row.email);
    return { w, user, email, emails };
  }

  it("the preview shows the person's rows, masked, and a dry run deletes nothing, even with --delete-account-row", async () => {
    const { w, user, email, emails } = await withAccountRow();
    const f = fakeIo();
    expect(await run(["erase", "--username", user.username, "--dry-run"], f.io, w)).toBe(0);
    expect(f.stdout()).toContain(
      "accounts table (the application's): 2 rows with their email: will be kept (--delete-account-row deletes them)",
    );
    const json = fakeIo();
    const argv = ["erase", "--username", user.username, "--delete-account-row", "--dry-run", "--json"];
    expect(await run(argv, json.io, w)).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({
      deleteAccountRow: true,
      preview: { accountRow: { status: "present", rows: 2 } },
    });
    const human = fakeIo();
    expect(await run(argv.slice(0, -1), human.io, w)).toBe(0);
    expect(human.stdout()).toContain("2 rows with their email: will be deleted");
    expect(emails()).toHaveLength(3);
    expect(await w.directory.getUser(user.username)).toBeDefined();
    for (const out of [f, json, human]) expect(out.stdout() + out.stderr()).not.toContain(email);
  });

  it("without --delete-account-row erases the rest and says the rows are still there, keeping them", async () => {
    const { w, user, email, emails } = await withAccountRow();
    const f = fakeIo();
    expect(await run(["erase", "--username", user.username, "--yes"], f.io, w)).toBe(0);
    expect(f.stdout()).toContain(
      "2 rows with their email: STILL THERE, kept (--delete-account-row deletes them)",
    );
    expect(f.stdout()).toContain("complete.");
    expect(await w.directory.getUser(user.username)).toBeUndefined();
    expect(emails()).toEqual([email, email.toUpperCase(), "bystander@example.com"]);
  });

  it("with --delete-account-row deletes the person's rows (any case), and only theirs", async () => {
    const { w, user, emails } = await withAccountRow();
    const f = fakeIo();
    const argv = ["erase", "--username", user.username, "--delete-account-row", "--yes", "--json"];
    expect(await run(argv, f.io, w)).toBe(0);
    expect(JSON.parse(f.stdout())).toMatchObject({
      ok: true,
      deletedFromPool: true,
      accountRow: { status: "deleted", rows: 2 },
      complete: true,
    });
    expect(emails()).toEqual(["bystander@example.com"]);
  });

  it("refuses --delete-account-row when the target names no accounts database, changing nothing (exit 2)", async () => {
    const { w, user } = await withAccountRow({ accountsDatabase: false });
    const f = fakeIo();
    expect(await run(["erase", "--username", user.username, "--delete-account-row", "--yes"], f.io, w)).toBe(
      2,
    );
    expect(f.stderr()).toContain("--delete-account-row needs the accounts database");
    expect(f.stderr()).toContain("ACCOUNTS_DB_HOST");
    expect(await w.directory.getUser(user.username)).toBeDefined();
    expect(await w.erasures.isErased(user.sub)).toBe(false);
    // Without the flag the erase goes on and says the table was not checked.
    const plain = fakeIo();
    expect(await run(["erase", "--username", user.username, "--yes"], plain.io, w)).toBe(0);
    expect(plain.stdout()).toContain("NOT CHECKED — no access to the accounts database from here");
    expect(plain.stderr()).toContain("the accounts table will not be checked");
  });

  it("with the database down erases the rest; asked to delete the row, it says INCOMPLETE (exit 1)", async () => {
    for (const [flags, exit] of [[[], 0] as const, [["--delete-account-row"], 1] as const]) {
      const { w, user, emails } = await withAccountRow();
      w.accounts.outage.begin(new LifecycleError("SERVICE.UNREACHABLE", "unreachable"));
      const f = fakeIo();
      expect(await run(["erase", "--username", user.username, ...flags, "--yes"], f.io, w)).toBe(exit);
      expect(f.stdout()).toContain("NOT CHECKED — the accounts database failed (SERVICE.UNREACHABLE)");
      expect(await w.directory.getUser(user.username)).toBeUndefined();
      expect(await w.profiles.get(user.sub)).toBeUndefined();
      if (exit === 1)
        expect(f.stdout()).toContain("INCOMPLETE: their rows in the accounts table were not checked");
      else expect(f.stdout()).toContain("complete.");
      w.accounts.outage.end();
      expect(emails()).toHaveLength(3);
    }
  });

  it("takes --delete-account-row as a flag only: a value is a usage error", async () => {
    const { w, user, emails } = await withAccountRow();
    const f = fakeIo();
    const argv = ["erase", "--username", user.username, "--delete-account-row=yes", "--yes"];
    expect(await run(argv, f.io, w)).toBe(2);
    expect(await w.directory.getUser(user.username)).toBeDefined();
    expect(emails()).toHaveLength(3);
  });

  it("is described in the command's help", async () => {
    const f = fakeIo();
    expect(await run(["erase", "--help"], f.io)).toBe(0);
    expect(f.stdout()).toContain("--delete-account-row");
    expect(f.stdout()).toContain("erase --local --username alice --delete-account-row --yes");
  });
});

describe("status", () => {
  it("shows the pool, the snapshots and the accounts table", async () => {
    const { w } = withUnconfirmed();
    await snapshotUsers({ ...w }, { userPoolId: POOL });
    w.clock.advance(3 * 60 * 60_000);
    const f = fakeIo();
    expect(await run(["status"], f.io, w)).toBe(0);
    expect(f.stdout()).toContain(`pool ${POOL}: about 41 users`);
    expect(f.stdout()).toContain("snapshots: 1, newest 3h old");
    expect(f.stdout()).toContain("accounts table: 41 rows, 1 unconfirmed");
  });

  it("--json gives the same as one document", async () => {
    const w = world();
    const f = fakeIo();
    expect(await run(["status", "--json"], f.io, w)).toBe(0);
    const document = JSON.parse(f.stdout());
    expect(document.pool).toEqual({ ok: true, value: { userPoolId: POOL, estimatedUsers: 0 } });
    expect(document.snapshots.value.count).toBe(0);
  });
});

describe("targets", () => {
  it("--local with a missing stack file names the file and how to fix it", async () => {
    const w = world();
    const f = fakeIo();
    expect(await run(["status", "--local"], f.io, w)).toBe(1);
    expect(f.stderr()).toContain(".local/stack.json");
    expect(f.stderr()).toContain("start the local stack");
    expect(w.environments).toEqual([]);
  });

  it("--local passes the file's env to the adapters", async () => {
    const w = world();
    const cwd = mkdtempSync(join(tmpdir(), "cli-"));
    mkdirSync(join(cwd, ".local"));
    const env = { AWS_REGION: "us-east-1", USER_POOL_ID: POOL };
    writeFileSync(join(cwd, ".local", "stack.json"), JSON.stringify({ region: "us-east-1", env }));
    expect(await run(["status", "--local"], fakeIo({ cwd }).io, w)).toBe(0);
    expect(w.environments).toEqual([env]);
  });

  it("--outputs maps the stack outputs to the environment; --region and --profile apply", async () => {
    const w = world();
    const cwd = mkdtempSync(join(tmpdir(), "cli-"));
    writeFileSync(join(cwd, "prod.json"), JSON.stringify({ userPoolId: POOL, backupBucket: "b" }));
    const f = fakeIo({ cwd });
    expect(
      await run(["status", "--outputs", "prod.json", "--region", "eu-west-1", "--profile", "ops"], f.io, w),
    ).toBe(0);
    expect(w.environments[0]).toMatchObject({
      USER_POOL_ID: POOL,
      BACKUP_BUCKET: "b",
      AWS_REGION: "eu-west-1",
      AWS_PROFILE: "ops",
    });
    expect(f.io.env.AWS_PROFILE).toBe("ops");
  });

  it("a variable missing from --outputs is named with the key to add", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "cli-"));
    writeFileSync(join(cwd, "prod.json"), JSON.stringify({ region: "eu-west-1" }));
    const f = fakeIo({ cwd });
    expect(await run(["snapshot", "--outputs", "prod.json", "--json"], f.io)).toBe(1);
    expect(f.stderr()).toContain("USER_POOL_ID");
    expect(f.stderr()).toContain('no key "userPoolId"');
    expect(JSON.parse(f.stdout())).toMatchObject({ ok: false, error: { code: "CONFIG.INVALID" } });
  });

  it("a missing --outputs file is named", async () => {
    const f = fakeIo();
    expect(await run(["status", "--outputs", "nope.json"], f.io, world())).toBe(1);
    expect(f.stderr()).toContain("nope.json");
    expect(f.stderr()).toContain("pulumi stack output --json");
  });
});
