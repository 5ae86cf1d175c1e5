import { describe, expect, it } from "vitest";
import type { ApplicationAccounts } from "./application-accounts.js";
import { withFixture as runWithFixture } from "./contract-support.js";

/** A fresh, empty accounts table per fixture. */
export interface ApplicationAccountsFixture {
  readonly accounts: ApplicationAccounts;
  /** Inserts one row per email, as the application would. */
  insert(emails: readonly string[]): Promise<void>;
  /** Emails of the rows left, sorted by code point. */
  remainingEmails(): Promise<string[]>;
  /**
   * Whether the table can hold two emails that differ only in case (a table whose email column has a
   * case-insensitive unique index cannot).
   */
  readonly holdsCaseVariants: boolean;
  close?(): Promise<void>;
}

/** The longest address: a 64-character local part and a 255-character domain. */
export const LONGEST_EMAIL = `${"l".repeat(64)}@${`${"d".repeat(63)}.`.repeat(3)}${"c".repeat(63)}`;

const sorted = (emails: readonly string[]) => [...emails].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** What every ApplicationAccounts adapter must do. */
export function describeApplicationAccountsContract(
  name: string,
  makeFixture: () => Promise<ApplicationAccountsFixture>,
): void {
  describe(`ApplicationAccounts contract: ${name}`, () => {
    const withFixture = (test: (fixture: ApplicationAccountsFixture) => Promise<void>) =>
      runWithFixture(makeFixture, test);

    it("counts a person's row and deletes it, and only it; deleting again finds nothing", () =>
      withFixture(async ({ accounts, insert, remainingEmails }) => {
        await insert(["alice@example.com", "bob@example.com"]);
        expect(await accounts.countByEmail("alice@example.com")).toBe(1);
        expect(await accounts.countByEmail("carol@example.com")).toBe(0);
        expect(await accounts.deleteByEmail("alice@example.com")).toBe(1);
        expect(await accounts.deleteByEmail("alice@example.com")).toBe(0);
        expect(await accounts.countByEmail("alice@example.com")).toBe(0);
        expect(await remainingEmails()).toEqual(["bob@example.com"]);
      }));

    it("ignores case, as the pool does: a row whose email differs only by case is the person's", () =>
      withFixture(async ({ accounts, insert, remainingEmails }) => {
        await insert(["Alice.Smith@Example.COM", "JÖRG@example.com", "bob@example.com"]);
        expect(await accounts.countByEmail("alice.smith@example.com")).toBe(1);
        expect(await accounts.countByEmail("ALICE.SMITH@EXAMPLE.COM")).toBe(1);
        expect(await accounts.countByEmail("jörg@example.com")).toBe(1);
        expect(await accounts.deleteByEmail("alice.smith@example.com")).toBe(1);
        expect(await accounts.deleteByEmail("Jörg@Example.com")).toBe(1);
        expect(await remainingEmails()).toEqual(["bob@example.com"]);
      }));

    it("deletes every row of the person when the table holds case variants of one address", () =>
      withFixture(async ({ accounts, insert, remainingEmails, holdsCaseVariants }) => {
        if (!holdsCaseVariants) return;
        await insert(["dana@example.com", "Dana@Example.com", "dan@example.com"]);
        expect(await accounts.countByEmail("DANA@example.com")).toBe(2);
        expect(await accounts.deleteByEmail("DANA@example.com")).toBe(2);
        expect(await remainingEmails()).toEqual(["dan@example.com"]);
      }));

    it("matches letter for letter otherwise: no accent folding, no padding, no prefix", () =>
      withFixture(async ({ accounts, insert, remainingEmails }) => {
        await insert(["jorg@example.com", "zoe@example.com", "eve@example.com"]);
        // A collation that folds accents (MySQL's default utf8mb4_0900_ai_ci, MariaDB's general_ci) or pads
        // with spaces would call these equal: they are other addresses.
        for (const other of [
          "jörg@example.com",
          "zoé@example.com",
          "zoe@example.com ",
          " zoe@example.com",
          "eve@example.co",
          "eve@example.com\n",
        ]) {
          expect(await accounts.countByEmail(other)).toBe(0);
          expect(await accounts.deleteByEmail(other)).toBe(0);
        }
        expect(await remainingEmails()).toEqual(["eve@example.com", "jorg@example.com", "zoe@example.com"]);
      }));

    it("takes LIKE's wildcards, quotes and backslashes literally", () =>
      withFixture(async ({ accounts, insert, remainingEmails }) => {
        const hostile = [
          "a_b@example.com",
          "a%b@example.com",
          "o'brien@example.com",
          '"q\\"x"@example.com',
          "back\\slash@example.com",
        ];
        const bystanders = ["axb@example.com", "a-long-b@example.com", "obrien@example.com"];
        await insert([...hostile, ...bystanders]);
        expect(await accounts.countByEmail("%@example.com")).toBe(0);
        expect(await accounts.countByEmail("_%")).toBe(0);
        expect(await accounts.deleteByEmail("%")).toBe(0);
        expect(await accounts.deleteByEmail("a_b@example.com")).toBe(1);
        expect(await accounts.deleteByEmail("a%b@example.com")).toBe(1);
        expect(await accounts.deleteByEmail("o'brien@example.com")).toBe(1);
        expect(await accounts.deleteByEmail("' OR '1'='1")).toBe(0);
        expect(await accounts.countByEmail('"q\\"x"@example.com')).toBe(1);
        expect(await accounts.deleteByEmail('"q\\"x"@example.com')).toBe(1);
        expect(await accounts.deleteByEmail("back\\slash@example.com")).toBe(1);
        expect(await remainingEmails()).toEqual(sorted(bystanders));
      }));

    it("finds and deletes the longest address (320 characters), and not a longer one", () =>
      withFixture(async ({ accounts, insert, remainingEmails }) => {
        expect(LONGEST_EMAIL).toHaveLength(320);
        await insert([LONGEST_EMAIL, "short@example.com"]);
        expect(await accounts.countByEmail(LONGEST_EMAIL)).toBe(1);
        expect(await accounts.countByEmail(`${LONGEST_EMAIL}c`)).toBe(0);
        expect(await accounts.countByEmail(`x${"y".repeat(2_000)}@example.com`)).toBe(0);
        expect(await accounts.deleteByEmail(LONGEST_EMAIL.toUpperCase())).toBe(1);
        expect(await remainingEmails()).toEqual(["short@example.com"]);
      }));

    it("refuses an empty email, deleting nothing", () =>
      withFixture(async ({ accounts, insert, remainingEmails }) => {
        await insert(["alice@example.com"]);
        for (const call of [() => accounts.countByEmail(""), () => accounts.deleteByEmail("")]) {
          await expect(call()).rejects.toMatchObject({
            name: "ValidationError",
            code: "USER.INVALID",
            field: "email",
          });
        }
        expect(await remainingEmails()).toEqual(["alice@example.com"]);
      }));
  });
}
