import { describe, expect, it } from "vitest";
import { InMemoryAccountStore } from "../../adapters/in-memory/account-store.js";
import type { AccountKeyRange, AccountStore } from "../ports/account-store.js";
import { ManualClock, SteppingClock } from "../../adapters/in-memory/clock.js";
import { DEFAULT_PURGE_POLICY, type PurgePolicy } from "../purge/index.js";
import { anAccountPlan } from "../testing/purge.js";
import {
  chooseAccountPurgeWalk,
  KEY_RANGE_MIN_SHARE,
  nameAccountPurge,
  purgeUnconfirmedAccounts,
} from "./purge-unconfirmed-accounts.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const policy = (overrides: Partial<PurgePolicy> = {}): PurgePolicy => ({
  ...DEFAULT_PURGE_POLICY,
  maxShareOfPool: 1,
  maxDeletionsPerRun: 100_000,
  ...overrides,
});

/** `inner` with some of its methods replaced. */
function storeLike(inner: AccountStore, overrides: Partial<AccountStore>): AccountStore {
  return {
    countAll: () => inner.countAll(),
    countExpiredUnconfirmed: (cutoff, since) => inner.countExpiredUnconfirmed(cutoff, since),
    newestUnconfirmedSentAt: (notAfter) => inner.newestUnconfirmedSentAt(notAfter),
    keyBounds: () => inner.keyBounds(),
    oldestExpiredUnconfirmedEmails: (cutoff, limit) => inner.oldestExpiredUnconfirmedEmails(cutoff, limit),
    deleteExpiredUnconfirmed: (cutoff, limit, keys) => inner.deleteExpiredUnconfirmed(cutoff, limit, keys),
    ...overrides,
  };
}

function table(expired: number, fresh = 0, confirmed = 0): InMemoryAccountStore {
  const store = new InMemoryAccountStore();
  for (let i = 0; i < expired; i++) {
    store.insert({
      email: `old${i}@example.com`,
      confirmedAt: null,
      confirmationSentAt: hoursAgo(30 + i / 100),
    });
  }
  for (let i = 0; i < fresh; i++) {
    store.insert({ email: `new${i}@example.com`, confirmedAt: null, confirmationSentAt: hoursAgo(2) });
  }
  for (let i = 0; i < confirmed; i++) {
    store.insert({
      email: `ok${i}@example.com`,
      confirmedAt: hoursAgo(40),
      confirmationSentAt: hoursAgo(50),
    });
  }
  return store;
}

