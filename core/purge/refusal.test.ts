import { describe, expect, it } from "vitest";
import {
  ACCOUNT_POPULATION,
  clockOnlySince,
  IDENTITY_POPULATION,
  provenAgeWindowMs,
  refusalThreshold,
  shareOfPoolRefusal,
} from "./refusal.js";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const policy = { minAgeMs: DAY, maxShareOfPool: 0.05 };

describe("the refusal rule of both purges", () => {
  it("counts from max(minAge, 24 h) before the newest sign-up, and from nothing without one", () => {
    const newest = new Date("2026-03-01T12:00:00.000Z");
    expect(provenAgeWindowMs(HOUR)).toBe(DAY);
    expect(provenAgeWindowMs(3 * DAY)).toBe(3 * DAY);
    expect(clockOnlySince(newest, HOUR)).toEqual(new Date("2026-02-28T12:00:00.000Z"));
    expect(clockOnlySince(newest, 3 * DAY)).toEqual(new Date("2026-02-26T12:00:00.000Z"));
    expect(clockOnlySince(undefined, DAY)).toBeUndefined();
  });

  it("refuses only past the share of the pool, naming what each purge counts and the settings to check", () => {
    expect(
      shareOfPoolRefusal({ eligibleByClockOnly: 5, poolSize: 100, policy, population: IDENTITY_POPULATION }),
    ).toBeUndefined();
    const identities = shareOfPoolRefusal({
      eligibleByClockOnly: 6,
      poolSize: 100,
      policy,
      population: IDENTITY_POPULATION,
    });
    expect(identities?.reason).toBe("SHARE_OF_POOL_EXCEEDED");
    expect(identities?.message).toMatch(/^Refused: 6 of 100 users in the pool \(6%\)/);
    expect(identities?.message).toContain("created less than 1d before the newest sign-up");
    const accounts = shareOfPoolRefusal({
      eligibleByClockOnly: 6,
      poolSize: 100,
      policy,
      population: ACCOUNT_POPULATION,
    });
    expect(accounts?.message).toMatch(/^Refused: 6 of 100 rows in the users table \(6%\)/);
    for (const message of [identities?.message, accounts?.message]) {
      expect(message).toContain("purge.minAge");
      expect(message).toContain("purge.maxShareOfPool allows 5% (at most 5)");
    }
  });
});

describe("refusalThreshold", () => {
  it.each([
    [0, 0.05, 0],
    [1, 0.05, 1],
    [3, 0.05, 1],
    [100, 0.05, 5],
    [100, 0.29, 29],
    [1000, 1, 1000],
    [39, 0.05, 1],
    [40, 0.05, 2],
  ])("pool %d with share %d allows %d", (pool, share, allowed) => {
    expect(refusalThreshold(pool, share)).toBe(allowed);
  });
});
