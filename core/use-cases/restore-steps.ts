/**
 * A restore in resumable steps, so no single invocation has to outlive Lambda's 15 minutes:
 *
 * - {@link startRestore} plans, cuts the users into chunks and stores the plan and its first progress;
 * - {@link advanceRestore} does as much as fits before a deadline — one import job at a time (create, save its
 *   id, upload, start, look at it until it ends), or AdminCreateUser chunk by chunk; then the finalization
 *   (groups, memberships, disabled flags, new subs) slice by slice — saving the progress after every step;
 * - {@link restoreStatus} reads where a restore is, changing nothing.
 *
 * Every step is safe to run again after a crash: a job's id is saved before its CSV is uploaded, and on resume
 * the job is described and carried on from its status, so no chunk ever gets a second started job; a chunk of
 * AdminCreateUser calls interrupted half-way is run again, and a user its first attempt created counts as
 * created; finalization reads each user (with its groups) and adds only what is missing, so a slice run again
 * counts nothing twice. A failure that is not the user's own (throttling, an outage, a lost connection) stops
 * the step before its progress is saved, so the next advance does it again: such a failure is never recorded
 * as done. A user Cognito refuses for itself (an invalid attribute, an alias taken) is counted and the rest
 * goes on.
 *
 * Two advances of one restore at the same time cannot both go on: every progress write is conditional on the
 * version the advance last read or wrote (S3 If-Match), and an advance claims the restore with such a write
 * before doing anything. The one that loses stops with `RESTORE.CONFLICT` naming the plan id, having written
 * nothing; only the winner's counts are ever saved, so no user is counted twice.
 */
import {
  newRestoreProgress,
  type PlannedUser,
  RESTORE_PLAN_VERSION,
  type RestoreChunk,
  type RestoreChunkProgress,
  type RestoreFinalization,
  type RestoreFinalizationProgress,
  type RestorePlan,
  type RestoreProgress,
  type StoredRestorePlan,
  type SubMapping,
} from "../backup/restore-state.js";
import { importHeaderLine } from "../csv/index.js";
import {
  erasedNow,
  isErasedPlannedUser,
  removeErasedFromPool,
  withoutErased,
} from "../erasure/restore-filter.js";
import { errorCode, LifecycleError, ValidationError } from "../errors.js";
import type { RestoreStateStore } from "../ports/restore-state-store.js";
import { type Clock, remainingMs } from "../ports/clock.js";
import { type ImportJob, TERMINAL_IMPORT_JOB_STATUSES } from "../ports/user-import.js";
import type { User } from "../user/user.js";
import {
  importRowsOf,
  preparePlan,
  type RestoreDeps,
  type RestoreOptions,
  requireImporter,
  withLegacySub,
} from "./restore-plan.js";

/** What running a restore needs besides planning it: where its state is kept between steps. */
export interface RestoreRunDeps extends RestoreDeps {
  readonly restores: RestoreStateStore;
  /** Told the plan id the moment a new restore's plan is stored (before anything is restored). */
  readonly onPlanStored?: (planId: string) => void;
}

export interface RestoreExecution {
  /** The chunks' import jobs as last seen, in chunk order (import-job strategy). */
  readonly jobs: readonly ImportJob[];
  /** Users created (admin-create strategy) or reported imported by the jobs. */
  readonly created: number;
  readonly failed: number;
  readonly failureCodes: Readonly<Record<string, number>>;
}

export interface RestoreReport {
  readonly plan: RestorePlan;
  readonly execution?: RestoreExecution;
  readonly finalization?: RestoreFinalization;
  /** True only when every requested and planned user is back with groups and flags, and nothing failed. */
  readonly complete: boolean;
}

/** Where a started restore is. `finished`: nothing is left to do (`complete` says whether it all worked). */
export type RestoreState = "running" | "finished";

export interface RestoreStatus extends RestoreReport {
  readonly state: RestoreState;
  readonly execution: RestoreExecution;
  /** The pool the restore writes into, as its starter named it (absent: the caller's own pool). */
  readonly targetUserPoolId?: string;
  readonly progress: {
    readonly chunks: number;
    readonly chunksDone: number;
    /** Planned users whose groups, flags and new sub have been dealt with. */
    readonly usersFinalized: number;
  };
}

