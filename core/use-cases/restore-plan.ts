/**
 * Planning a restore: which users come back, which are already in the target pool, which cannot be restored
 * and why. Planning changes nothing.
 */
import type { RestorePlan, RestoreStrategy } from "../backup/restore-state.js";
import { forEachSnapshotRecord, verifyPart } from "../backup/snapshot.js";
import { importRowOf, parseImportHeader, type SkippedUser } from "../csv/index.js";
import { ValidationError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock, Sleeper } from "../ports/clock.js";
import { allUsers, type UserDirectory } from "../ports/user-directory.js";
import type { UserImportService } from "../ports/user-import.js";
import { type Group, LEGACY_SUB_ATTRIBUTE, stableUserId, type User } from "../user/user.js";

export type { RestorePlan, RestoreStrategy } from "../backup/restore-state.js";

/** Where the users to restore come from. */
export type RestoreSource =
  /** The latest snapshot, with any per-user backup captured after it taking precedence (the default). */
  | { readonly kind: "latest" }
  /** One chosen snapshot, as it was. */
  | { readonly kind: "snapshot"; readonly snapshotId: string }
  /** Per-user backups only (no snapshot has been taken yet, or it is not trusted). */
  | { readonly kind: "user-backups" };

export interface RestoreOptions {
  readonly source?: RestoreSource;
  readonly strategy?: RestoreStrategy;
  /** Restore only these usernames (e.g. one user deleted by accident). */
  readonly usernames?: readonly string[];
}

export interface RestoreDeps {
  readonly backups: BackupStore;
  /** The target pool. */
  readonly directory: UserDirectory;
  /** The target pool's import jobs (needed by the `import-job` strategy). */
  readonly importer?: UserImportService;
  readonly clock: Clock;
  readonly sleeper: Sleeper;
}

/**
 * Works out what a restore would do, without changing anything: which users come back, which are already in
 * the target pool, which cannot be restored and why. Every snapshot part is checked against its manifest
 * first: a corrupt part stops the plan (naming the part) before anything is imported.
 */
export async function planRestore(deps: RestoreDeps, options: RestoreOptions = {}): Promise<RestorePlan> {
  return (await planWithHeader(deps, options)).plan;
}

/**
 * {@link planRestore}, with the import CSV header the plan was made with (import-job strategy), so the
 * restore's files are cut with the very header its skip decisions used.
 */
