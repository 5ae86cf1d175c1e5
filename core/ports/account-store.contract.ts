import { describe, expect, it } from "vitest";
import { withFixture as runWithFixture } from "./contract-support.js";
import type { AccountStore } from "./account-store.js";

export interface AccountRowSeed {
  readonly email: string;
  readonly confirmedAt: Date | null;
  readonly confirmationSentAt: Date | null;
}

/** A fresh, empty accounts table per fixture. */
export interface AccountStoreFixture {
  readonly store: AccountStore;
  /** Inserts rows; returns their ids in order. */
  insert(rows: readonly AccountRowSeed[]): Promise<number[]>;
  /** Marks a row confirmed, as the application would. */
  confirm(id: number, at: Date): Promise<void>;
  /** Emails of the rows left, sorted. */
  remainingEmails(): Promise<string[]>;
  /** Runs `hook` right before the store's next delete statement (to confirm a row "meanwhile"). */
  beforeNextDelete(hook: () => Promise<void>): void;
  close?(): Promise<void>;
}

const cutoff = new Date("2026-03-10T00:00:00.000Z");
const minutesBefore = (minutes: number) => new Date(cutoff.getTime() - minutes * 60_000);
const minutesAfter = (minutes: number) => new Date(cutoff.getTime() + minutes * 60_000);