/** A started restore as read from the store. */
export interface LoadedRestore {
  readonly stored: StoredRestorePlan;
  readonly progress: RestoreProgress;
  /** The stored progress's version; absent when no progress was stored yet (a crash right after the plan). */
  readonly version?: string;
}

export interface StartRestoreOptions extends RestoreOptions {
  /** Kept with the plan, so a resume writes into the same pool: the pool id as the caller names it. */
  readonly targetUserPoolId?: string;
  /** admin-create: users per chunk; the progress is saved after each. Default 100 (2 s at 50 creations/s). */
  readonly adminCreateChunkSize?: number;
}

export interface AdvanceOptions {
  /**
   * When to stop starting new steps. Absent: run to the end. At least one step is always taken, so every
   * advance makes progress; a step is bounded (one chunk, one job look, one finalization slice).
   */
  readonly deadline?: Date;
  /** How long to wait between two looks at a running import job. Default 5 s. */
  readonly pollIntervalMs?: number;
  /** Planned users finalized per step. Default 200. */
  readonly finalizeChunkSize?: number;
}

const DEFAULT_ADMIN_CREATE_CHUNK = 100;
const DEFAULT_FINALIZE_CHUNK = 200;
const DEFAULT_POLL_MS = 5_000;
/**
 * A created job's pre-signed upload URL lives 15 minutes. A job found still `Created` after this long is
 * given up (it never started, so it imported nothing) and the chunk gets a new one.
 */
const UPLOAD_WINDOW_MS = 14 * 60_000;
/** Ids `restore-<time>`, then `-2`, `-3`… when a restore with that id exists already. */
const MAX_ID_SUFFIX = 100;

/**
 * Plans the restore and stores it (plan, then first progress): nothing is restored yet. Changes nothing in
 * the target pool.
 *
 * @throws whatever {@link preparePlan} throws (a corrupt snapshot part, no import service); then nothing
 *   is stored.
 */
export async function startRestore(
  deps: RestoreRunDeps,
  options: StartRestoreOptions = {},
): Promise<LoadedRestore> {
  const adminCreateChunk = positive(options.adminCreateChunkSize, DEFAULT_ADMIN_CREATE_CHUNK);
  const planned = await preparePlan(deps, options);
  const planId = await freePlanId(deps.restores, planned.plan.planId);
  const plan: RestorePlan = { ...planned.plan, planId };
  const chunks = planned.importChunks ?? sliceChunks(plan.users.length, adminCreateChunk);
  const stored: StoredRestorePlan = {
    version: RESTORE_PLAN_VERSION,
    plan,
    ...(options.targetUserPoolId === undefined ? {} : { targetUserPoolId: options.targetUserPoolId }),
    ...(options.usernames === undefined
      ? {}
      : { requestedUsernames: [...new Set(options.usernames)].sort() }),
    chunks,
    ...(planned.csvHeader ? { csvHeader: planned.csvHeader } : {}),
    ...(options.importFileLimits ? { importFileLimits: options.importFileLimits } : {}),
  };
  const progress = newRestoreProgress(
    plan.planId,
    chunks.map((c) => c.index),
    deps.clock.now(),
  );
  await deps.restores.putRestorePlan(stored);
  deps.onPlanStored?.(plan.planId);
  const version = await deps.restores.putRestoreProgress(progress, { ifAbsent: true });
  return { stored, progress, version };
}

/** What a restore was asked to do: two restores of one scope bring back the same users into one pool. */
export interface RestoreScope {
  readonly source?: RestoreOptions["source"];
  readonly strategy?: RestoreOptions["strategy"];
  readonly usernames?: readonly string[];
  readonly targetUserPoolId?: string;
}

/**
 * The newest unfinished restore of `scope`, if any: one an interrupted run left behind, which a rerun of the
 * same request must carry on rather than plan again (a new plan would count the users the first run brought
 * back as already in the pool, and leave their groups and flags undone). Reads only; a restore whose state
 * cannot be read is passed over.
 */