export async function planWithHeader(
  deps: RestoreDeps,
  options: RestoreOptions = {},
): Promise<{ plan: RestorePlan; csvHeader?: string[] }> {
  const source = options.source ?? { kind: "latest" };
  const strategy = options.strategy ?? "import-job";
  const createdAt = deps.clock.now();
  // Only what the restore needs of each backup: the user, and when it was captured (to let a later per-user
  // backup win). The records themselves (source, version, a Date per record) are dropped as they are read.
  const byId = new Map<string, Candidate>();
  const groups = new Map<string, Group>();
  let snapshotId: string | undefined;

  if (source.kind !== "user-backups") {
    if (source.kind === "snapshot") snapshotId = source.snapshotId;
    else snapshotId = (await deps.backups.listSnapshots()).at(-1);
    if (snapshotId !== undefined) {
      const manifest = await deps.backups.getSnapshotManifest(snapshotId);
      for (const group of manifest.groups) groups.set(group.name, group);
      for (const entry of manifest.parts) {
        const text = await deps.backups.getSnapshotPart(snapshotId, entry.name);
        verifyPart(entry, text);
        // Record by record: only the slimmed user outlives its line.
        forEachSnapshotRecord(text, entry.name, (record) => {
          byId.set(stableUserId(record.user), {
            user: restorable(record.user),
            capturedAt: record.capturedAt.getTime(),
          });
        });
      }
    }
  }

  let userBackupsUsed = 0;
  const malformedBackups: string[] = [];
  if (source.kind !== "snapshot") {
    for await (const entry of deps.backups.listUserBackups()) {
      if (entry.kind === "malformed") {
        malformedBackups.push(entry.location);
        continue;
      }
      const known = byId.get(entry.userId);
      const capturedAt = entry.record.capturedAt.getTime();
      if (!known || known.capturedAt < capturedAt) {
        byId.set(entry.userId, { user: restorable(entry.record.user), capturedAt });
        userBackupsUsed += 1;
      }
    }
  }

  const wanted = options.usernames ? new Set(options.usernames) : undefined;
  const inTarget = new Set<string>();
  for await (const user of allUsers(deps.directory)) inTarget.add(user.username);

  const csvHeader = strategy === "import-job" ? await requireImporter(deps).getCsvHeader() : undefined;
  const header = csvHeader ? parseImportHeader(csvHeader) : undefined;
  const users: User[] = [];
  const existing: string[] = [];
  const skipped: SkippedUser[] = [];
  const records = [...byId.values()].sort((a, b) => compare(a.user.username, b.user.username));
  const seen = new Set<string>();
  for (const { user } of records) {
    if (wanted && !wanted.has(user.username)) continue;
    seen.add(user.username);
    if (inTarget.has(user.username)) {
      existing.push(user.username);
      continue;
    }
    // The row is remembered for this user and header (importRowOf), so the restore's files reuse it.
    const reason = header ? csvSkip(importRowOf(header, user)) : adminCreateSkip(user);
    if (reason) {
      skipped.push(reason);
      continue;
    }
    users.push(user);
    for (const name of user.groups) if (!groups.has(name)) groups.set(name, { name });
  }
  const neededGroups = new Set(users.flatMap((user) => user.groups));
  const plan: RestorePlan = {
    planId: `restore-${createdAt.toISOString().replace(/[:.]/g, "-")}`,
    createdAt,
    strategy,
    source: { kind: source.kind, ...(snapshotId ? { snapshotId } : {}), userBackupsUsed },
    groups: [...groups.values()].filter((group) => neededGroups.has(group.name)),
    users,
    existing,
    skipped,
    malformedBackups,
    notFound: [...(wanted ?? [])].filter((username) => !seen.has(username)).sort(compare),
  };
  return { plan, ...(csvHeader ? { csvHeader } : {}) };
}

/**
 * The user as the restore needs it: without its creation and modification dates, which neither an import job
 * nor AdminCreateUser can set (Cognito gives the restored user its own). Two Date objects per user are a large
 * share of a plan of 100,000s of users.
 */
function restorable(user: User): User {
  if (user.createdAt === undefined && user.modifiedAt === undefined) return user;
  const { createdAt: _createdAt, modifiedAt: _modifiedAt, ...rest } = user;
  return rest;
}

/** A user some backup holds, with the time that backup was captured (epoch milliseconds). */
interface Candidate {
  readonly user: User;
  readonly capturedAt: number;
}

export function requireImporter(deps: Pick<RestoreDeps, "importer">): UserImportService {
  if (!deps.importer) {
    throw new ValidationError(
      "RESTORE.INVALID_PLAN",
      "strategy",
      "import-job needs the target pool's import service",
    );
  }
  return deps.importer;
}

function csvSkip(result: ReturnType<typeof importRowOf>): SkippedUser | undefined {
  return result.kind === "skip" ? result.skipped : undefined;
}

/** AdminCreateUser can recreate any user that once signed up and confirmed, but never a federated one. */
function adminCreateSkip(user: User): SkippedUser | undefined {
  if (user.status === "UNCONFIRMED") {
    return { username: user.username, reason: "UNCONFIRMED", detail: "the user never confirmed sign-up" };
  }
  if (user.status === "EXTERNAL_PROVIDER" || user.attributes.identities !== undefined) {
    return {
      username: user.username,
      reason: "EXTERNAL_PROVIDER",
      detail: "federated users sign in through their provider",
    };
  }
  return undefined;
}

/** The user as it should be created: its original sub carried in `custom:legacy_sub`. */
export function withLegacySub(user: User): User {
  return { ...user, attributes: { ...user.attributes, [LEGACY_SUB_ATTRIBUTE]: stableUserId(user) } };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
