import { describe, expect, it } from "vitest";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { AccountQuotas } from "../adapters/in-memory/rate-limiter.js";
import { errorCode, isThrottlingError } from "../core/errors.js";
import { allPages, type Page } from "../core/ports/user-directory.js";
import { isStableUserId, type User } from "../core/user/user.js";
import { GeneratedPool, GeneratedUserDirectory, type GeneratedUserQuery } from "./lib/generated-pool.js";

const NEWEST = new Date("2026-12-01T00:00:00.000Z");
const SIZE = 3_000;

function pool(size = SIZE) {
  return new GeneratedPool({ size, unconfirmedOneIn: 50, groups: 7, newestSignUp: NEWEST });
}

function directory(size = SIZE) {
  // Quotas off: these tests are about answers, not rates (one test turns them on).
  const clock = new ManualClock();
  return new GeneratedUserDirectory(pool(size), { clock, quotas: new AccountQuotas(clock, {}) });
}

async function listAll(dir: GeneratedUserDirectory, query: GeneratedUserQuery = {}): Promise<User[]> {
  const users: User[] = [];
  let token: string | undefined;
  do {
    const page: Page<User> = await dir.listUsers({ ...query, ...(token ? { pageToken: token } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(60);
    users.push(...page.items);
    token = page.nextToken;
  } while (token !== undefined);
  return users;
}

describe("GeneratedPool", () => {
  it("makes the same users from the same options, each with its own valid sub", () => {
    const a = pool();
    const b = pool();
    const subs = new Set<string>();
    for (let i = 0; i < SIZE; i += 1) {
      expect(a.userOf(i)).toEqual(b.userOf(i));
      const sub = a.subOf(i);
      expect(isStableUserId(sub)).toBe(true);
      expect(a.indexOfSub(sub)).toBe(i);
      expect(a.indexOfUsername(a.usernameOf(i))).toBe(i);
      subs.add(sub);
    }
    expect(subs.size).toBe(SIZE);
  });

  it("reads back no index from strings that are no user of the pool", () => {
    const p = pool();
    expect(p.indexOfSub(pool(SIZE * 2).subOf(SIZE))).toBeUndefined();
    expect(p.indexOfSub(p.subOf(5).replace(/^./, (c) => (c === "0" ? "1" : "0")))).toBeUndefined();
    expect(p.indexOfSub("not-a-sub")).toBeUndefined();
    expect(p.indexOfUsername(`user-${String(SIZE).padStart(9, "0")}`)).toBeUndefined();
    expect(p.indexOfUsername("user-1")).toBeUndefined();
  });

  it("spreads unconfirmed users over the pool at about the share asked, older users first", () => {
    const p = new GeneratedPool({ size: 100_000, unconfirmedOneIn: 50, newestSignUp: NEWEST });
    let unconfirmed = 0;
    for (let i = 0; i < p.size; i += 1) if (p.isUnconfirmed(i)) unconfirmed += 1;
    expect(unconfirmed / p.size).toBeGreaterThan(0.017);
    expect(unconfirmed / p.size).toBeLessThan(0.023);
    expect(p.createdAtOf(p.size - 1)).toEqual(NEWEST);
    expect(p.createdAtOf(0).getTime()).toBeLessThan(p.createdAtOf(1).getTime());
  });

  it("refuses sizes it cannot name", () => {
    expect(() => new GeneratedPool({ size: 0, newestSignUp: NEWEST })).toThrow(RangeError);
    expect(() => new GeneratedPool({ size: 1e9, newestSignUp: NEWEST })).toThrow(RangeError);
  });
});

describe("GeneratedUserDirectory", () => {
  it("lists every user once, in pages of at most 60 with opaque tokens", async () => {
    const dir = directory();
    const page = await dir.listUsers();
    expect(page.items).toHaveLength(60);
    expect(page.nextToken).toBeDefined();
    expect(page.nextToken).not.toContain("user-");
    const users = await listAll(dir);
    expect(users.map((user) => user.username)).toEqual(
      Array.from({ length: SIZE }, (_, i) => dir.pool.usernameOf(i)),
    );
    expect(users.every((user) => user.groups.length === 0)).toBe(true);
  });

  it("filters by status", async () => {
    const dir = directory();
    const unconfirmed = await listAll(dir, { status: "UNCONFIRMED" });
    let expected = 0;
    for (let i = 0; i < SIZE; i += 1) if (dir.pool.isUnconfirmed(i)) expected += 1;
    expect(unconfirmed).toHaveLength(expected);
    expect(unconfirmed.every((user) => user.status === "UNCONFIRMED")).toBe(true);
    const confirmed = await listAll(dir, { status: "CONFIRMED" });
    expect(confirmed).toHaveLength(SIZE - expected);
  });

  it("splits the pool into sixteen even sub ^= partitions that cover every user exactly once", async () => {
    const dir = directory();
    const seen = new Map<string, number>();
    const sizes: number[] = [];
    for (const digit of "0123456789abcdef") {
      const users = await listAll(dir, { subPrefix: digit });
      sizes.push(users.length);
      for (const user of users) {
        expect(user.sub.startsWith(digit)).toBe(true);
        seen.set(user.username, (seen.get(user.username) ?? 0) + 1);
      }
    }
    expect(seen.size).toBe(SIZE);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("narrows a partition by a longer prefix", async () => {
    const dir = directory();
    const prefix = dir.pool.subOf(35).slice(0, 2);
    const users = await listAll(dir, { subPrefix: prefix });
    expect(users.length).toBeGreaterThan(0);
    expect(users.every((user) => user.sub.startsWith(prefix))).toBe(true);
    expect(users.map((user) => user.username)).toContain(dir.pool.usernameOf(35));
  });

  it("refuses a query Cognito cannot run, a bad page size, and a token of another query", async () => {
    const dir = directory();
    const both = await dir.listUsers({ status: "UNCONFIRMED", subPrefix: "a" }).catch((error) => error);
    expect(errorCode(both)).toBe("USER.INVALID");
    expect(errorCode(await dir.listUsers({ subPrefix: "A" }).catch((error) => error))).toBe("USER.INVALID");
    expect(errorCode(await dir.listUsers({ pageSize: 61 }).catch((error) => error))).toBe("USER.INVALID");
    const { nextToken } = await dir.listUsers({ subPrefix: "3" });
    const other = await dir.listUsers({ subPrefix: "4", pageToken: nextToken as string }).catch((e) => e);
    expect(errorCode(other)).toBe("DIRECTORY.PAGE_TOKEN_INVALID");
    const garbage = await dir.listUsers({ pageToken: "not a token" }).catch((error) => error);
    expect(errorCode(garbage)).toBe("DIRECTORY.PAGE_TOKEN_INVALID");
  });

  it("keeps deletions and disables, and a listing under way skips nothing after a deletion", async () => {
    const dir = directory();
    const first = await dir.listUsers();
    const unconfirmed = dir.pool.usernameOf(
      Array.from({ length: SIZE }, (_, i) => i).find((i) => dir.pool.isUnconfirmed(i)) as number,
    );
    expect(await dir.deleteUser(unconfirmed)).toBe(true);
    expect(await dir.deleteUser(unconfirmed)).toBe(false);
    expect(await dir.deleteUser("user-000000100")).toBe(true);
    expect(dir.confirmedDeleted).toBe(dir.pool.isUnconfirmed(100) ? 0 : 1);
    expect(await dir.getUser("user-000000100")).toBeUndefined();
    await dir.disableUser("user-000000200");
    expect((await dir.getUser("user-000000200"))?.enabled).toBe(false);
    await dir.enableUser("user-000000200");
    expect((await dir.getUser("user-000000200"))?.enabled).toBe(true);
    await dir.disableUser("user-000000201");
    expect(errorCode(await dir.disableUser("user-000000100").catch((error) => error))).toBe("USER.NOT_FOUND");

    const rest = await listAll(dir, { pageToken: first.nextToken as string } as GeneratedUserQuery);
    const names = [...first.items, ...rest].map((user) => user.username);
    expect(names).not.toContain("user-000000100");
    expect(names).toHaveLength(SIZE - (unconfirmed < first.items.at(-1)!.username ? 1 : 2));
    expect(rest.find((user) => user.username === "user-000000201")?.enabled).toBe(false);
    expect(await dir.estimatedUserCount()).toBe(SIZE - 2);
    expect(dir.retainedBytes).toBe(2 * Math.ceil(SIZE / 8));
  });

  it("lists groups and their members: one group per user", async () => {
    const dir = directory();
    const groups = [];
    for await (const group of allPages((pageToken) => dir.listGroups(pageToken ? { pageToken } : {}))) {
      groups.push(group.name);
    }
    expect(groups).toHaveLength(7);
    await dir.deleteUser("user-000000003");
    const members = new Map<string, string>();
    for (const group of groups) {
      for await (const { username } of allPages((pageToken) =>
        dir.listGroupMembers(group, pageToken ? { pageToken } : {}),
      )) {
        expect(members.has(username)).toBe(false);
        members.set(username, group);
      }
    }
    expect(members.size).toBe(SIZE - 1);
    expect(members.get("user-000000010")).toBe("group-0003");
    expect((await dir.getUser("user-000000010", { includeGroups: true }))?.groups).toEqual(["group-0003"]);
    const unknown = await dir.listGroupMembers("group-0007").catch((error) => error);
    expect(errorCode(unknown)).toBe("DIRECTORY.GROUP_NOT_FOUND");
    await expect(dir.createUser()).rejects.toThrow(/generated pool/);
  });

  it("enforces Cognito's quotas on its clock and counts calls per category", async () => {
    const clock = new ManualClock();
    const dir = new GeneratedUserDirectory(pool(), { clock });
    for (let i = 0; i < 30; i += 1) await dir.listUsers();
    await dir.listGroupMembers("group-0001").then(
      () => expect.unreachable("the 31st UserList call in one second is throttled"),
      (error: unknown) => expect(isThrottlingError(error)).toBe(true),
    );
    clock.advance(1000);
    await dir.listGroupMembers("group-0001");
    expect(dir.usageOf("UserList")).toEqual({ admitted: 31, throttled: 1 });
  });
});