export async function findUnfinishedRestore(
  restores: RestoreStateStore,
  scope: RestoreScope,
): Promise<LoadedRestore | undefined> {
  for (const planId of (await restores.listRestores()).reverse()) {
    try {
      const read = await restores.getVersionedRestoreProgress(planId).catch((error: unknown) => {
        if (error instanceof LifecycleError && error.code === "RESTORE.NOT_FOUND") return undefined;
        throw error;
      });
      if (read?.progress.finishedAt !== undefined) continue;
      const loaded = await loadRestore(restores, planId);
      if (sameScope(loaded.stored, scope)) return loaded;
    } catch (error) {
      if (error instanceof ValidationError && error.code === "RESTORE.STATE_MALFORMED") continue;
      if (error instanceof LifecycleError && error.code === "RESTORE.NOT_FOUND") continue;
      throw error;
    }
  }
  return undefined;
}

/** Every unfinished restore (plan id, what it restores, how far it got), newest first. Reads only. */
export async function listUnfinishedRestores(restores: RestoreStateStore): Promise<RestoreStatus[]> {
  const unfinished: RestoreStatus[] = [];
  for (const planId of (await restores.listRestores()).reverse()) {
    let loaded: LoadedRestore;
    try {
      loaded = await loadRestore(restores, planId);
    } catch (error) {
      if (error instanceof ValidationError || error instanceof LifecycleError) continue;
      throw error;
    }
    if (loaded.progress.finishedAt === undefined) unfinished.push(restoreStatus(loaded));
  }
  return unfinished;
}

function sameScope(stored: StoredRestorePlan, scope: RestoreScope): boolean {
  const { plan } = stored;
  const source = scope.source ?? { kind: "latest" };
  const wanted = scope.usernames === undefined ? undefined : [...new Set(scope.usernames)].sort();
  return (
    plan.strategy === (scope.strategy ?? "import-job") &&
    plan.source.kind === source.kind &&
    (source.kind !== "snapshot" || plan.source.snapshotId === source.snapshotId) &&
    stored.targetUserPoolId === scope.targetUserPoolId &&
    JSON.stringify(stored.requestedUsernames) === JSON.stringify(wanted)
  );
}

/**
 * Reads a started restore. A restore whose first progress was never written (a crash right after its plan)
 * reads as not begun; nothing is written here.
 *
 * @throws LifecycleError `RESTORE.NOT_FOUND` naming the plan id; ValidationError `RESTORE.STATE_MALFORMED`.
 */
export async function loadRestore(restores: RestoreStateStore, planId: string): Promise<LoadedRestore> {
  const stored = await restores.getRestorePlan(planId);
  let progress: RestoreProgress;
  let version: string | undefined;
  try {
    ({ progress, version } = await restores.getVersionedRestoreProgress(planId));
  } catch (error) {
    if (!(error instanceof LifecycleError && error.code === "RESTORE.NOT_FOUND")) throw error;
    progress = newRestoreProgress(
      planId,
      stored.chunks.map((c) => c.index),
      stored.plan.createdAt,
    );
  }
  if (progress.planId !== planId || progress.chunks.length !== stored.chunks.length) {
    throw new ValidationError(
      "RESTORE.STATE_MALFORMED",
      `restore ${planId}: progress`,
      "does not match the restore's plan",
    );
  }
  return { stored, progress, ...(version === undefined ? {} : { version }) };
}

