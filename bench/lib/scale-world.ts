/**
 * The world the `scale` bench's jobs run in: a generated pool behind the Cognito adapter's pacing, the tally
 * stores, an empty erasure ledger, and a clock. Each worker process builds one; a stepped job's world outlives
 * its steps (each step is a process of its own): {@link saveWorld} writes what the fakes changed (bitsets,
 * the stores' tallies, the clock) to a directory, {@link loadWorld} brings it back in the next process, as S3,
 * DynamoDB and Cognito outlive a Lambda invocation.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CognitoCalls } from "../../adapters/cognito/cognito-calls.js";
import type { CognitoOperation } from "../../adapters/cognito/quotas.js";
import type { AccountQuotas } from "../../adapters/in-memory/rate-limiter.js";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import type { Clock, Sleeper } from "../../core/ports/clock.js";
import type { UserDirectory } from "../../core/ports/user-directory.js";
import { GeneratedPool, GeneratedUserDirectory } from "./generated-pool.js";
import { TallyBackupStore, type TallyBackupStoreState, TallyProfileStore } from "./generated-sinks.js";

export const POOL_ID = "eu-west-1_scalebench";
export const NEWEST_SIGN_UP = new Date("2026-12-01T23:00:00.000Z");
/** When every job's clock starts. */
export const START = "2026-12-02T02:00:00.000Z";
/** The quota categories the figures report. */
export const CATEGORIES = ["UserList", "UserRead", "UserUpdate", "UserPoolRead", "GroupRead"] as const;

export interface PoolShape {
  readonly users: number;
  readonly unconfirmedOneIn: number;
  readonly groups: number;
}

export interface World {
  readonly pool: GeneratedPool;
  readonly generated: GeneratedUserDirectory;
  readonly backups: TallyBackupStore;
  readonly profiles: TallyProfileStore;
  readonly erasures: InMemoryErasureLedger;
}

/**
 * A fresh world over a pool of `shape`: 1 in 1,000 users with an out-of-date backup (and an old digest in
 * their profile) and 1 in 1,000 without a profile (what reconcile repairs). `filesDir`: where the backup store keeps its small snapshot files.
 */
export function createWorld(
  shape: PoolShape,
  clock: Clock,
  options: {
    readonly filesDir?: string;
    readonly quotas?: AccountQuotas;
    /** Profiles without a backup digest (the pool as it was before digests were recorded). */
    readonly withoutDigests?: boolean;
  } = {},
): World {
  const pool = new GeneratedPool({
    size: shape.users,
    unconfirmedOneIn: shape.unconfirmedOneIn,
    groups: shape.groups,
    newestSignUp: NEWEST_SIGN_UP,
  });
  const backups = new TallyBackupStore(pool, {
    staleBackupOneIn: 1000,
    capturedAt: NEWEST_SIGN_UP,
    userPoolId: POOL_ID,
    ...(options.filesDir === undefined ? {} : { filesDir: options.filesDir }),
  });
  return {
    pool,
    generated: new GeneratedUserDirectory(pool, {
      clock,
      ...(options.quotas ? { quotas: options.quotas } : {}),
    }),
    backups,
    // The users whose backup is out of date hold an old digest in their profile: the drifted users
    // reconcile reads from S3; every other profile's digest matches the user as listed.
    profiles: new TallyProfileStore(pool, {
      missingProfileOneIn: 1000,
      drifted: (index) => backups.wasStale(index),
      ...(options.withoutDigests === true ? { withoutDigests: true } : {}),
    }),
    erasures: new InMemoryErasureLedger(),
  };
}

interface SavedWorld {
  readonly clockMs: number;
  readonly confirmedDeleted: number;
  readonly backups: TallyBackupStoreState;
  readonly profileCounts: TallyProfileStore["counts"];
}

const BITSETS = ["deleted", "disabled", "written", "created", "digested"] as const;

/**
 * Writes what the world's fakes hold to `dir` (synchronously, then renamed into place: a process killed right
 * after has saved it whole). The snapshot files already live in `dir/files`.
 */