describe("purgeUnconfirmedAccounts", () => {
  it("deletes expired unconfirmed rows oldest first, in batches, and nothing else", async () => {
    // 1,200 expired of 10,212 rows: under the key-range share, so through the purge index.
    const accounts = table(1_200, 5, 9_007);
    const clock = new ManualClock(NOW);
    const given: (AccountKeyRange | undefined)[] = [];
    accounts.afterDelete = (keys) => given.push(keys);
    const report = await purgeUnconfirmedAccounts({ accounts, clock }, { policy: policy(), batchSize: 500 });
    expect(report).toMatchObject({ target: "accounts", deleted: 1_200, failed: 0, stoppedBy: "completed" });
    expect(accounts.deleteStatements).toBe(3);
    expect(given).toEqual([undefined, undefined, undefined]);
    expect(accounts.all()).toHaveLength(9_012);
  });

  it("never deletes a row confirmed while the purge runs", async () => {
    const accounts = table(3);
    const [first] = accounts.all();
    accounts.beforeDelete = () => accounts.confirm(first?.id ?? 0, NOW);
    const report = await purgeUnconfirmedAccounts(
      { accounts, clock: new ManualClock(NOW) },
      { policy: policy() },
    );
    expect(report.deleted).toBe(2);
    expect(accounts.all().map((r) => r.id)).toEqual([first?.id]);
  });

  it("runs its counts one after the other, never side by side", async () => {
    const accounts = table(10, 0, 190);
    let inFlight = 0;
    let most = 0;
    const counted =
      <T>(call: () => Promise<T>) =>
      async (): Promise<T> => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        try {
          return await call();
        } finally {
          inFlight -= 1;
        }
      };
    const store = storeLike(accounts, {
      countAll: counted(() => accounts.countAll()),
      countExpiredUnconfirmed: (cutoff, since) =>
        counted(() => accounts.countExpiredUnconfirmed(cutoff, since))(),
      newestUnconfirmedSentAt: (notAfter) => counted(() => accounts.newestUnconfirmedSentAt(notAfter))(),
    });
    const report = await purgeUnconfirmedAccounts(
      { accounts: store, clock: new ManualClock(NOW) },
      { policy: policy({ maxShareOfPool: 0.05 }) },
    );
    expect(most).toBe(1);
    expect(report).toMatchObject({ eligible: 10, deleted: 10 });
  });

  it("stops at the per-run cap", async () => {
    const accounts = table(50);
    const report = await purgeUnconfirmedAccounts(
      { accounts, clock: new ManualClock(NOW) },
      { policy: policy({ maxDeletionsPerRun: 20 }), batchSize: 7 },
    );
    expect(report).toMatchObject({ deleted: 20, deferred: 30 });
    expect(accounts.all()).toHaveLength(30);
  });

  it("refuses when expired rows exceed the allowed share of the table", async () => {
    const accounts = table(10, 0, 10);
    const report = await purgeUnconfirmedAccounts(
      { accounts, clock: new ManualClock(NOW) },
      { policy: policy({ maxShareOfPool: 0.1 }) },
    );
    expect(report.stoppedBy).toBe("refused");
    expect(accounts.deleteStatements).toBe(0);
  });

  it("deletes nothing in a dry run", async () => {
    const accounts = table(10);
    const report = await purgeUnconfirmedAccounts(
      { accounts, clock: new ManualClock(NOW) },
      { policy: policy({ dryRun: true }) },
    );
    expect(report).toMatchObject({ stoppedBy: "dry-run", eligible: 10, deleted: 0 });
    expect(accounts.all()).toHaveLength(10);
  });

  it("stops at the deadline between batches", async () => {
    const accounts = table(100);
    const clock = new SteppingClock(NOW, 1_000);
    const report = await purgeUnconfirmedAccounts(
      { accounts, clock },
      { policy: policy(), batchSize: 10, deadline: new Date(NOW.getTime() + 4_000) },
    );
    expect(report.stoppedBy).toBe("time-budget");
    expect(report.deleted).toBeLessThan(100);
    expect(report.deleted + report.deferred).toBe(100);
  });

  it("stops at a failing batch and reports it, keeping what was deleted before", async () => {
    const accounts = table(30);
    let statements = 0;
    accounts.beforeDelete = () => {
      statements += 1;
      if (statements === 2) accounts.outage.begin();
    };
    const report = await purgeUnconfirmedAccounts(
      { accounts, clock: new ManualClock(NOW) },
      { policy: policy(), batchSize: 10 },
    );
    expect(report).toMatchObject({ deleted: 10, failed: 1, failureCodes: { ECONNREFUSED: 1 } });
    expect(accounts.all()).toHaveLength(20);
  });

  it("fails outright when the table cannot even be counted", async () => {
    const accounts = table(10);
    accounts.outage.begin();
    const run = purgeUnconfirmedAccounts({ accounts, clock: new ManualClock(NOW) }, { policy: policy() });
    await expect(run).rejects.toThrow(/ECONNREFUSED/);
  });

  describe("a mass purge: the table walked by primary key", () => {
    /** Expired rows with confirmed and fresh ones between them, as a table filled over time would have. */
    function mixedTable(rows: number): InMemoryAccountStore {
      const store = new InMemoryAccountStore();
      for (let i = 0; i < rows; i++) {
        const kind = i % 4;
        store.insert({
          email: `user${i}@example.com`,
          confirmedAt: kind === 1 ? hoursAgo(40) : null,
          confirmationSentAt: kind === 2 ? hoursAgo(2) : hoursAgo(30 + (rows - i) / 1_000),
        });
      }
      return store;
    }

    it("deletes every expired row and only those, walking the keys from the first to the last without a gap", async () => {
      const accounts = mixedTable(10_000); // 5,000 expired, 2,500 confirmed, 2,500 too young
      const given: AccountKeyRange[] = [];
      accounts.afterDelete = (keys) => {
        if (keys) given.push(keys);
      };
      const report = await purgeUnconfirmedAccounts(
        { accounts, clock: new ManualClock(NOW) },
        { policy: policy(), batchSize: 100 },
      );
      expect(report).toMatchObject({ deleted: 5_000, failed: 0, stoppedBy: "completed" });
      expect(accounts.all()).toHaveLength(5_000);
      expect(
        accounts.all().every((row) => row.confirmedAt !== null || row.confirmationSentAt! > hoursAgo(24)),
      ).toBe(true);
      // Every stretch once, except one whose statement stopped at its LIMIT (the lanes' reservations of rows near
      // the end), which is walked again.
      const distinct = new Map(given.map((keys) => [keys.from, keys]));
      expect(given.length - distinct.size).toBeLessThanOrEqual(2);
      const sorted = [...distinct.values()].sort((a, b) => a.from - b.from);
      expect(sorted[0]?.from).toBe(1);
      expect(sorted.at(-1)?.to).toBe(10_001);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]?.from).toBe(sorted[i - 1]?.to);
      // The first stretch holds about batchSize expired rows at the table's share of them (1 in 2).
      expect(given[0]).toEqual({ from: 1, to: 201 });
    });

    it("runs `lanes` statements side by side, and one at a time with lanes: 1", async () => {
      for (const lanes of [1, 2]) {
        const inner = mixedTable(4_000);
        let inFlight = 0;
        let most = 0;
        const accounts = storeLike(inner, {
          deleteExpiredUnconfirmed: async (cutoff, limit, keys) => {
            inFlight += 1;
            most = Math.max(most, inFlight);
            await new Promise((resolve) => setTimeout(resolve, 1));
            try {
              return await inner.deleteExpiredUnconfirmed(cutoff, limit, keys);
            } finally {
              inFlight -= 1;
            }
          },
        });
        const report = await purgeUnconfirmedAccounts(
          { accounts, clock: new ManualClock(NOW) },
          { policy: policy(), batchSize: 100, lanes },
        );
        expect(report.deleted).toBe(2_000);
        expect(most).toBe(lanes);
      }
    });

    it("sizes each stretch by how long the last statement took against the target", async () => {
      const accounts = mixedTable(40_000);
      const clock = new ManualClock(NOW);
      const sizes: number[] = [];
      // A statement takes 1 ms per 100 keys: the target of 50 ms is met by stretches of 5,000 keys.
      accounts.afterDelete = (keys) => {
        if (!keys) return;
        sizes.push(keys.to - keys.from);
        clock.advance((keys.to - keys.from) / 100);
      };
      await purgeUnconfirmedAccounts(
        { accounts, clock },
        { policy: policy(), batchSize: 500, lanes: 1, statementTargetMs: 50 },
      );
      expect(sizes[0]).toBe(1_000);
      for (let i = 1; i < sizes.length - 1; i++) {
        expect(sizes[i]! / sizes[i - 1]!).toBeLessThanOrEqual(1.5);
        expect(sizes[i]! / sizes[i - 1]!).toBeGreaterThanOrEqual(0.5);
      }
      expect(sizes[1]).toBe(1_500);
      expect(sizes.slice(4, -1).every((size) => size >= 4_500 && size <= 5_500)).toBe(true);
    });

    it("never deletes more than the plan's limit, even when more rows turn out expired than were counted", async () => {
      const inner = mixedTable(4_000); // 2,000 expired, counted as 1,900
      const accounts = storeLike(inner, {
        countExpiredUnconfirmed: async (cutoff, since) =>
          (await inner.countExpiredUnconfirmed(cutoff, since)) - (since === undefined ? 100 : 0),
      });
      const report = await purgeUnconfirmedAccounts(
        { accounts, clock: new ManualClock(NOW) },
        { policy: policy({ maxDeletionsPerRun: 1_900 }), batchSize: 100 },
      );
      expect(report).toMatchObject({ deleted: 1_900, failed: 0 });
      expect(await inner.countExpiredUnconfirmed(hoursAgo(24))).toBe(100);
    });

    it("stops both lanes at a failing statement and reports it", async () => {
      const accounts = mixedTable(4_000);
      let statements = 0;
      accounts.beforeDelete = () => {
        statements += 1;
        if (statements === 3) accounts.outage.begin();
      };
      const report = await purgeUnconfirmedAccounts(
        { accounts, clock: new ManualClock(NOW) },
        { policy: policy(), batchSize: 100 },
      );
      // The failing statement, and the other lane's if it was already under way: none starts after a failure.
      expect(report.failed === 1 || report.failed === 2).toBe(true);
      expect(report.failureCodes).toEqual({ ECONNREFUSED: report.failed });
      expect(statements).toBe(2 + report.failed);
      accounts.outage.end();
      expect(report.deleted).toBe(2_000 - (await accounts.countExpiredUnconfirmed(hoursAgo(24))));
    });
  });

  describe("chooseAccountPurgeWalk", () => {
    const sizes = { expired: 5_000, total: 10_000, limit: 5_000, batchSize: 500 };
    it("walks by key when every expired row goes, more than a statement's worth, and a large share", () => {
      expect(chooseAccountPurgeWalk(sizes)).toBe("key-range");
      expect(chooseAccountPurgeWalk({ ...sizes, expired: 1_250, limit: 1_250 })).toBe("key-range");
    });
    it("goes oldest first when a cap cuts the run short, the share is small, or one statement is enough", () => {
      expect(chooseAccountPurgeWalk({ ...sizes, limit: 4_999 })).toBe("oldest-first");
      expect(chooseAccountPurgeWalk({ ...sizes, expired: 1_249, limit: 1_249 })).toBe("oldest-first");
      expect(chooseAccountPurgeWalk({ ...sizes, expired: 500, total: 600, limit: 500 })).toBe("oldest-first");
      expect(KEY_RANGE_MIN_SHARE).toBe(1 / 8);
    });
  });

  it.each([
    ["batchSize", { batchSize: 0 }],
    ["lanes", { lanes: 1.5 }],
    ["statementTargetMs", { statementTargetMs: -1 }],
  ])("refuses a bad %s before reading or deleting anything", async (option, bad) => {
    const accounts = table(10);
    const run = purgeUnconfirmedAccounts(
      { accounts, clock: new ManualClock(NOW) },
      { policy: policy(), ...bad },
    );
    await expect(run).rejects.toMatchObject({ code: "PURGE.INVALID_INPUT", field: option });
    expect(accounts.all()).toHaveLength(10);
    expect(accounts.deleteStatements).toBe(0);
  });
});