/** Where the restore is, from what was read: a pure function, so a status read never writes. */
export function restoreStatus(loaded: LoadedRestore): RestoreStatus {
  const { stored, progress } = loaded;
  const { plan } = stored;
  const failureCodes: Record<string, number> = {};
  const jobs: ImportJob[] = [];
  let created = 0;
  for (const chunk of progress.chunks) {
    addCounts(failureCodes, chunk.failureCodes);
    created += chunk.created;
    if (!chunk.job) continue;
    jobs.push(chunk.job);
    if (chunk.status !== "done") continue;
    created += chunk.job.imported;
    if (chunk.job.failed > 0) addCounts(failureCodes, { "IMPORT.USER_FAILED": chunk.job.failed });
    if (chunk.job.status !== "Succeeded") addCounts(failureCodes, { [jobFailureCode(chunk.job)]: 1 });
  }
  const execution: RestoreExecution = { jobs, created, failed: sum(failureCodes), failureCodes };
  const finished = progress.finishedAt !== undefined;
  const { groupsDone: _groupsDone, usersDone, ...finalization } = progress.finalization;
  return {
    state: finished ? "finished" : "running",
    plan,
    ...(stored.targetUserPoolId === undefined ? {} : { targetUserPoolId: stored.targetUserPoolId }),
    execution,
    ...(finished ? { finalization } : {}),
    progress: {
      chunks: progress.chunks.length,
      chunksDone: progress.chunks.filter((chunk) => chunk.status === "done").length,
      usersFinalized: usersDone,
    },
    complete:
      finished &&
      plan.notFound.length === 0 &&
      finalization.missing.length === 0 &&
      // Every planned membership and flag is in place then: a finalization step only ends with a user done
      // when its groups and flag are set, or when a failure of its own is counted here (anything else stops
      // the step, and it is done again).
      finalization.failed === 0 &&
      jobs.every((job) => job.status === "Succeeded"),
  };
}

/** Memberships the plan's users had when backed up: each must be in place for the restore to be complete. */
export function plannedMemberships(plan: RestorePlan): number {
  return plan.users.reduce((total, planned) => total + planned.groups.length, 0);
}

/** Planned users that were disabled when backed up. */
export function plannedDisabled(plan: RestorePlan): number {
  return plan.users.filter((planned) => !planned.enabled).length;
}

type StepOutcome = "progressed" | "waiting" | "finished";

/**
 * Takes the restore as far as it goes before `options.deadline`, saving the progress after every step, and
 * says where it is. A finished restore is returned as it is, with nothing written. See the module comment for
 * why a step can be run again after a crash.
 *
 * `deps` must be the target pool's (the one `stored.targetUserPoolId` names); the import service is needed
 * by the import-job strategy only.
 *
 * @throws LifecycleError `RESTORE.NOT_FOUND` / ValidationError `RESTORE.STATE_MALFORMED` for a restore that
 *   cannot be read; errors of the pool's and the store's adapters as they come (the progress saved so far
 *   stays, and the next advance carries on from it).
 */
export async function advanceRestore(
  deps: RestoreRunDeps,
  restore: string | LoadedRestore,
  options: AdvanceOptions = {},
): Promise<RestoreStatus> {
  const loaded = typeof restore === "string" ? await loadRestore(deps.restores, restore) : restore;
  if (loaded.progress.finishedAt !== undefined) return restoreStatus(loaded);
  let version = loaded.version;
  const persist = async (progress: RestoreProgress) => {
    version = await deps.restores.putRestoreProgress(
      progress,
      version === undefined ? { ifAbsent: true } : { ifVersion: version },
    );
  };
  const run = new Advance(deps, loaded, options, persist);
  // The claim: a conditional write before any effect, so of two advances started from one version only one
  // does anything at all.
  await run.claim();
  const pollMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
  for (let first = true; ; first = false) {
    if (!first && timeLeft(deps.clock, options.deadline) <= 0) break;
    const outcome = await run.step();
    if (outcome === "finished") break;
    if (outcome === "waiting") {
      if (timeLeft(deps.clock, options.deadline) <= pollMs) break;
      await deps.sleeper.sleep(pollMs);
    }
  }
  return restoreStatus({ stored: loaded.stored, progress: run.progress });
}

/** One advance: the restore's progress, changed and saved step by step. */
class Advance {
  progress: RestoreProgress;
  private readonly plan: RestorePlan;
  /** Jobs whose CSV this advance has uploaded: not uploaded again while waiting for a free job slot. */
  private readonly uploaded = new Set<string>();
  private erased: ReadonlySet<string> = new Set();

  constructor(
    private readonly deps: RestoreDeps,
    private readonly loaded: LoadedRestore,
    private readonly options: AdvanceOptions,
    private readonly persist: (progress: RestoreProgress) => Promise<void>,
  ) {
    this.progress = loaded.progress;
    this.plan = loaded.stored.plan;
  }

