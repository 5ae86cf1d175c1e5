import { describe, expect, it } from "vitest";
import { InMemoryAccountStore } from "../../adapters/in-memory/account-store.js";
import { ManualClock, SteppingClock } from "../../adapters/in-memory/clock.js";
import { DEFAULT_PURGE_POLICY, type PurgePolicy } from "../purge/index.js";
import { purgeUnconfirmedAccounts } from "./purge-unconfirmed-accounts.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const policy = (overrides: Partial<PurgePolicy> = {}): PurgePolicy => ({
  ...DEFAULT_PURGE_POLICY,
  maxShareOfPool: 1,
  maxDeletionsPerRun: 100_000,
  ...overrides,
});

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
  it("deletes expired unconfirmed rows in batches and nothing else", async () => {
    const accounts = table(1_200, 5, 7);
    const clock = new ManualClock(NOW);
    const report = await purgeUnconfirmedAccounts({ accounts, clock }, { policy: policy(), batchSize: 500 });
    expect(report).toMatchObject({ target: "accounts", deleted: 1_200, failed: 0, stoppedBy: "completed" });
    expect(accounts.deleteStatements).toBe(3);
    expect(accounts.all()).toHaveLength(12);
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

  it("runs the two counts one after the other, never side by side", async () => {
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
    const store = {
      countAll: counted(() => accounts.countAll()),
      countExpiredUnconfirmed: (cutoff: Date) => counted(() => accounts.countExpiredUnconfirmed(cutoff))(),
      deleteExpiredUnconfirmed: (cutoff: Date, limit: number) =>
        accounts.deleteExpiredUnconfirmed(cutoff, limit),
    };
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
});
