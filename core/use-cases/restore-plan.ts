/**
 * Planning a restore: which users come back, which are already in the target pool, which cannot be restored
 * and why. Planning changes nothing.
 */
import type { PlannedUser, RestoreChunk, RestorePlan, RestoreStrategy } from "../backup/restore-state.js";
import { forEachSnapshotRecord, type SnapshotManifest, verifyPart } from "../backup/snapshot.js";
import { parseGroupMembers } from "../backup/snapshot-files.js";
import {
  type CsvFileSink,
  type ImportFileLimits,
  type ImportHeader,
  type ImportRowEntry,
  importRowOf,
  MAX_ATTRIBUTE_BYTES,
  parseImportHeader,
  type SkippedUser,
  writeImportRows,
} from "../csv/index.js";
import { ValidationError } from "../errors.js";
import type { BackupReader } from "../ports/backup-store.js";
import type { Clock, Sleeper } from "../ports/clock.js";
import { allUsers, type UserDirectory } from "../ports/user-directory.js";
import type { UserImportService } from "../ports/user-import.js";
import { recordedUserId } from "../erasure/person.js";
import { erasedNow } from "../erasure/restore-filter.js";
import type { ErasureLedger } from "../ports/erasure-ledger.js";
import { type Group, LEGACY_SUB_ATTRIBUTE, normalizeGroups, stableUserId, type User } from "../user/user.js";

export type { PlannedUser, RestorePlan, RestoreStrategy } from "../backup/restore-state.js";

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
  /** import-job: smaller CSV files than Cognito's maxima (500,000 users, 100 MB), e.g. to keep each job short. */
  readonly importFileLimits?: Partial<ImportFileLimits>;
}

export interface RestoreDeps {
  readonly backups: BackupReader;
  /** The erasure ledger: erased people are never planned or restored. */
  readonly erasures: ErasureLedger;
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
  return (await preparePlan(deps, options)).plan;
}

/** A plan with what starting it needs besides: the import CSV header it was made with, and its files. */
export interface PreparedPlan {
  readonly plan: RestorePlan;
  /** import-job: the pool's CSV header the rows were made for. */
  readonly csvHeader?: string[];
  /** import-job: the files the planned users make under `options.importFileLimits`, in order. */
  readonly importChunks?: RestoreChunk[];
}

/**
 * {@link planRestore}, with the import CSV header the plan was made with and the files it cuts into
 * (import-job strategy).
 *
 * Memory: each backup is turned into what the restore needs of it (for import jobs, its CSV row) as soon as it
 * is read, so the full records of a snapshot are never all held at once; a user whose newer backup comes
 * later is replaced.
 */