  /** Writes the progress as it is (a new `updatedAt`), under the advance's condition. */
  async claim(): Promise<void> {
    await this.save(this.progress);
  }

  async step(): Promise<StepOutcome> {
    // Who is erased now: an erasure while the restore runs takes effect at its next step.
    this.erased = await erasedNow(this.deps.erasures);
    const index = this.progress.chunks.findIndex((chunk) => chunk.status !== "done");
    if (index < 0) return this.finalizeStep();
    return this.plan.strategy === "admin-create" ? this.adminCreateStep(index) : this.importStep(index);
  }

  // ---- admin-create: one chunk per step ----

  private async adminCreateStep(index: number): Promise<StepOutcome> {
    const chunk = this.chunk(index);
    const users = chunkUsers(this.loaded.stored, index);
    // A chunk already `running` was begun by an advance that did not finish it: a user it created is there.
    const resumed = chunk.status === "running";
    if (!resumed) await this.saveChunk(index, { ...chunk, status: "running" });
    let created = 0;
    const failureCodes: Record<string, number> = {};
    for (const planned of users) {
      if (isErasedPlannedUser(planned, this.erased)) continue;
      try {
        await this.deps.directory.createUser(withLegacySub(this.fullUser(planned)));
        created += 1;
      } catch (error) {
        const code = errorCode(error);
        if (resumed && code === "DIRECTORY.USER_EXISTS") created += 1;
        else if (isUsersOwnFailure(code)) addCounts(failureCodes, { [code]: 1 });
        // Not the user's fault (throttled, an outage): the chunk stays `running` and is done again.
        else throw error;
      }
    }
    await this.saveChunk(index, { ...chunk, status: "done", created, failureCodes });
    return "progressed";
  }

  // ---- import-job: one job action per step ----

  private async importStep(index: number): Promise<StepOutcome> {
    const importer = requireImporter(this.deps);
    const chunk = this.chunk(index);
    if (!chunk.job) {
      const attempt = (chunk.abandonedJobIds?.length ?? 0) + 1;
      const name = `${this.plan.planId}-${chunk.index}${attempt > 1 ? `-${attempt}` : ""}`;
      const job = await importer.createImportJob(name);
      // Saved before the upload: after a crash from here on, the resume finds this job and never makes another.
      await this.saveChunk(index, { ...chunk, status: "running", job, jobCreatedAt: this.deps.clock.now() });
      return this.uploadAndStart(index, job);
    }
    const job = await importer.describeImportJob(chunk.job.jobId);
    if (job.status === "Created") {
      const createdAt = chunk.jobCreatedAt ?? this.plan.createdAt;
      if (this.deps.clock.now().getTime() - createdAt.getTime() > UPLOAD_WINDOW_MS) {
        return this.abandonJob(index, job);
      }
      return this.uploadAndStart(index, job);
    }
    // Expired: created and never started (Cognito's words: "not started within 24-48 hours").
    if (job.status === "Expired") return this.abandonJob(index, job);
    if (TERMINAL_IMPORT_JOB_STATUSES.includes(job.status)) {
      await this.saveChunk(index, { ...chunk, status: "done", job });
      return "progressed";
    }
    if (!sameJob(job, chunk.job)) await this.saveChunk(index, { ...chunk, job });
    return "waiting";
  }

  private async uploadAndStart(index: number, job: ImportJob): Promise<StepOutcome> {
    const importer = requireImporter(this.deps);
    if (!this.uploaded.has(job.jobId)) {
      await importer.uploadCsv(job.jobId, importFileText(this.loaded.stored, index, this.erased));
      this.uploaded.add(job.jobId);
    }
    let started: ImportJob;
    try {
      started = await importer.startImportJob(job.jobId);
    } catch (error) {
      // Another job of the account is running (one at a time): wait for it.
      if (errorCode(error) === "IMPORT.JOB_ALREADY_ACTIVE") return "waiting";
      throw error;
    }
    await this.saveChunk(index, { ...this.chunk(index), job: started });
    return "progressed";
  }