describe("the accounts purge, run after run", () => {
  const DAY = 24 * 3_600_000;
  const ago = (ms: number, from: Date = NOW) => new Date(from.getTime() - ms);

  /** 1,000 confirmed rows, and 200 never-confirmed sign-ups of the last two months (17% of the table). */
  function liveTable(): InMemoryAccountStore {
    const store = new InMemoryAccountStore();
    for (let i = 0; i < 1000; i++) {
      store.insert({
        email: `ok${i}@example.com`,
        confirmedAt: ago(299 * DAY),
        confirmationSentAt: ago(300 * DAY),
      });
    }
    for (let i = 0; i < 200; i++) {
      store.insert({
        email: `backlog${i}@example.com`,
        confirmedAt: null,
        confirmationSentAt: ago(2 * DAY + ((i * 7919) % 58) * DAY + i * 1000),
      });
    }
    return store;
  }

  /** Each day 10 people sign up and never confirm, and 5 sign up and confirm. */
  function aDayOfSignUps(store: InMemoryAccountStore, clock: ManualClock, day: number): void {
    for (let i = 0; i < 15; i++) {
      const sent = ago((i + 1) * 30 * 60_000, clock.now());
      store.insert({
        email: `day${day}-${i}@example.com`,
        confirmedAt: i < 10 ? null : clock.now(),
        confirmationSentAt: sent,
      });
    }
  }

  /** A busier day: 80 people signed up in the last hours and have not confirmed yet. */
  function aBusyDay(store: InMemoryAccountStore): void {
    for (let i = 0; i < 80; i++) {
      store.insert({
        email: `new${i}@example.com`,
        confirmedAt: null,
        confirmationSentAt: ago((i + 1) * 600_000),
      });
    }
  }

  it("drains a backlog of genuine old sign-ups over 5% of the table, the cap per run, where every run refused", async () => {
    const clock = new ManualClock(NOW);
    const accounts = liveTable();
    const reports = [];
    for (let day = 0; day < 7; day += 1) {
      aDayOfSignUps(accounts, clock, day);
      const report = await purgeUnconfirmedAccounts(
        { accounts, clock },
        { policy: policy({ maxShareOfPool: 0.05, maxDeletionsPerRun: 50 }) },
      );
      expect(report.refused, `day ${day}`).toBeUndefined();
      expect(report.deleted, `day ${day}`).toBe(Math.min(50, report.eligible));
      reports.push(report);
      clock.advance(DAY);
    }
    expect(reports[0]?.eligible).toBe(200);
    expect(accounts.all().filter((row) => row.email.startsWith("backlog"))).toEqual([]);
    expect(accounts.all().filter((row) => row.confirmedAt !== null)).toHaveLength(1000 + 7 * 5);
  });

  it.each([
    ["a clock 30 days ahead", { clockAhead: 30 * DAY, minAgeMs: DAY }],
    ["a minimum age of one minute", { clockAhead: 0, minAgeMs: 60_000 }],
  ])("refuses %s, deleting nothing", async (_, { clockAhead, minAgeMs }) => {
    const clock = new ManualClock(NOW);
    const accounts = liveTable();
    aBusyDay(accounts);
    clock.advance(clockAhead);
    const report = await purgeUnconfirmedAccounts(
      { accounts, clock },
      { policy: policy({ maxShareOfPool: 0.05, maxDeletionsPerRun: 50, minAgeMs }) },
    );
    expect(report.stoppedBy).toBe("refused");
    expect(report.refused).toMatch(/^Refused: 80 of 1280 rows in the users table/);
    expect(accounts.deleteStatements).toBe(0);
  });

  it("does not let a row dated in the future make the whole table look old", async () => {
    const clock = new ManualClock(NOW);
    const accounts = liveTable();
    aBusyDay(accounts);
    // Written by the application with a wrong date, far ahead.
    accounts.insert({
      email: "future@example.com",
      confirmedAt: null,
      confirmationSentAt: new Date("2099-01-01"),
    });
    clock.advance(30 * DAY);
    const report = await purgeUnconfirmedAccounts(
      { accounts, clock },
      { policy: policy({ maxShareOfPool: 0.05, maxDeletionsPerRun: 50 }) },
    );
    expect(report.stoppedBy).toBe("refused");
    expect(accounts.deleteStatements).toBe(0);
  });
});

