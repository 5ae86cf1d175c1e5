import type { BackupRecord } from "../backup/backup-record.js";
import { parseSnapshotPart, verifyPart } from "../backup/snapshot.js";
import {
  type ImportFileLimits,
  mapUserToRow,
  parseImportHeader,
  type SkippedUser,
  writeImportFiles,
} from "../csv/index.js";
import { errorCode, ValidationError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock, Sleeper } from "../ports/clock.js";
import { allUsers, type UserDirectory } from "../ports/user-directory.js";
import {
  type ImportJob,
  TERMINAL_IMPORT_JOB_STATUSES,
  type UserImportService,
} from "../ports/user-import.js";
import { type Group, LEGACY_SUB_ATTRIBUTE, stableUserId, type User } from "../user/user.js";

/** Where the users to restore come from. */
export type RestoreSource =
  /** The latest snapshot, with any per-user backup captured after it taking precedence (the default). */
  | { readonly kind: "latest" }
  /** One chosen snapshot, as it was. */
  | { readonly kind: "snapshot"; readonly snapshotId: string }
  /** Per-user backups only (no snapshot has been taken yet, or it is not trusted). */
  | { readonly kind: "user-backups" };

/**
 * `import-job` (default): Cognito user import jobs — no messages, no monthly-active-user cost, users must
 * reset their password. `admin-create`: AdminCreateUser with messages suppressed — for small restores and for
 * places without import jobs.
 */
export type RestoreStrategy = "import-job" | "admin-create";

export interface RestoreOptions {
  readonly source?: RestoreSource;
  readonly strategy?: RestoreStrategy;
  /** Restore only these usernames (e.g. one user deleted by accident). */
  readonly usernames?: readonly string[];
}

export interface RestorePlan {
  readonly planId: string;
  readonly createdAt: Date;
  readonly strategy: RestoreStrategy;
  readonly source: {
    readonly kind: RestoreSource["kind"];
    readonly snapshotId?: string;
    readonly userBackupsUsed: number;
  };
  /** Groups the restored users belong to, to create in the target pool first. */
  readonly groups: readonly Group[];
  /** Users to restore, as backed up. */
  readonly users: readonly User[];
  /** Usernames already in the target pool: left untouched. */
  readonly existing: readonly string[];
  /** Users that cannot be restored, with the reason. */
  readonly skipped: readonly SkippedUser[];
  /** Per-user backups that could not be read (their location), left out of the plan. */
  readonly malformedBackups: readonly string[];
  /** Requested usernames (`options.usernames`) that no backup holds: nothing can bring them back. */
  readonly notFound: readonly string[];
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
  const source = options.source ?? { kind: "latest" };
  const strategy = options.strategy ?? "import-job";
  const createdAt = deps.clock.now();
  const byId = new Map<string, BackupRecord>();
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
        for (const record of parseSnapshotPart(text, entry.name)) byId.set(stableUserId(record.user), record);
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
      if (!known || known.capturedAt.getTime() < entry.record.capturedAt.getTime()) {
        byId.set(entry.userId, entry.record);
        userBackupsUsed += 1;
      }
    }
  }

  const wanted = options.usernames ? new Set(options.usernames) : undefined;
  const inTarget = new Set<string>();
  for await (const user of allUsers(deps.directory)) inTarget.add(user.username);

  const header =
    strategy === "import-job" ? parseImportHeader(await requireImporter(deps).getCsvHeader()) : undefined;
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
    const reason = header ? csvSkip(mapUserToRow(header, user)) : adminCreateSkip(user);
    if (reason) {
      skipped.push(reason);
      continue;
    }
    users.push(user);
    for (const name of user.groups) if (!groups.has(name)) groups.set(name, { name });
  }
  const neededGroups = new Set(users.flatMap((user) => user.groups));
  return {
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
}

export interface RestoreExecution {
  /** Import jobs run, one per CSV file, in order (import-job strategy). */
  readonly jobs: readonly ImportJob[];
  /** Users created (admin-create strategy) or reported imported by the jobs. */
  readonly created: number;
  readonly failed: number;
  readonly failureCodes: Readonly<Record<string, number>>;
}

export interface ExecuteOptions {
  /** How long to wait between two looks at a running import job. Default 5 s. */
  readonly pollIntervalMs?: number;
  /** Smaller CSV files than Cognito's maxima (500,000 users, 100 MB), e.g. to keep each job short. */
  readonly importFileLimits?: Partial<ImportFileLimits>;
}

/**
 * Brings the planned users back into the target pool. Import jobs run one after another (one job may be
 * active per account), each polled until it ends; each CSV file is built, uploaded and imported before the
 * next is built. Admin-create sends no message to anyone.
 */