/** What every AccountStore adapter must do. */
export function describeAccountStoreContract(
  name: string,
  makeFixture: () => Promise<AccountStoreFixture>,
): void {
  describe(`AccountStore contract: ${name}`, () => {
    const withFixture = (test: (fixture: AccountStoreFixture) => Promise<void>) =>
      runWithFixture(makeFixture, test);

    const rows: AccountRowSeed[] = [
      { email: "old-unconfirmed-1@example.com", confirmedAt: null, confirmationSentAt: minutesBefore(60) },
      { email: "old-unconfirmed-2@example.com", confirmedAt: null, confirmationSentAt: minutesBefore(30) },
      { email: "old-unconfirmed-3@example.com", confirmedAt: null, confirmationSentAt: minutesBefore(1) },
      { email: "at-cutoff@example.com", confirmedAt: null, confirmationSentAt: cutoff },
      { email: "young@example.com", confirmedAt: null, confirmationSentAt: minutesAfter(5) },
      {
        email: "confirmed@example.com",
        confirmedAt: minutesBefore(10),
        confirmationSentAt: minutesBefore(90),
      },
      { email: "never-sent@example.com", confirmedAt: null, confirmationSentAt: null },
    ];

    it("counts all rows and the expired unconfirmed ones (strictly before the cutoff)", () =>
      withFixture(async ({ store, insert }) => {
        await insert(rows);
        expect(await store.countAll()).toBe(7);
        expect(await store.countExpiredUnconfirmed(cutoff)).toBe(3);
      }));

    it("counts the expired unconfirmed rows sent since an instant (at or after it)", () =>
      withFixture(async ({ store, insert }) => {
        await insert(rows);
        expect(await store.countExpiredUnconfirmed(cutoff, minutesBefore(30))).toBe(2);
        expect(await store.countExpiredUnconfirmed(cutoff, minutesBefore(1))).toBe(1);
        expect(await store.countExpiredUnconfirmed(cutoff, cutoff)).toBe(0);
        expect(await store.countExpiredUnconfirmed(cutoff, minutesBefore(1000))).toBe(3);
      }));

    it("tells when the newest confirmation of the unconfirmed rows was sent, leaving out those after `notAfter`", () =>
      withFixture(async ({ store, insert }) => {
        expect(await store.newestUnconfirmedSentAt(minutesAfter(60))).toBeUndefined();
        await insert(rows);
        // The confirmed row (sent 90 minutes before) and the one never sent are not sign-ups waiting.
        expect(await store.newestUnconfirmedSentAt(minutesAfter(60))).toEqual(minutesAfter(5));
        expect(await store.newestUnconfirmedSentAt(minutesAfter(5))).toEqual(minutesAfter(5));
        expect(await store.newestUnconfirmedSentAt(minutesAfter(4))).toEqual(cutoff);
        expect(await store.newestUnconfirmedSentAt(minutesBefore(45))).toEqual(minutesBefore(60));
        expect(await store.newestUnconfirmedSentAt(minutesBefore(61))).toBeUndefined();
      }));

    it("deletes at most `limit` rows, oldest first, and only expired unconfirmed ones", () =>
      withFixture(async ({ store, insert, remainingEmails }) => {
        await insert(rows);
        expect(await store.deleteExpiredUnconfirmed(cutoff, 2)).toBe(2);
        expect(await remainingEmails()).not.toContain("old-unconfirmed-1@example.com");
        expect(await remainingEmails()).toContain("old-unconfirmed-3@example.com");
        expect(await store.deleteExpiredUnconfirmed(cutoff, 2)).toBe(1);
        expect(await store.deleteExpiredUnconfirmed(cutoff, 2)).toBe(0);
        expect(await remainingEmails()).toEqual([
          "at-cutoff@example.com",
          "confirmed@example.com",
          "never-sent@example.com",
          "young@example.com",
        ]);
      }));

    it("never deletes a row confirmed after it was counted", () =>
      withFixture(async ({ store, insert, confirm, beforeNextDelete, remainingEmails }) => {
        const [first] = await insert(rows);
        expect(await store.countExpiredUnconfirmed(cutoff)).toBe(3);
        beforeNextDelete(() => confirm(first as number, cutoff));
        expect(await store.deleteExpiredUnconfirmed(cutoff, 10)).toBe(2);
        expect(await remainingEmails()).toContain("old-unconfirmed-1@example.com");
      }));

    it("names the oldest expired rows by email, in the order the purge deletes them, deleting nothing", () =>
      withFixture(async ({ store, insert, remainingEmails }) => {
        // Inserted youngest first, so key order is not age order.
        await insert([...rows].reverse());
        expect(await store.oldestExpiredUnconfirmedEmails(cutoff, 2)).toEqual([
          "old-unconfirmed-1@example.com",
          "old-unconfirmed-2@example.com",
        ]);
        expect(await store.oldestExpiredUnconfirmedEmails(cutoff, 20)).toEqual([
          "old-unconfirmed-1@example.com",
          "old-unconfirmed-2@example.com",
          "old-unconfirmed-3@example.com",
        ]);
        expect(await store.oldestExpiredUnconfirmedEmails(cutoff, 0)).toEqual([]);
        expect(await remainingEmails()).toHaveLength(rows.length);
        // The names are the rows the purge's next statement deletes.
        expect(await store.deleteExpiredUnconfirmed(cutoff, 2)).toBe(2);
        expect(await remainingEmails()).not.toContain("old-unconfirmed-2@example.com");
        await expect(store.oldestExpiredUnconfirmedEmails(cutoff, -1)).rejects.toMatchObject({
          code: "PURGE.INVALID_INPUT",
          field: "limit",
        });
      }));

    it("gives the first and the last key, and none for an empty table", () =>
      withFixture(async ({ store, insert }) => {
        expect(await store.keyBounds()).toBeUndefined();
        const ids = await insert(rows);
        expect(await store.keyBounds()).toEqual({ first: ids[0], last: ids.at(-1) });
      }));

    it("in a stretch of keys, deletes only the expired rows of that stretch, in key order, at most `limit`", () =>
      withFixture(async ({ store, insert, remainingEmails }) => {
        // Key order is not age order here: the oldest expired row has the largest key.
        const ids = await insert([rows[1]!, rows[2]!, rows[5]!, rows[3]!, rows[0]!]);
        const [oldUnconfirmed2, oldUnconfirmed3, , , oldest] = ids as [
          number,
          number,
          number,
          number,
          number,
        ];
        expect(await store.deleteExpiredUnconfirmed(cutoff, 1, { from: oldUnconfirmed2, to: oldest })).toBe(
          1,
        );
        expect(await remainingEmails()).not.toContain("old-unconfirmed-2@example.com");
        expect(await remainingEmails()).toContain("old-unconfirmed-1@example.com");
        // The end of a stretch is excluded: the oldest row, at `to`, stays.
        expect(await store.deleteExpiredUnconfirmed(cutoff, 10, { from: oldUnconfirmed3, to: oldest })).toBe(
          1,
        );
        expect(await store.deleteExpiredUnconfirmed(cutoff, 10, { from: oldUnconfirmed3, to: oldest })).toBe(
          0,
        );
        expect(await remainingEmails()).toEqual([
          "at-cutoff@example.com",
          "confirmed@example.com",
          "old-unconfirmed-1@example.com",
        ]);
        expect(await store.deleteExpiredUnconfirmed(cutoff, 10, { from: oldest, to: oldest + 1 })).toBe(1);
      }));
  });
}