export function saveWorld(dir: string, world: World, clockMs: number): void {
  const directory = world.generated.saveState();
  const bits: Record<(typeof BITSETS)[number], Uint8Array> = {
    deleted: directory.deleted,
    disabled: directory.disabled,
    written: world.backups.written.bytes,
    created: world.profiles.created.bytes,
    digested: world.profiles.digested.bytes,
  };
  for (const name of BITSETS) writeAtomically(path.join(dir, `${name}.bits`), bits[name]);
  const saved: SavedWorld = {
    clockMs,
    confirmedDeleted: directory.confirmedDeleted,
    backups: world.backups.saveState(),
    profileCounts: { ...world.profiles.counts },
  };
  writeAtomically(path.join(dir, "world.json"), JSON.stringify(saved));
}

/** The world `dir` holds (as {@link saveWorld} left it), or a fresh one; and its clock's time, if saved. */
export function loadWorld(
  dir: string,
  shape: PoolShape,
  clock: Clock,
): { readonly world: World; readonly clockMs?: number } {
  const world = createWorld(shape, clock, { filesDir: path.join(dir, "files") });
  const file = path.join(dir, "world.json");
  if (!existsSync(file)) return { world };
  const saved = JSON.parse(readFileSync(file, "utf8")) as SavedWorld;
  const bits = (name: (typeof BITSETS)[number]) =>
    new Uint8Array(readFileSync(path.join(dir, `${name}.bits`)));
  world.generated.loadState({
    deleted: bits("deleted"),
    disabled: bits("disabled"),
    confirmedDeleted: saved.confirmedDeleted,
  });
  world.backups.loadState(saved.backups, bits("written"));
  world.profiles.loadState(bits("created"), bits("digested"), saved.profileCounts);
  return { world, clockMs: saved.clockMs };
}

function writeAtomically(file: string, data: string | Uint8Array): void {
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
}

const OPERATIONS: Readonly<Partial<Record<keyof UserDirectory, CognitoOperation>>> = {
  listUsers: "ListUsers",
  estimatedUserCount: "DescribeUserPool",
  getUser: "AdminGetUser",
  deleteUser: "AdminDeleteUser",
  disableUser: "AdminDisableUser",
  enableUser: "AdminEnableUser",
  createUser: "AdminCreateUser",
  listGroups: "ListGroups",
  listGroupMembers: "ListUsersInGroup",
  createGroup: "CreateGroup",
  addUserToGroup: "AdminAddUserToGroup",
};

export interface PacedDirectoryHooks {
  /** Before each call (may throw to stop the job). */
  readonly before?: (operation: CognitoOperation) => void;
  /** After each call that answered. */
  readonly after?: (operation: CognitoOperation, result: unknown) => void;
  /** Calls that failed after the adapter's retries, by operation (an error `isStop` says is not counted). */
  readonly failedCalls: Record<string, number>;
  readonly isStop?: (error: unknown) => boolean;
}

/**
 * The generated directory behind the Cognito adapter's own pacing and retries (a {@link CognitoCalls} of its
 * own: one function's process), as `CognitoUserDirectory` runs its SDK calls: only the transport differs.
 */
export function pacedDirectory(
  generated: GeneratedUserDirectory,
  clock: Clock & Sleeper,
  hooks: PacedDirectoryHooks,
): UserDirectory {
  const calls = new CognitoCalls({ clock, sleeper: clock });
  return new Proxy(generated, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      const operation = OPERATIONS[property as keyof UserDirectory];
      if (typeof value !== "function" || operation === undefined) return value;
      return async (...args: unknown[]) => {
        hooks.before?.(operation);
        try {
          const result = (await calls.run(operation, () =>
            (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
          )) as unknown;
          hooks.after?.(operation, result);
          return result;
        } catch (error) {
          if (!hooks.isStop?.(error)) hooks.failedCalls[operation] = (hooks.failedCalls[operation] ?? 0) + 1;
          throw error;
        }
      };
    },
  }) as UserDirectory;
}

/** Calls of each reported category admitted and throttled by the world's account so far. */
export function usageOf(
  generated: GeneratedUserDirectory,
): Record<string, { admitted: number; throttled: number }> {
  const usage: Record<string, { admitted: number; throttled: number }> = {};
  for (const category of CATEGORIES) usage[category] = generated.usageOf(category);
  return usage;
}