  private async abandonJob(index: number, job: ImportJob): Promise<StepOutcome> {
    const { job: _job, jobCreatedAt: _at, ...chunk } = this.chunk(index);
    await this.saveChunk(index, {
      ...chunk,
      status: "pending",
      abandonedJobIds: [...(chunk.abandonedJobIds ?? []), job.jobId],
    });
    return "progressed";
  }

  /** What the strategy needs of a planned user; a plan read from the store always has it (checked on read). */
  private fullUser(planned: PlannedUser): User {
    if (planned.user === undefined) {
      throw new ValidationError(
        "RESTORE.STATE_MALFORMED",
        `restore ${this.plan.planId}: users`,
        `a ${this.plan.strategy} plan's user has no user record`,
      );
    }
    return planned.user;
  }

  // ---- finalization: groups, then slices of users ----

  private async finalizeStep(): Promise<StepOutcome> {
    const f = this.progress.finalization;
    const failureCodes: Record<string, number> = { ...f.failureCodes };
    const fail = (error: unknown) => {
      const code = errorCode(error);
      // Not the user's (or group's) own: stop before saving, so the next advance does this slice again.
      if (!isUsersOwnFailure(code)) throw error;
      addCounts(failureCodes, { [code]: 1 });
    };
    if (!f.groupsDone) {
      let groupsCreated = 0;
      for (const group of this.plan.groups) {
        try {
          if (await this.deps.directory.createGroup(group)) groupsCreated += 1;
        } catch (error) {
          fail(error);
        }
      }
      await this.saveFinalization({ ...f, groupsDone: true, groupsCreated, failureCodes });
      return "progressed";
    }
    const size = positive(this.options.finalizeChunkSize, DEFAULT_FINALIZE_CHUNK);
    const slice = this.plan.users.slice(f.usersDone, f.usersDone + size);
    const missing = [...f.missing];
    const subMapping: SubMapping[] = [...f.subMapping];
    let { membershipsAdded, disabled, membershipsInPlace, disabledInPlace } = f;
    for (const backedUp of slice) {
      if (isErasedPlannedUser(backedUp, this.erased)) {
        // Erased while this restore ran: an import job that had already started may have brought them back.
        await removeErasedFromPool(this.deps.directory, backedUp).catch(fail);
        continue;
      }
      let current: User | undefined;
      try {
        current = await this.deps.directory.getUser(backedUp.username, { includeGroups: true });
      } catch (error) {
        fail(error);
        continue;
      }
      if (!current) {
        missing.push(backedUp.username);
        continue;
      }
      subMapping.push({ username: backedUp.username, oldSub: backedUp.sub, newSub: current.sub });
      const has = new Set(current.groups);
      for (const group of backedUp.groups) {
        if (has.has(group)) {
          membershipsInPlace += 1;
          continue;
        }
        try {
          await this.deps.directory.addUserToGroup(backedUp.username, group);
          membershipsAdded += 1;
          membershipsInPlace += 1;
        } catch (error) {
          fail(error);
        }
      }
      if (!backedUp.enabled) {
        try {
          if (current.enabled) {
            await this.deps.directory.disableUser(backedUp.username);
            disabled += 1;
          }
          disabledInPlace += 1;
        } catch (error) {
          fail(error);
        }
      }
    }
    const usersDone = f.usersDone + slice.length;
    const finished = usersDone >= this.plan.users.length;
    await this.saveFinalization(
      {
        ...f,
        usersDone,
        restored: subMapping.length,
        missing,
        membershipsAdded,
        disabled,
        membershipsInPlace,
        disabledInPlace,
        subMapping,
        failed: sum(failureCodes),
        failureCodes,
      },
      finished,
    );
    return finished ? "finished" : "progressed";
  }

  // ---- saving ----

  private chunk(index: number): RestoreChunkProgress {
    return this.progress.chunks[index] as RestoreChunkProgress;
  }

  private async saveChunk(index: number, chunk: RestoreChunkProgress): Promise<void> {
    const chunks = [...this.progress.chunks];
    chunks[index] = chunk;
    await this.save({ ...this.progress, chunks });
  }

  private async saveFinalization(finalization: RestoreFinalizationProgress, finished = false): Promise<void> {
    const failed = sum(finalization.failureCodes);
    await this.save({
      ...this.progress,
      finalization: { ...finalization, failed },
      ...(finished ? { finishedAt: this.deps.clock.now() } : {}),
    });
  }