export async function preparePlan(deps: RestoreDeps, options: RestoreOptions = {}): Promise<PreparedPlan> {
  const source = options.source ?? { kind: "latest" };
  const strategy = options.strategy ?? "import-job";
  const createdAt = deps.clock.now();
  const csvHeader = strategy === "import-job" ? await requireImporter(deps).getCsvHeader() : undefined;
  const header = csvHeader ? parseImportHeader(csvHeader) : undefined;
  const wanted = options.usernames ? new Set(options.usernames) : undefined;
  const erased = await erasedNow(deps.erasures);
  const invalidIds = new Map<string, SkippedUser>();

  // By stable id: the latest backup of each user, already turned into its planned form or its skip.
  const byId = new Map<string, Candidate>();
  const consider = (user: User, capturedAt: number): boolean => {
    if (wanted && !wanted.has(user.username)) return false;
    const id = recordedUserId(user);
    if (id === undefined) {
      // A stable id that is no UUID is never carried into a pool (nor into an object key).
      invalidIds.set(user.username, {
        username: user.username,
        reason: "INVALID_VALUE",
        detail: "custom:legacy_sub (else sub) is not a user id (a lowercase UUID)",
      });
      return false;
    }
    // An erased person stays erased: left out without a trace (their username is not even reported).
    if (erased.has(id)) return false;
    const known = byId.get(id);
    if (known && known.capturedAt >= capturedAt) return false;
    byId.set(id, {
      capturedAt,
      outcome: header ? importOutcome(header, user, id) : adminCreateOutcome(user, id),
    });
    return true;
  };
  const groups = new Map<string, Group>();
  let snapshotId: string | undefined;
  // A record that cannot be read in an intact part (its checksum matched) is one user left out, named by its
  // location: the rest of the restore goes on.
  const malformedBackups: string[] = [];

  if (source.kind !== "user-backups") {
    if (source.kind === "snapshot") snapshotId = source.snapshotId;
    else snapshotId = (await deps.backups.listSnapshots()).at(-1);
    if (snapshotId !== undefined) {
      const manifest = await deps.backups.getSnapshotManifest(snapshotId);
      for (const group of manifest.groups) groups.set(group.name, group);
      const memberships = await snapshotMemberships(deps.backups, manifest);
      for (const entry of manifest.parts) {
        const text = await deps.backups.getSnapshotPart(snapshotId, entry.name);
        verifyPart(entry, text);
        forEachSnapshotRecord(
          text,
          entry.name,
          (record) => {
            // Version 2 records carry no groups: the group files say whom each group holds.
            const user = memberships
              ? { ...record.user, groups: normalizeGroups(memberships.get(record.user.username) ?? []) }
              : record.user;
            consider(user, record.capturedAt.getTime());
          },
          (location) => malformedBackups.push(`snapshots/${snapshotId}/${location}`),
        );
      }
    }
  }

  let userBackupsUsed = 0;
  if (source.kind !== "snapshot") {
    for await (const entry of deps.backups.listUserBackups()) {
      if (entry.kind === "malformed") {
        malformedBackups.push(entry.location);
        continue;
      }
      if (consider(entry.record.user, entry.record.capturedAt.getTime())) userBackupsUsed += 1;
    }
  }

  const inTarget = new Set<string>();
  for await (const user of allUsers(deps.directory)) inTarget.add(user.username);

  // By username; of two users sharing one (a user deleted, then another signed up with the name), the one
  // backed up last is the pool's latest and wins.
  const candidates = [...byId.values()].sort(
    (a, b) => compare(usernameOf(a.outcome), usernameOf(b.outcome)) || b.capturedAt - a.capturedAt,
  );
  byId.clear();
  let users: PlannedUser[] = [];
  const existing: string[] = [];
  let skipped: SkippedUser[] = [];
  // Only a restore of named users reports the names it found no backup for.
  const seen = wanted ? new Set<string>(invalidIds.keys()) : undefined;
  let previous: string | undefined;
  for (const { outcome } of candidates) {
    const username = usernameOf(outcome);
    seen?.add(username);
    if (username === previous) {
      skipped.push({
        username,
        reason: "DUPLICATE_USERNAME",
        detail: "a later backup holds another user (another sub) with this username",
      });
      continue;
    }
    previous = username;
    if (inTarget.has(username)) existing.push(username);
    else if ("reason" in outcome) skipped.push(outcome);
    else users.push(outcome);
  }
  for (const [username, skip] of invalidIds) {
    if (!candidates.some(({ outcome }) => usernameOf(outcome) === username)) skipped.push(skip);
  }
  skipped.sort((a, b) => compare(a.username, b.username));

  let importChunks: RestoreChunk[] | undefined;
  if (header) {
    // Cutting the files also leaves out rows no file can hold under the chosen limits: they are skipped here,
    // so the plan's users are exactly the files' rows, file after file.
    const cut = await writeImportRows(header, importRowsOf(users), NO_SINK, options.importFileLimits);
    importChunks = cut.files.map((file) => ({ index: file.index, users: file.users }));
    if (cut.skipped.length > 0) {
      const left = new Set(cut.skipped.map((entry) => entry.username));
      users = users.filter((planned) => !left.has(planned.username));
      skipped = [...skipped, ...cut.skipped].sort((a, b) => compare(a.username, b.username));
    }
  }
  for (const planned of users)
    for (const name of planned.groups) if (!groups.has(name)) groups.set(name, { name });
  const neededGroups = new Set(users.flatMap((planned) => planned.groups));
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
    notFound: [...(wanted ?? [])].filter((username) => !seen?.has(username)).sort(compare),
  };
  return { plan, ...(csvHeader ? { csvHeader } : {}), ...(importChunks ? { importChunks } : {}) };
}

