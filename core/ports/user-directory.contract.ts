import { describe, expect, it } from "vitest";
import { withFixture as runWithFixture } from "./contract-support.js";
import { LifecycleError } from "../errors.js";
import { aUser } from "../testing/builders.js";
import type { User } from "../user/user.js";
import { allUsers, SUB_PARTITIONS, type UserDirectory } from "./user-directory.js";

/** Users with subs spread over the sixteen partitions (a pool that assigns subs itself may ignore them). */
function spreadUsers(count: number): User[] {
  return Array.from({ length: count }, (_, i) => {
    const digit = (i % 16).toString(16);
    return aUser({ sub: `${digit}${digit}${String(i).padStart(6, "0")}-0000-4000-8000-000000000000` });
  });
}

/** A fresh, empty pool per fixture. */
export interface UserDirectoryFixture {
  readonly directory: UserDirectory;
  /** Puts users into the pool in the given status and groups (groups are created as needed). */
  seed(users: readonly User[]): Promise<void>;
  close?(): Promise<void>;
}

export interface UserDirectoryCapabilities {
  /** The directory pages results (a stand-in may return everything in one page). */
  readonly pagination: boolean;
  /** Why pagination cases are skipped, when they are. */
  readonly paginationGap?: string;
  /**
   * Creating a group that exists is refused and leaves it unchanged (Cognito's GroupExistsException); a
   * stand-in may overwrite it instead. Default true.
   */
  readonly duplicateGroupRefused?: boolean;
  /** Why the duplicate-group case is skipped, when it is. */
  readonly duplicateGroupGap?: string;
  /** The pool reports an estimate of its users (a stand-in may always answer 0). Default true. */
  readonly userCountEstimate?: boolean;
  /** Why the estimate case is skipped, when it is. */
  readonly userCountEstimateGap?: string;
}

/** The suffix of a case's name that says why it is skipped, when it is. */
function skipNote(gap: string | undefined): string {
  return gap ? ` (skipped: ${gap})` : "";
}

/**
 * What every UserDirectory adapter must do. Run by the in-memory adapter's unit tests and by the Cognito
 * adapter's integration tests against a local Cognito.
 */