describe("nameAccountPurge: whom a preview deletes", () => {
  it("names the oldest rows the plan deletes, masked, at most 20, and counts the rest", async () => {
    const store = new InMemoryAccountStore();
    for (let i = 0; i < 30; i++) {
      store.insert({
        email: `person${String(i).padStart(2, "0")}@example.com`,
        confirmedAt: null,
        confirmationSentAt: hoursAgo(100 - i),
      });
    }
    store.insert({ email: "zed@example.com", confirmedAt: null, confirmationSentAt: NOW });
    const plan = anAccountPlan({
      expired: 30,
      total: 31,
      policy: policy({ maxShareOfPool: 1, maxDeletionsPerRun: 25 }),
      now: NOW,
    });
    const names = await nameAccountPurge(store, plan);
    expect(names.masked).toHaveLength(20);
    expect(names.masked.every((name) => name === "p***@e***.com")).toBe(true);
    expect(names.more).toBe(5);
    expect(JSON.stringify(names)).not.toContain("person");
    // Named in the order the run deletes them: the first named is the first deleted.
    const emails = await store.oldestExpiredUnconfirmedEmails(plan.cutoff, 1);
    await store.deleteExpiredUnconfirmed(plan.cutoff, 1);
    expect(store.all().map((row) => row.email)).not.toContain(emails[0]);
    expect(emails).toEqual(["person00@example.com"]);
  });

  it("names nobody for a refused plan, and only as many as the plan may delete", async () => {
    const store = new InMemoryAccountStore();
    for (const email of ["ann@example.com", "ben@example.org"]) {
      store.insert({ email, confirmedAt: null, confirmationSentAt: new Date("2026-01-01T00:00:00Z") });
    }
    const refused = anAccountPlan({ expired: 2, policy: policy({ maxShareOfPool: 0.05 }), now: NOW });
    expect(refused.refused).toBeDefined();
    expect(await nameAccountPurge(store, refused)).toEqual({ masked: [], more: 0 });
    const one = anAccountPlan({
      expired: 2,
      policy: policy({ maxShareOfPool: 1, maxDeletionsPerRun: 1 }),
      now: NOW,
    });
    expect(await nameAccountPurge(store, one)).toEqual({ masked: ["a***@e***.com"], more: 0 });
  });
});
