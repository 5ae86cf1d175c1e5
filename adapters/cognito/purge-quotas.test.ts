/**
 * The identity purge's deletions throttled until a step's deadline, by another caller holding the account's
 * whole UserUpdate quota: the production pacing (CognitoCalls) over an in-memory pool whose account enforces
 * Cognito's quotas on a virtual clock. A call throttled until the deadline (`QUOTA.DEADLINE_REACHED`) makes the
 * step yield where it is; it is never a failed deletion, and nobody planned is skipped.
 */
import { describe, expect, it } from "vitest";
import type { UserDirectory } from "../../core/ports/user-directory.js";
import { DEFAULT_PURGE_POLICY } from "../../core/purge/index.js";
import { runSteps } from "../../core/steps/step.js";
import { aUser } from "../../core/testing/builders.js";
import {
  identityPurgeReport,
  identityPurgeStep,
  type PurgeState,
  startIdentityPurge,
} from "../../core/use-cases/purge-unconfirmed-identities.js";
import { VirtualClock } from "../in-memory/clock.js";
import { cognitoAccountQuotas, InMemoryUserDirectory } from "../in-memory/user-directory.js";
import { deadlineBoundStep } from "../shared/call-deadline.js";
import { CognitoCalls } from "./cognito-calls.js";
import type { CognitoOperation } from "./quotas.js";
import { COGNITO_QUOTAS } from "./quotas.js";

const DAY = 24 * 60 * 60 * 1000;

/** The pool's calls as the Cognito adapter makes them: each one paced and retried by `calls`. */
function paced(pool: InMemoryUserDirectory, calls: CognitoCalls): UserDirectory {
  const operations: Partial<Record<keyof UserDirectory, CognitoOperation>> = {
    listUsers: "ListUsers",
    estimatedUserCount: "DescribeUserPool",
    getUser: "AdminGetUser",
    disableUser: "AdminDisableUser",
    enableUser: "AdminEnableUser",
    deleteUser: "AdminDeleteUser",
  };
  return new Proxy(pool, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      const operation = operations[property as keyof UserDirectory];
      if (typeof value !== "function" || operation === undefined) return value;
      return (...args: unknown[]) =>
        calls.run(operation, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}

describe("the identity purge throttled until its step's deadline", () => {
  it("yields and carries on in the next step: no deletion counted failed, every planned user deleted, nobody left disabled", async () => {
    const clock = new VirtualClock("2026-06-01T12:00:00.000Z");
    const quotas = cognitoAccountQuotas(clock);
    const ago = (ms: number) => new Date(clock.now().getTime() - ms);
    const expired = Array.from({ length: 40 }, (_, i) =>
      aUser({ username: `expired-${i}`, status: "UNCONFIRMED", createdAt: ago(2 * DAY + i * 1000) }),
    );
    const members = Array.from({ length: 20 }, () => aUser({ createdAt: ago(100 * DAY) }));
    const pool = new InMemoryUserDirectory({ clock, quotas }).seed(...expired, ...members);
    const calls = new CognitoCalls({ clock, sleeper: clock, random: () => 0.5 });
    const directory = paced(pool, calls);

    // Once the plan is made, a caller that does not pace itself takes the whole UserUpdate quota every
    // second for three minutes (another job disabling users, an operator's script).
    let hog: Promise<void> | undefined;
    const startHog = () => {
      const until = clock.now().getTime() + 3 * 60_000;
      hog = (async () => {
        while (clock.now().getTime() < until) {
          for (let i = 0; i < COGNITO_QUOTAS.UserUpdate; i++) {
            void pool.enableUser(members[0]?.username ?? "").catch(() => 0);
          }
          await clock.sleep(1000);
        }
      })();
    };
    const states: PurgeState[] = [];
    const { state } = await runSteps(
      deadlineBoundStep(identityPurgeStep({ directory, clock }, { marginMs: 15_000, onPlan: startHog })),
      startIdentityPurge(clock, { policy: { ...DEFAULT_PURGE_POLICY, maxShareOfPool: 1 } }),
      { clock, stepBudgetMs: 60_000, onState: (s) => void states.push(s) },
    );
    await hog;
    const report = identityPurgeReport(clock, state);

    expect(quotas.usageOf("UserUpdate").throttled).toBeGreaterThan(0);
    expect(report).toMatchObject({ deleted: 40, failed: 0, failureCodes: {}, stoppedBy: "completed" });
    expect(report.skippedByReason).toEqual({});
    expect(
      pool
        .snapshot()
        .map((u) => u.username)
        .sort(),
    ).toEqual(members.map((u) => u.username).sort());
    expect(pool.snapshot().every((u) => u.enabled)).toBe(true);
    // Steps met the hog and gave back where they were, with the deletions they had made.
    const deleting = states.filter((s) => s.plan !== undefined && s.next < 40);
    expect(deleting.length).toBeGreaterThanOrEqual(2);
  });

  it("reads no page twice when its listing is throttled until a step's deadline", async () => {
    const clock = new VirtualClock("2026-06-01T12:00:00.000Z");
    const quotas = cognitoAccountQuotas(clock);
    const ago = (ms: number) => new Date(clock.now().getTime() - ms);
    const pool = new InMemoryUserDirectory({ clock, quotas, maxPageSize: 2 }).seed(
      ...Array.from({ length: 30 }, () => aUser({ status: "UNCONFIRMED", createdAt: ago(2 * DAY) })),
    );
    const calls = new CognitoCalls({ clock, sleeper: clock, random: () => 0.5 });
    // After the third page, a caller that does not pace itself takes the whole UserList quota for three minutes.
    let hog: Promise<void> | undefined;
    const startHog = () => {
      const until = clock.now().getTime() + 3 * 60_000;
      hog = (async () => {
        while (clock.now().getTime() < until) {
          for (let i = 0; i < COGNITO_QUOTAS.UserList; i++)
            void pool.listUsers({ pageSize: 1 }).catch(() => 0);
          await clock.sleep(1000);
        }
      })();
    };
    let pagesRead = 0;
    const directory = paced(pool, calls);
    const { state } = await runSteps(
      deadlineBoundStep(
        identityPurgeStep(
          { directory, clock },
          {
            marginMs: 15_000,
            onPage: () => {
              pagesRead += 1;
              if (pagesRead === 3) startHog();
            },
          },
        ),
      ),
      startIdentityPurge(clock, { policy: { ...DEFAULT_PURGE_POLICY, maxShareOfPool: 1, dryRun: true } }),
      { clock, stepBudgetMs: 60_000 },
    );
    await hog;
    expect(quotas.usageOf("ListUsers").throttled).toBeGreaterThan(0);
    expect(pagesRead).toBe(15);
    expect(identityPurgeReport(clock, state)).toMatchObject({
      eligible: 30,
      failed: 0,
      stoppedBy: "dry-run",
    });
  });
});