export async function executeRestore(
  plan: RestorePlan,
  deps: RestoreDeps,
  options: ExecuteOptions = {},
): Promise<RestoreExecution> {
  const failureCodes: Record<string, number> = {};
  const fail = (code: string) => {
    failureCodes[code] = (failureCodes[code] ?? 0) + 1;
  };
  if (plan.strategy === "admin-create") {
    let created = 0;
    for (const user of plan.users) {
      try {
        await deps.directory.createUser(withLegacySub(user));
        created += 1;
      } catch (error) {
        fail(errorCode(error));
      }
    }
    return { jobs: [], created, failed: sum(failureCodes), failureCodes };
  }

  const importer = requireImporter(deps);
  const header = parseImportHeader(await importer.getCsvHeader());
  const jobs: ImportJob[] = [];
  // One file in memory at a time: each is imported as soon as it is complete.
  let chunks: string[] = [];
  await writeImportFiles(
    header,
    plan.users,
    {
      startFile: () => {
        chunks = [];
      },
      write: (chunk) => {
        chunks.push(chunk);
      },
      endFile: async (file) => {
        let job = await importer.createImportJob(`${plan.planId}-${file.index}`);
        await importer.uploadCsv(job.jobId, chunks.join(""));
        chunks = [];
        job = await importer.startImportJob(job.jobId);
        while (!TERMINAL_IMPORT_JOB_STATUSES.includes(job.status)) {
          await deps.sleeper.sleep(options.pollIntervalMs ?? 5000);
          job = await importer.describeImportJob(job.jobId);
        }
        jobs.push(job);
        if (job.failed > 0)
          failureCodes["IMPORT.USER_FAILED"] = (failureCodes["IMPORT.USER_FAILED"] ?? 0) + job.failed;
        if (job.status !== "Succeeded") fail(`IMPORT.JOB_${job.status.toUpperCase()}`);
      },
    },
    options.importFileLimits,
  );
  const created = jobs.reduce((total, job) => total + job.imported, 0);
  return { jobs, created, failed: sum(failureCodes), failureCodes };
}

export interface SubMapping {
  readonly username: string;
  /** The user's stable id: the sub before the restore (kept in `custom:legacy_sub`). */
  readonly oldSub: string;
  readonly newSub: string;
}

export interface RestoreFinalization {
  /** Planned users found in the target pool after the restore. */
  readonly restored: number;
  /** Planned users that are not in the target pool: the restore did not bring them back. */
  readonly missing: readonly string[];
  readonly groupsCreated: number;
  readonly membershipsAdded: number;
  readonly disabled: number;
  readonly subMapping: readonly SubMapping[];
  readonly failed: number;
  readonly failureCodes: Readonly<Record<string, number>>;
}

/**
 * Puts back what an import cannot carry: groups and memberships, the disabled flag; and reads the new subs.
 * Idempotent, so it can be run again after a partial failure.
 */
export async function finalizeRestore(
  plan: RestorePlan,
  deps: Pick<RestoreDeps, "directory">,
): Promise<RestoreFinalization> {
  const failureCodes: Record<string, number> = {};
  const fail = (error: unknown) => {
    const code = errorCode(error);
    failureCodes[code] = (failureCodes[code] ?? 0) + 1;
  };
  let groupsCreated = 0;
  for (const group of plan.groups) {
    try {
      if (await deps.directory.createGroup(group)) groupsCreated += 1;
    } catch (error) {
      fail(error);
    }
  }
  const missing: string[] = [];
  const subMapping: SubMapping[] = [];
  let membershipsAdded = 0;
  let disabled = 0;
  for (const backedUp of plan.users) {
    try {
      const current = await deps.directory.getUser(backedUp.username);
      if (!current) {
        missing.push(backedUp.username);
        continue;
      }
      subMapping.push({ username: backedUp.username, oldSub: stableUserId(backedUp), newSub: current.sub });
      for (const group of backedUp.groups) {
        await deps.directory.addUserToGroup(backedUp.username, group);
        membershipsAdded += 1;
      }
      if (!backedUp.enabled && current.enabled) {
        await deps.directory.disableUser(backedUp.username);
        disabled += 1;
      }
    } catch (error) {
      fail(error);
    }
  }
  return {
    restored: subMapping.length,
    missing,
    groupsCreated,
    membershipsAdded,
    disabled,
    subMapping,
    failed: sum(failureCodes),
    failureCodes,
  };
}

export interface RestoreReport {
  readonly plan: RestorePlan;
  readonly execution?: RestoreExecution;
  readonly finalization?: RestoreFinalization;
  /** True only when every requested and planned user is back with groups and flags, and nothing failed. */
  readonly complete: boolean;
}

/** Plan, then (unless `dryRun`) execute and finalize: a whole restore in one call. */
export async function restoreUsers(
  deps: RestoreDeps,
  options: RestoreOptions & ExecuteOptions & { readonly dryRun?: boolean } = {},
): Promise<RestoreReport> {
  const plan = await planRestore(deps, options);
  if (options.dryRun) return { plan, complete: false };
  const execution = await executeRestore(plan, deps, options);
  const finalization = await finalizeRestore(plan, deps);
  return {
    plan,
    execution,
    finalization,
    complete:
      plan.notFound.length === 0 &&
      finalization.missing.length === 0 &&
      finalization.failed === 0 &&
      execution.jobs.every((j) => j.status === "Succeeded"),
  };
}

function requireImporter(deps: RestoreDeps): UserImportService {
  if (!deps.importer) {
    throw new ValidationError(
      "RESTORE.INVALID_PLAN",
      "strategy",
      "import-job needs the target pool's import service",
    );
  }
  return deps.importer;
}

function csvSkip(result: ReturnType<typeof mapUserToRow>): SkippedUser | undefined {
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
function withLegacySub(user: User): User {
  return { ...user, attributes: { ...user.attributes, [LEGACY_SUB_ATTRIBUTE]: stableUserId(user) } };
}

function sum(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((total, n) => total + n, 0);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
