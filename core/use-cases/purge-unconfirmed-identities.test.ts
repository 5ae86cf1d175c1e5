import { describe, expect, it } from "vitest";
import { ManualClock, SteppingClock } from "../../adapters/in-memory/clock.js";
import { InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { DEFAULT_PURGE_POLICY, type PurgePolicy } from "../purge/index.js";
import { aUser } from "../testing/builders.js";
import type { User } from "../user/user.js";
import { purgeUnconfirmedIdentities } from "./purge-unconfirmed-identities.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const policy = (overrides: Partial<PurgePolicy> = {}): PurgePolicy => ({
  ...DEFAULT_PURGE_POLICY,
  maxShareOfPool: 1,
  ...overrides,
});

function expired(n: number): User[] {
  return Array.from({ length: n }, () => aUser({ status: "UNCONFIRMED", createdAt: hoursAgo(48) }));
}

describe("purgeUnconfirmedIdentities", () => {
  it("deletes only users unconfirmed for longer than the minimum age", async () => {
    const clock = new ManualClock(NOW);
    const old = expired(2);
    const young = aUser({ status: "UNCONFIRMED", createdAt: hoursAgo(23) });
    const confirmed = aUser({ status: "CONFIRMED", createdAt: hoursAgo(100) });
    const directory = new InMemoryUserDirectory({ clock }).seed(...old, young, confirmed);

    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy() });

    expect(report).toMatchObject({ target: "identities", deleted: 2, failed: 0, stoppedBy: "completed" });
    expect(report.skippedByReason).toMatchObject({ TOO_YOUNG: 1 });
    expect(
      directory
        .snapshot()
        .map((u) => u.username)
        .sort(),
    ).toEqual([young.username, confirmed.username].sort());
  });

  it("collects every page before deleting, so deletions cannot break pagination", async () => {
    const clock = new ManualClock(NOW);
    const directory = new InMemoryUserDirectory({ clock, maxPageSize: 7 }).seed(...expired(150));
    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy() });
    expect(report.deleted).toBe(150);
    expect(directory.snapshot()).toEqual([]);
  });

  it("spares a user who confirmed between the listing and the deletion", async () => {
    const clock = new ManualClock(NOW);
    const [late, other] = expired(2) as [User, User];
    const directory = new InMemoryUserDirectory({ clock }).seed(late, other);
    const getUser = directory.getUser.bind(directory);
    directory.getUser = async (username, options) => {
      if (username === late.username) directory.seed({ ...late, status: "CONFIRMED" });
      return getUser(username, options);
    };
    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy() });
    expect(report.deleted).toBe(1);
    expect(report.skippedByReason).toMatchObject({ NO_LONGER_ELIGIBLE: 1 });
    expect(directory.snapshot().map((u) => u.username)).toEqual([late.username]);
  });

  it("refuses the whole run when the candidates exceed the allowed share of the pool", async () => {
    const clock = new ManualClock(NOW);
    const confirmed = Array.from({ length: 10 }, () => aUser());
    const directory = new InMemoryUserDirectory({ clock }).seed(...expired(5), ...confirmed);
    const report = await purgeUnconfirmedIdentities(
      { directory, clock },
      { policy: policy({ maxShareOfPool: 0.2 }) },
    );
    expect(report.stoppedBy).toBe("refused");
    expect(report.refused).toMatch(/maxShareOfPool/);
    expect(report.deleted).toBe(0);
    expect(directory.snapshot()).toHaveLength(15);
    expect(directory.calls.get("AdminDeleteUser")).toBeUndefined();
  });

  it("changes nothing in a dry run, and reports what it would delete", async () => {
    const clock = new ManualClock(NOW);
    const directory = new InMemoryUserDirectory({ clock }).seed(...expired(3));
    const report = await purgeUnconfirmedIdentities(
      { directory, clock },
      { policy: policy({ dryRun: true }) },
    );
    expect(report).toMatchObject({ dryRun: true, eligible: 3, deleted: 0, stoppedBy: "dry-run" });
    expect(directory.snapshot()).toHaveLength(3);
  });

  it("defers what is beyond the per-run cap to the next run", async () => {
    const clock = new ManualClock(NOW);
    const directory = new InMemoryUserDirectory({ clock }).seed(...expired(5));
    const report = await purgeUnconfirmedIdentities(
      { directory, clock },
      { policy: policy({ maxDeletionsPerRun: 3 }) },
    );
    expect(report).toMatchObject({ deleted: 3, deferred: 2 });
  });

  it("stops starting deletions at the deadline and reports the rest as deferred", async () => {
    const clock = new SteppingClock(NOW, 1_000);
    const directory = new InMemoryUserDirectory({ clock }).seed(...expired(20));
    const deadline = new Date(NOW.getTime() + 10_000);
    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy(), deadline });
    expect(report.stoppedBy).toBe("time-budget");
    expect(report.deleted).toBeGreaterThan(0);
    expect(report.deleted + report.deferred).toBe(20);
  });

  it("counts a failed deletion by its code and goes on with the others", async () => {
    const clock = new ManualClock(NOW);
    // Each fenced deletion makes two UserUpdate calls (disable, delete): 4 per second let two through.
    const directory = new InMemoryUserDirectory({ clock, rateLimits: { UserUpdate: 4 } }).seed(...expired(4));
    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy() });
    expect(report.deleted).toBe(2);
    expect(report.failed).toBe(2);
    expect(report.failureCodes).toEqual({ "DIRECTORY.THROTTLED": 2 });
    expect(JSON.stringify(report)).not.toMatch(/@example\.com/);
    // The two that failed were never disabled: nobody is left locked out.
    expect(directory.snapshot().every((u) => u.enabled)).toBe(true);
  });

  it("enables a user again when the fence fails after disabling it, and counts the failure", async () => {
    const clock = new ManualClock(NOW);
    const [user] = expired(1) as [User];
    const directory = new InMemoryUserDirectory({ clock }).seed(user, aUser());
    const deleteUser = directory.deleteUser.bind(directory);
    directory.deleteUser = async () => {
      throw Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
    };
    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy() });
    expect(report).toMatchObject({ deleted: 0, failed: 1 });
    expect(directory.snapshot().find((u) => u.username === user.username)?.enabled).toBe(true);
    directory.deleteUser = deleteUser;
  });

  it("reports a user the fence could not enable again, by code", async () => {
    const clock = new ManualClock(NOW);
    const [user] = expired(1) as [User];
    const directory = new InMemoryUserDirectory({ clock }).seed(user, aUser());
    const broken = async () => {
      throw Object.assign(new Error("unreachable"), { name: "TimeoutError" });
    };
    directory.deleteUser = broken;
    directory.enableUser = broken;
    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy() });
    expect(report.failureCodes).toMatchObject({ "PURGE.FENCE_LEFT_DISABLED": 1 });
  });

  it("leaves a user an operator disabled as it was when it turns out confirmed", async () => {
    const clock = new ManualClock(NOW);
    const [user] = expired(1) as [User];
    const directory = new InMemoryUserDirectory({ clock }).seed({ ...user, enabled: false }, aUser());
    const getUser = directory.getUser.bind(directory);
    let reads = 0;
    directory.getUser = async (username, options) => {
      reads += 1;
      if (reads === 2) directory.seed({ ...user, enabled: false, status: "CONFIRMED" });
      return getUser(username, options);
    };
    const report = await purgeUnconfirmedIdentities({ directory, clock }, { policy: policy() });
    expect(report.skippedByReason).toMatchObject({ CONFIRMED_DURING_PURGE: 1 });
    expect(directory.snapshot().find((u) => u.username === user.username)?.enabled).toBe(false);
    expect(directory.calls.get("AdminEnableUser")).toBeUndefined();
  });
});