  private async save(progress: RestoreProgress): Promise<void> {
    const next = { ...progress, updatedAt: this.deps.clock.now() };
    await this.persist(next);
    this.progress = next;
  }
}

/** The users of chunk `index` (from 0): the next `users` of the plan after the chunks before it. */
export function chunkUsers(stored: StoredRestorePlan, index: number): readonly PlannedUser[] {
  const { chunks } = stored;
  const chunk = chunks[index];
  if (chunk === undefined) {
    throw new ValidationError(
      "RESTORE.INVALID_PLAN",
      "chunk",
      `the plan has ${chunks.length} chunks, not ${index + 1}`,
    );
  }
  const offset = chunks.slice(0, index).reduce((total, c) => total + c.users, 0);
  return stored.plan.users.slice(offset, offset + chunk.users);
}

/**
 * The import CSV file of chunk `index` (from 0) of an import-job plan: the header line, then the chunk's rows
 * as planned — the very file the start cut, whenever it is asked for — less anyone `erased` since.
 *
 * @throws ValidationError `RESTORE.INVALID_PLAN` for a plan of another strategy.
 */
export function importFileText(
  stored: StoredRestorePlan,
  index: number,
  erased: ReadonlySet<string> = new Set(),
): string {
  const lines = [importHeaderLine(stored.csvHeader ?? [])];
  for (const { row } of importRowsOf(withoutErased(chunkUsers(stored, index), erased))) lines.push(row);
  return lines.join("");
}

// ---- helpers ----

function sliceChunks(users: number, size: number): RestoreChunk[] {
  const chunks: RestoreChunk[] = [];
  for (let from = 0; from < users; from += size) {
    chunks.push({ index: chunks.length + 1, users: Math.min(size, users - from) });
  }
  return chunks;
}

async function freePlanId(restores: RestoreStateStore, base: string): Promise<string> {
  for (let n = 1; n <= MAX_ID_SUFFIX; n += 1) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    try {
      await restores.getRestorePlan(candidate);
    } catch (error) {
      if (error instanceof LifecycleError && error.code === "RESTORE.NOT_FOUND") return candidate;
      throw error;
    }
  }
  throw new ValidationError("RESTORE.INVALID_PLAN", "planId", `${MAX_ID_SUFFIX} restores share this instant`);
}

function positive(value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen < 1) {
    throw new ValidationError("RESTORE.INVALID_PLAN", "chunk size", "must be a whole number of at least 1");
  }
  return chosen;
}

function timeLeft(clock: Clock, deadline: Date | undefined): number {
  return deadline === undefined ? Number.POSITIVE_INFINITY : remainingMs(clock, deadline);
}

function sameJob(a: ImportJob, b: ImportJob): boolean {
  return (
    a.status === b.status && a.imported === b.imported && a.skipped === b.skipped && a.failed === b.failed
  );
}

function jobFailureCode(job: ImportJob): string {
  return `IMPORT.JOB_${job.status.toUpperCase()}`;
}

function addCounts(into: Record<string, number>, counts: Readonly<Record<string, number>>): void {
  for (const [code, n] of Object.entries(counts)) into[code] = (into[code] ?? 0) + n;
}

/**
 * Failures that are the user's (or group's) own, so doing the call again would fail again: Cognito refusing
 * an attribute or an alias, the user or group not there. Anything else — throttling, an outage, a lost
 * connection, an error not known here — stops the step unsaved, and the next advance does it again.
 */
const USERS_OWN_FAILURES: ReadonlySet<string> = new Set([
  "USER.INVALID",
  "USER.NOT_FOUND",
  "DIRECTORY.USER_EXISTS",
  "DIRECTORY.GROUP_NOT_FOUND",
  "InvalidParameterException",
  "AliasExistsException",
  "UnsupportedUserStateException",
  "InvalidPasswordException",
]);

function isUsersOwnFailure(code: string): boolean {
  return USERS_OWN_FAILURES.has(code);
}

function sum(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((total, n) => total + n, 0);
}