/**
 * Version 2: each username's groups, from the snapshot's group files (each checked against the manifest
 * first: a corrupt one stops the plan, naming it). Version 1: `undefined` (records carry their groups).
 * Held whole in memory: a plan of the whole pool holds every planned user anyway.
 */
async function snapshotMemberships(
  backups: BackupReader,
  manifest: SnapshotManifest,
): Promise<Map<string, string[]> | undefined> {
  if (manifest.version === 1) return undefined;
  const memberships = new Map<string, string[]>();
  for (const entry of manifest.groupFiles) {
    const text = await backups.getSnapshotFile(manifest.snapshotId, entry.name);
    if (text === undefined) {
      throw new ValidationError("SNAPSHOT.MALFORMED", entry.name, "is listed in the manifest but missing");
    }
    verifyPart(entry, text);
    for (const username of parseGroupMembers(text, entry.name)) {
      const groups = memberships.get(username);
      if (groups) groups.push(entry.group);
      else memberships.set(username, [entry.group]);
    }
  }
  return memberships;
}

/**
 * The planned users as import rows, for cutting files.
 *
 * @throws ValidationError `RESTORE.INVALID_PLAN` for a user without a row (a plan of another strategy).
 */
export function* importRowsOf(users: Iterable<PlannedUser>): Generator<ImportRowEntry> {
  for (const planned of users) {
    if (planned.row === undefined) {
      throw new ValidationError("RESTORE.INVALID_PLAN", "users", "an import-job plan's user has no CSV row");
    }
    yield planned as ImportRowEntry;
  }
}

const NO_SINK: CsvFileSink = {
  startFile: () => undefined,
  write: () => undefined,
  endFile: () => undefined,
};

/** A user some backup holds, as the plan would take it, with when that backup was captured (epoch ms). */
interface Candidate {
  readonly capturedAt: number;
  readonly outcome: PlannedUser | SkippedUser;
}

function usernameOf(outcome: PlannedUser | SkippedUser): string {
  return outcome.username;
}

/** import-job: the user's CSV row for the pool's header, or why it cannot be imported. */
function importOutcome(header: ImportHeader, user: User, sub: string): PlannedUser | SkippedUser {
  const mapped = importRowOf(header, user);
  if (mapped.kind === "skip") return mapped.skipped;
  return { username: user.username, sub, groups: user.groups, enabled: user.enabled, row: mapped.text };
}

/** admin-create: the user to create, or why it cannot be. */
function adminCreateOutcome(user: User, sub: string): PlannedUser | SkippedUser {
  const skip = adminCreateSkip(user);
  if (skip) return skip;
  return { username: user.username, sub, groups: user.groups, enabled: user.enabled, user: restorable(user) };
}

/**
 * The user as the restore needs it: without its creation and modification dates, which neither an import job
 * nor AdminCreateUser can set (Cognito gives the restored user its own).
 */
function restorable(user: User): User {
  if (user.createdAt === undefined && user.modifiedAt === undefined) return user;
  const { createdAt: _createdAt, modifiedAt: _modifiedAt, ...rest } = user;
  return rest;
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

/**
 * AdminCreateUser can recreate any user that once signed up and confirmed, but never a federated one, nor one
 * with an attribute value Cognito refuses ("Maximum characters per attribute: 2,048 bytes"): such a user is
 * skipped with a reason, and the rest of the restore goes on.
 */
function adminCreateSkip(user: User): SkippedUser | undefined {
  for (const [name, value] of Object.entries(user.attributes)) {
    if (name !== "sub" && Buffer.byteLength(value, "utf8") > MAX_ATTRIBUTE_BYTES) {
      return {
        username: user.username,
        reason: "INVALID_VALUE",
        detail: `${name} is longer than ${MAX_ATTRIBUTE_BYTES} bytes`,
      };
    }
  }
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