export function describeUserDirectoryContract(
  name: string,
  makeFixture: () => Promise<UserDirectoryFixture>,
  capabilities: UserDirectoryCapabilities = { pagination: true },
): void {
  describe(`UserDirectory contract: ${name}`, () => {
    const withFixture = (test: (fixture: UserDirectoryFixture) => Promise<void>) =>
      runWithFixture(makeFixture, test);

    it.skipIf(!capabilities.pagination)(
      `walks every user exactly once across pages of a small size${skipNote(capabilities.paginationGap)}`,
      () =>
        withFixture(async ({ directory, seed }) => {
          const users = Array.from({ length: 7 }, () => aUser());
          await seed(users);
          const first = await directory.listUsers({ pageSize: 3 });
          expect(first.items.length).toBeLessThanOrEqual(3);
          expect(first.nextToken).toBeDefined();
          const seen: string[] = [];
          for await (const user of allUsers(directory, { pageSize: 3 })) seen.push(user.username);
          expect(seen.sort()).toEqual(users.map((u) => u.username).sort());
        }),
    );

    it("lists every user when walked to the end, with sub, attributes and status", () =>
      withFixture(async ({ directory, seed }) => {
        const users = [aUser(), aUser({ status: "UNCONFIRMED" })];
        await seed(users);
        const seen = new Map<string, User>();
        for await (const user of allUsers(directory)) seen.set(user.username, user);
        for (const user of users) {
          const found = seen.get(user.username);
          expect(found?.status).toBe(user.status);
          expect(found?.attributes.email).toBe(user.attributes.email);
          expect(found?.sub).toBe(found?.attributes.sub);
        }
      }));

    it("filters by status", () =>
      withFixture(async ({ directory, seed }) => {
        const confirmed = aUser();
        const unconfirmed = [aUser({ status: "UNCONFIRMED" }), aUser({ status: "UNCONFIRMED" })];
        await seed([confirmed, ...unconfirmed]);
        const listed: string[] = [];
        for await (const user of allUsers(directory, { status: "UNCONFIRMED" })) {
          expect(user.status).toBe("UNCONFIRMED");
          listed.push(user.username);
        }
        expect(listed.sort()).toEqual(unconfirmed.map((u) => u.username).sort());
      }));

    it.skipIf(!capabilities.pagination)(
      `lists by sub prefix: the sixteen partitions, each walked in small pages, hold every user once${skipNote(capabilities.paginationGap)}`,
      () =>
        withFixture(async ({ directory, seed }) => {
          const users = spreadUsers(20);
          await seed(users);
          const subs = new Map<string, string>();
          for await (const user of allUsers(directory)) subs.set(user.username, user.sub);
          const seen: string[] = [];
          for (const prefix of SUB_PARTITIONS) {
            for await (const user of allUsers(directory, { subPrefix: prefix, pageSize: 2 })) {
              expect(user.sub.startsWith(prefix)).toBe(true);
              seen.push(user.username);
            }
          }
          expect(seen.sort()).toEqual(users.map((u) => u.username).sort());
          // A longer prefix narrows the listing to the users whose sub starts with it.
          const one = [...subs.values()][0] as string;
          const narrow: string[] = [];
          for await (const user of allUsers(directory, { subPrefix: one.slice(0, 8) })) narrow.push(user.sub);
          expect(narrow.sort()).toEqual(
            [...subs.values()].filter((sub) => sub.startsWith(one.slice(0, 8))).sort(),
          );
        }),
    );

    it("refuses a query with both a status and a sub prefix, and a prefix that is not hexadecimal", () =>
      withFixture(async ({ directory, seed }) => {
        await seed([aUser()]);
        for (const query of [
          { status: "UNCONFIRMED" as const, subPrefix: "a" },
          { subPrefix: 'a" or sub ^= "' },
          { subPrefix: "A" },
          { subPrefix: "" },
        ]) {
          await expect(directory.listUsers(query)).rejects.toMatchObject({
            name: "ValidationError",
            code: "DIRECTORY.INVALID_QUERY",
            field: "subPrefix",
          });
        }
      }));

    it("rejects a page size above 60", () =>
      withFixture(async ({ directory }) => {
        await expect(directory.listUsers({ pageSize: 61 })).rejects.toThrow(/60/);
      }));

    it("gets a user, or undefined for an unknown username", () =>
      withFixture(async ({ directory, seed }) => {
        const user = aUser({ attributes: { "custom:legacy_sub": "11111111-2222-4333-8444-555555555555" } });
        await seed([user]);
        const found = await directory.getUser(user.username);
        expect(found?.username).toBe(user.username);
        expect(found?.attributes["custom:legacy_sub"]).toBe("11111111-2222-4333-8444-555555555555");
        expect(await directory.getUser("no-such-user")).toBeUndefined();
      }));

    it("deletes idempotently", () =>
      withFixture(async ({ directory, seed }) => {
        const user = aUser();
        await seed([user]);
        expect(await directory.deleteUser(user.username)).toBe(true);
        expect(await directory.getUser(user.username)).toBeUndefined();
        expect(await directory.deleteUser(user.username)).toBe(false);
      }));

    it("disables a user, and says which user is missing", () =>
      withFixture(async ({ directory, seed }) => {
        const user = aUser();
        await seed([user]);
        await directory.disableUser(user.username);
        expect((await directory.getUser(user.username))?.enabled).toBe(false);
        await expect(directory.disableUser("no-such-user")).rejects.toMatchObject({ code: "USER.NOT_FOUND" });
      }));

    it("enables a disabled user again (idempotently), and says which user is missing", () =>
      withFixture(async ({ directory, seed }) => {
        const user = aUser();
        await seed([user]);
        await directory.disableUser(user.username);
        await directory.enableUser(user.username);
        await directory.enableUser(user.username);
        expect((await directory.getUser(user.username))?.enabled).toBe(true);
        await expect(directory.enableUser("no-such-user")).rejects.toMatchObject({ code: "USER.NOT_FOUND" });
      }));

    it("creates a user with a new sub, keeping its attributes, and refuses a taken username", () =>
      withFixture(async ({ directory }) => {
        const backup = aUser({ attributes: { "custom:legacy_sub": "11111111-2222-4333-8444-555555555555" } });
        const created = await directory.createUser(backup);
        expect(created.username).toBe(backup.username);
        expect(created.sub).not.toBe(backup.sub);
        expect(created.attributes.email).toBe(backup.attributes.email);
        expect(created.attributes["custom:legacy_sub"]).toBe("11111111-2222-4333-8444-555555555555");
        const error = await directory.createUser(backup).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LifecycleError);
        expect(error).toMatchObject({ code: "DIRECTORY.USER_EXISTS" });
      }));

    it.skipIf(capabilities.duplicateGroupRefused === false)(
      `creates a group once: creating it again answers false and leaves it unchanged${skipNote(capabilities.duplicateGroupGap)}`,
      () =>
        withFixture(async ({ directory }) => {
          expect(
            await directory.createGroup({ name: "admins", description: "Administrators", precedence: 1 }),
          ).toBe(true);
          expect(await directory.createGroup({ name: "admins" })).toBe(false);
          const groups = await directory.listGroups();
          expect(groups.items.find((g) => g.name === "admins")).toMatchObject({
            description: "Administrators",
            precedence: 1,
          });
        }),
    );

    it("manages membership idempotently, and names a missing group", () =>
      withFixture(async ({ directory, seed }) => {
        const user = aUser();
        await seed([user]);
        expect(
          await directory.createGroup({ name: "admins", description: "Administrators", precedence: 1 }),
        ).toBe(true);
        await directory.addUserToGroup(user.username, "admins");
        await directory.addUserToGroup(user.username, "admins");
        const members = await directory.listGroupMembers("admins");
        // Each member with the sub the pool gave it (which a seeded pool may have made anew).
        const inPool = await directory.getUser(user.username);
        expect(inPool?.sub).toMatch(/^[0-9a-f-]{36}$/);
        expect(members.items).toEqual([{ username: user.username, sub: inPool?.sub }]);
        const groups = await directory.listGroups();
        expect(groups.items.find((g) => g.name === "admins")).toMatchObject({
          description: "Administrators",
          precedence: 1,
        });
        expect((await directory.getUser(user.username, { includeGroups: true }))?.groups).toEqual(["admins"]);
        await expect(directory.addUserToGroup(user.username, "no-such-group")).rejects.toMatchObject({
          code: "DIRECTORY.GROUP_NOT_FOUND",
        });
      }));

    it.skipIf(capabilities.userCountEstimate === false)(
      `estimates the number of users${skipNote(capabilities.userCountEstimateGap)}`,
      () =>
        withFixture(async ({ directory, seed }) => {
          await seed([aUser(), aUser(), aUser()]);
          expect(await directory.estimatedUserCount()).toBeGreaterThanOrEqual(3);
        }),
    );
  });
}
