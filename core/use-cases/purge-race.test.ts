/**
 * The identity purge racing a person who confirms their sign-up. Cognito has no conditional delete, so the
 * purge fences each deletion (disable, re-read, delete only if still UNCONFIRMED, else enable again), and the
 * Post Confirmation trigger refuses to report success for a disabled user ({@link confirmationHeldByFence}).
 *
 * Every interleaving is tried: the confirmation commits before the purge's k-th directory call, and the
 * trigger looks at the user before its j-th (j ≥ k), under both things a disabled user's ConfirmSignUp might
 * do (AWS does not document it: refused, or allowed). In none may a user whose confirmation succeeded — the
 * ConfirmSignUp returned and its trigger did not refuse — be deleted, or be left disabled.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../adapters/in-memory/clock.js";
import { type DisabledConfirmation, InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import type { UserDirectory } from "../ports/user-directory.js";
import { confirmationHeldByFence, DEFAULT_PURGE_POLICY } from "../purge/index.js";
import { aUser } from "../testing/builders.js";
import type { User } from "../user/user.js";
import { purgeUnconfirmedIdentities } from "./purge-unconfirmed-identities.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const policy = { ...DEFAULT_PURGE_POLICY, maxShareOfPool: 1 };
const BEHAVIOURS: readonly DisabledConfirmation[] = ["refused", "allowed"];

/** A directory that runs `before(n)` ahead of its n-th call (from 0), as another client would meanwhile. */
function interleaved(directory: InMemoryUserDirectory, before: (n: number) => void): UserDirectory {
  let n = 0;
  return new Proxy(directory, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        before(n);
        n += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

interface Race {
  /** The confirmation committed in Cognito. */
  committed: boolean;
  /** The trigger let ConfirmSignUp answer success. */
  succeeded: boolean;
  deleted: boolean;
  enabledAfter?: boolean;
  statusAfter?: string;
}

async function race(behaviour: DisabledConfirmation, confirmAt: number, triggerAt: number): Promise<Race> {
  const clock = new ManualClock(NOW);
  const directory = new InMemoryUserDirectory({ clock, disabledConfirmation: behaviour });
  const person = aUser({ status: "UNCONFIRMED", createdAt: new Date("2026-05-20T00:00:00.000Z") });
  directory.seed(person, ...Array.from({ length: 3 }, () => aUser()));
  const outcome: Race = { committed: false, succeeded: false, deleted: false };
  let triggered = false;
  const trigger = () => {
    if (triggered || !outcome.committed) return;
    triggered = true;
    // The trigger reads the user as it is now (AdminGetUser); gone means the trigger fails too.
    const now = directory.snapshot().find((u) => u.username === person.username);
    outcome.succeeded = now !== undefined && !confirmationHeldByFence(now);
  };
  const before = (n: number) => {
    if (n === confirmAt) {
      try {
        directory.commitSignUpConfirmation(person.username);
        outcome.committed = true;
      } catch {
        // refused, or already gone: nothing committed
      }
    }
    if (n === triggerAt) trigger();
  };
  await purgeUnconfirmedIdentities({ directory: interleaved(directory, before), clock }, { policy });
  before(Number.MAX_SAFE_INTEGER - 1);
  trigger();
  const after = directory.snapshot().find((u) => u.username === person.username);
  outcome.deleted = after === undefined;
  if (after) {
    outcome.enabledAfter = after.enabled;
    outcome.statusAfter = after.status;
  }
  return outcome;
}

/** How many directory calls one purge makes in this world, with no confirmation at all. */
async function callsOfOneRun(): Promise<number> {
  let calls = 0;
  const clock = new ManualClock(NOW);
  const directory = new InMemoryUserDirectory({ clock });
  directory.seed(
    aUser({ status: "UNCONFIRMED", createdAt: new Date("2026-05-20") }),
    aUser(),
    aUser(),
    aUser(),
  );
  await purgeUnconfirmedIdentities(
    { directory: interleaved(directory, () => (calls += 1)), clock },
    { policy },
  );
  return calls;
}

function holds(result: Race): void {
  if (result.succeeded) {
    expect(result.deleted, "a user whose confirmation succeeded was deleted").toBe(false);
  }
  if (!result.deleted && result.statusAfter === "CONFIRMED") {
    expect(result.enabledAfter, "a confirmed user was left disabled").toBe(true);
  }
  if (!result.committed) {
    // Nobody confirmed: the purge did its job.
    expect(result.deleted).toBe(true);
  }
}

describe("the identity purge racing a confirmation", () => {
  for (const behaviour of BEHAVIOURS) {
    it(`never deletes (nor leaves disabled) a user whose confirmation succeeded: every interleaving, ConfirmSignUp on a disabled user ${behaviour}`, async () => {
      const calls = await callsOfOneRun();
      for (let confirmAt = 0; confirmAt <= calls; confirmAt += 1) {
        for (let triggerAt = confirmAt; triggerAt <= calls + 1; triggerAt += 1) {
          const result = await race(behaviour, confirmAt, triggerAt);
          try {
            holds(result);
          } catch (error) {
            throw new Error(
              `confirm before call ${confirmAt}, trigger before call ${triggerAt}: ${(error as Error).message}`,
              { cause: error },
            );
          }
        }
      }
    });
  }

  it("holds for random interleavings of several people confirming during one purge (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BEHAVIOURS),
        fc.array(fc.tuple(fc.nat(60), fc.nat(5)), { minLength: 1, maxLength: 6 }),
        async (behaviour, confirmations) => {
          const clock = new ManualClock(NOW);
          const directory = new InMemoryUserDirectory({ clock, disabledConfirmation: behaviour });
          const people: User[] = Array.from({ length: 6 }, () =>
            aUser({ status: "UNCONFIRMED", createdAt: new Date("2026-05-20T00:00:00.000Z") }),
          );
          directory.seed(...people, ...Array.from({ length: 4 }, () => aUser()));
          const plans = confirmations.map(([at, delay], i) => ({
            person: people[i % people.length] as User,
            at,
            triggerAt: at + delay,
            committed: false,
            done: false,
            succeeded: false,
          }));
          const step = (n: number) => {
            for (const p of plans) {
              if (n === p.at && !p.committed) {
                try {
                  directory.commitSignUpConfirmation(p.person.username);
                  p.committed = true;
                } catch {
                  // refused or gone
                }
              }
              if (n >= p.triggerAt && p.committed && !p.done) {
                p.done = true;
                const now = directory.snapshot().find((u) => u.username === p.person.username);
                p.succeeded = now !== undefined && !confirmationHeldByFence(now);
              }
            }
          };
          await purgeUnconfirmedIdentities({ directory: interleaved(directory, step), clock }, { policy });
          step(Number.MAX_SAFE_INTEGER);
          const left = new Map(directory.snapshot().map((u) => [u.username, u]));
          for (const p of plans) {
            if (p.succeeded) expect(left.has(p.person.username)).toBe(true);
          }
          for (const user of left.values()) {
            if (user.status === "CONFIRMED") expect(user.enabled).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
