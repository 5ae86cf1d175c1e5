/**
 * A restore as it is kept between the steps that run it, so a restore too long for one Lambda invocation can
 * be started in one and resumed in the next. Two versioned JSON documents:
 *
 * - the **plan** (`cognito-user-lifecycle/restore-plan`): what the restore brings back and how the users are
 *   cut into chunks. Written once, when the restore starts; it can hold 100,000+ users, so it is never
 *   rewritten. With import jobs, each user is kept as its import CSV row (plus username, old sub, groups and
 *   enabled flag for the finalization): a resume cuts the very files the start cut, and a plan of 500,000
 *   users stays a fraction of the size of their backups.
 * - the **progress** (`cognito-user-lifecycle/restore-progress`): per chunk, the import job (id, status,
 *   counts) or the users created; then how far the finalization (groups, memberships, disabled flags, new
 *   subs) got. Rewritten after every step, so it stays small until the finalization's results pile up.
 *
 * Re-planning at resume time would not do: users restored by the first steps would then be counted as
 * already in the pool. Both documents hold usernames and user attributes: they are personal data, and are
 * never logged.
 */
// No message locale is loaded here: these are the system's own documents, and an error names the field.
// Processes that show zod's messages to people (the restore handler, the CLI) load core/validation.ts.
import * as z from "zod/mini";
import type { ImportFileLimits, SkippedUser } from "../csv/index.js";
import { issuePath, ValidationError } from "../errors.js";
import { IMPORT_JOB_STATUSES, type ImportJob } from "../ports/user-import.js";
import { type Group, normalizeGroups, type User } from "../user/user.js";
import { readUserType, toUserType } from "./backup-record.js";
import type { ReadContext } from "./json-reader.js";

export const RESTORE_PLAN_FORMAT = "cognito-user-lifecycle/restore-plan";
export const RESTORE_PROGRESS_FORMAT = "cognito-user-lifecycle/restore-progress";
/** 2: users as {@link PlannedUser} (import-job: their CSV row). 1 held every user's full record. */
export const RESTORE_PLAN_VERSION = 2;

/**
 * `import-job` (default): Cognito user import jobs — no messages, no monthly-active-user cost, users must
 * reset their password. `admin-create`: AdminCreateUser with messages suppressed — for small restores and for
 * places without import jobs.
 */
export type RestoreStrategy = "import-job" | "admin-create";
export const RESTORE_STRATEGIES = ["import-job", "admin-create"] as const;
export const RESTORE_SOURCE_KINDS = ["latest", "snapshot", "user-backups"] as const;
export type RestoreSourceKind = (typeof RESTORE_SOURCE_KINDS)[number];

/** Plan ids become object keys: letters, digits, `-` and `_` only (e.g. `restore-2026-06-10T12-00-00-000Z`). */
export const RESTORE_PLAN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export interface RestorePlan {
  readonly planId: string;
  readonly createdAt: Date;
  readonly strategy: RestoreStrategy;
  readonly source: {
    readonly kind: RestoreSourceKind;
    readonly snapshotId?: string;
    readonly userBackupsUsed: number;
  };
  /** Groups the restored users belong to, to create in the target pool first. */
  readonly groups: readonly Group[];
  /**
   * Users to restore, in the order they are restored (by username): for import jobs, consecutive runs of them
   * are the chunks' files.
   */
  readonly users: readonly PlannedUser[];
  /** Usernames already in the target pool: left untouched. */
  readonly existing: readonly string[];
  /** Users that cannot be restored, with the reason. */
  readonly skipped: readonly SkippedUser[];
  /** Per-user backups that could not be read (their location), left out of the plan. */
  readonly malformedBackups: readonly string[];
  /** Requested usernames (`options.usernames`) that no backup holds: nothing can bring them back. */
  readonly notFound: readonly string[];
}

/**
 * A user the restore brings back, as much of it as the restore needs — and no more, since a plan can hold
 * 100,000s of them: what the import job or AdminCreateUser is given, then what the finalization needs
 * (groups, enabled flag, the sub to map to the new one).
 */
export interface PlannedUser {
  readonly username: string;
  /** The user's stable id before the restore (see `stableUserId`), carried in `custom:legacy_sub`. */
  readonly sub: string;
  /** Groups to add the user to once restored, sorted. */
  readonly groups: readonly string[];
  /** False: the user is disabled once restored. */
  readonly enabled: boolean;
  /** import-job: the user's record in the import CSV, escaped, followed by `\n`. */
  readonly row?: string;
  /** admin-create: the user as backed up, without its creation and modification dates (a restore cannot set them). */
  readonly user?: User;
}

/** One chunk of the plan's users: an import CSV file (import-job) or a slice of users (admin-create). */
export interface RestoreChunk {
  /** From 1, in the order the chunks run. */
  readonly index: number;
  /** Users in the chunk. */
  readonly users: number;
}

/** A started restore's plan, as stored: written once. */
export interface StoredRestorePlan {
  readonly version: typeof RESTORE_PLAN_VERSION;
  readonly plan: RestorePlan;
  /** The pool the restore writes into, as the caller named it; absent: the caller's own pool. */
  readonly targetUserPoolId?: string;
  /** The usernames the restore was asked for (sorted), when it was asked for some: part of its scope. */
  readonly requestedUsernames?: readonly string[];
  /** How the users are cut: each chunk is the next `users` of `plan.users`. */
  readonly chunks: readonly RestoreChunk[];
  /** import-job: the pool's CSV header at start, the first line of every file. */
  readonly csvHeader?: readonly string[];
  /** import-job: the file limits the chunks were cut with. */
  readonly importFileLimits?: Partial<ImportFileLimits>;
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
  /** Memberships this restore added (one a crashed step added and its rerun found is not counted again). */
  readonly membershipsAdded: number;
  /** Users this restore disabled, as their backup says they were. */
  readonly disabled: number;
  /** Planned memberships seen in place (found, or added) for the users finalized so far. */
  readonly membershipsInPlace: number;
  /** Planned disabled flags seen in place (found, or set) for the users finalized so far. */
  readonly disabledInPlace: number;
  readonly subMapping: readonly SubMapping[];
  readonly failed: number;
  readonly failureCodes: Readonly<Record<string, number>>;
}

/** `pending`: not begun. `running`: begun (a job created or started; users being created). `done`: ended. */
export type RestoreChunkStatus = "pending" | "running" | "done";

export interface RestoreChunkProgress {
  readonly index: number;
  readonly status: RestoreChunkStatus;
  /** import-job: the chunk's job as last seen. Saved right after the job is created, before its upload. */
  readonly job?: ImportJob;
  /** import-job: when the job was created (its upload URL lives 15 minutes). */
  readonly jobCreatedAt?: Date;
  /** import-job: jobs created for the chunk and given up before they started (never imported anything). */
  readonly abandonedJobIds?: readonly string[];
  /** admin-create: users created by the chunk. */
  readonly created: number;
  /** admin-create: users the chunk could not create, by error code. */
  readonly failureCodes: Readonly<Record<string, number>>;
}

/** Finalization so far: groups first, then the plan's users in order, `usersDone` of them. */
export interface RestoreFinalizationProgress extends RestoreFinalization {
  /** Whether the groups have been created. */
  readonly groupsDone: boolean;
  readonly usersDone: number;
}

export interface RestoreProgress {
  readonly version: 1;
  readonly planId: string;
  readonly updatedAt: Date;
  /** One per chunk of the plan, same order. */
  readonly chunks: readonly RestoreChunkProgress[];
  readonly finalization: RestoreFinalizationProgress;
  /** Set when the restore has nothing left to do. */
  readonly finishedAt?: Date;
}

// ---- schemas: the documents' wire shape ----

const date = z.iso.datetime();
const count = z.number().check(z.int(), z.nonnegative());
const counts = z.record(z.string(), count);
const positive = z.number().check(z.int(), z.positive());
const planId = z.string().check(z.regex(RESTORE_PLAN_ID, "letters, digits, - and _ only"));

const groupWire = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(128)),
  description: z.optional(z.string().check(z.maxLength(2048))),
  precedence: z.optional(count),
  roleArn: z.optional(z.string()),
});

const skippedWire = z.strictObject({
  username: z.string(),
  reason: z.string(),
  detail: z.string(),
});

const groupNames = z.array(z.string().check(z.minLength(1)));
/** import-job: one record of the CSV, ending with its only line break (values never hold one). */
const rowWire = z.string().check(z.regex(/^[^\n]+\n$/, "must be one CSV record ending with a line break"));
const plannedWire = z.strictObject({
  username: z.string().check(z.minLength(1)),
  sub: z.string().check(z.minLength(1)),
  groups: groupNames,
  enabled: z.boolean(),
  row: z.optional(rowWire),
  user: z.optional(z.unknown()),
  mfaEnabled: z.optional(z.boolean()),
});

const planWire = z.strictObject({
  format: z.literal(RESTORE_PLAN_FORMAT),
  version: z.literal(RESTORE_PLAN_VERSION),
  planId,
  createdAt: date,
  strategy: z.enum(RESTORE_STRATEGIES),
  source: z.strictObject({
    kind: z.enum(RESTORE_SOURCE_KINDS),
    snapshotId: z.optional(z.string()),
    userBackupsUsed: count,
  }),
  targetUserPoolId: z.optional(z.string()),
  requestedUsernames: z.optional(z.array(z.string())),
  groups: z.array(groupWire),
  existing: z.array(z.string()),
  skipped: z.array(skippedWire),
  malformedBackups: z.array(z.string()),
  notFound: z.array(z.string()),
  chunks: z.array(z.strictObject({ index: positive, users: count })),
  csvHeader: z.optional(z.array(z.string())),
  importFileLimits: z.optional(
    z.strictObject({ maxUsersPerFile: z.optional(count), maxBytesPerFile: z.optional(count) }),
  ),
  /** How many user lines follow the header line. */
  users: count,
});

const jobWire = z.strictObject({
  jobId: z.string().check(z.minLength(1)),
  jobName: z.string(),
  status: z.enum(IMPORT_JOB_STATUSES),
  imported: count,
  skipped: count,
  failed: count,
  completionMessage: z.optional(z.string()),
});

const progressWire = z.strictObject({
  format: z.literal(RESTORE_PROGRESS_FORMAT),
  version: z.literal(1),
  planId,
  updatedAt: date,
  finishedAt: z.optional(date),
  chunks: z.array(
    z.strictObject({
      index: positive,
      status: z.enum(["pending", "running", "done"]),
      job: z.optional(jobWire),
      jobCreatedAt: z.optional(date),
      abandonedJobIds: z.optional(z.array(z.string())),
      created: count,
      failureCodes: counts,
    }),
  ),
  finalization: z.strictObject({
    groupsDone: z.boolean(),
    usersDone: count,
    restored: count,
    missing: z.array(z.string()),
    groupsCreated: count,
    membershipsAdded: count,
    disabled: count,
    membershipsInPlace: z.optional(count),
    disabledInPlace: z.optional(count),
    subMapping: z.array(z.strictObject({ username: z.string(), oldSub: z.string(), newSub: z.string() })),
    failed: count,
    failureCodes: counts,
  }),
});

// ---- plan ----

/**
 * The plan document as JSON Lines, line by line, so a plan of 100,000s of users is never one string: a header
 * line (everything but the users, and their number), then one line per user. Import-job users are written as
 * their CSV row beside username, sub, groups and enabled flag; admin-create users carry their record in
 * Cognito's `UserType` shape, as backup records hold them, with their MFA flag.
 *
 * Each line is checked as it is made, with the rules {@link parseRestorePlan} applies when it reads it back.
 *
 * @throws ValidationError `RESTORE.STATE_MALFORMED` (from the iteration) when the document would not read back
 *   (a key-unsafe plan id, an invalid date, a user without what its strategy needs...): a writer that collects
 *   every line before storing anything never stores a document a resume would refuse.
 */
export function* restorePlanLines(stored: StoredRestorePlan): Generator<string> {
  const { plan } = stored;
  const ctx = malformed();
  const header = {
    format: RESTORE_PLAN_FORMAT,
    version: RESTORE_PLAN_VERSION,
    planId: plan.planId,
    createdAt: isoDate(plan.createdAt, "createdAt", ctx),
    strategy: plan.strategy,
    source: plan.source,
    ...(stored.targetUserPoolId === undefined ? {} : { targetUserPoolId: stored.targetUserPoolId }),
    ...(stored.requestedUsernames === undefined ? {} : { requestedUsernames: stored.requestedUsernames }),
    groups: plan.groups,
    existing: plan.existing,
    skipped: plan.skipped,
    malformedBackups: plan.malformedBackups,
    notFound: plan.notFound,
    chunks: stored.chunks,
    ...(stored.csvHeader === undefined ? {} : { csvHeader: stored.csvHeader }),
    ...(stored.importFileLimits === undefined ? {} : { importFileLimits: stored.importFileLimits }),
    users: plan.users.length,
  };
  const headerLine = JSON.stringify(header);
  const wire = checkHeader(readWire(planWire, headerLine, ctx), ctx);
  yield `${headerLine}\n`;
  let index = 0;
  for (const planned of plan.users) {
    const entry = {
      username: planned.username,
      sub: planned.sub,
      groups: planned.groups,
      enabled: planned.enabled,
      ...(planned.row === undefined ? {} : { row: planned.row }),
      ...(planned.user === undefined
        ? {}
        : { user: toUserType(planned.user), mfaEnabled: planned.user.mfaEnabled }),
    };
    // The entry is checked as an object: JSON.stringify of strings, booleans and arrays of them reads back as
    // the same values.
    readPlannedUser(checkWire(plannedWire, entry, ctx, `users[${index}]`), wire.strategy, index, ctx);
    yield `${JSON.stringify(entry)}\n`;
    index += 1;
  }
}

/** {@link restorePlanLines} as one string: for small plans and tests. */
export function serializeRestorePlan(stored: StoredRestorePlan): string {
  return [...restorePlanLines(stored)].join("");
}

/**
 * Reads a plan document (see {@link restorePlanLines}).
 *
 * @param location where it was read from (an object key), prefixed to every error field.
 * @throws ValidationError `RESTORE.STATE_MALFORMED` naming the first bad field (never a user's value) for
 *   text that is not JSON Lines, another format or version, a bad field, or fewer or more users than its
 *   header says.
 */
export function parseRestorePlan(text: string, location?: string): StoredRestorePlan {
  const ctx = malformed(location);
  const headerEnd = text.indexOf("\n");
  const value = parseJson(headerEnd < 0 ? text : text.slice(0, headerEnd), ctx);
  const version = (value as { version?: unknown } | null)?.version;
  if (typeof version === "number" && version < RESTORE_PLAN_VERSION) {
    fail(
      ctx,
      "version",
      `${version} was written by an earlier release, which this one does not resume: start the restore again ` +
        "(users it brought back already are left as they are)",
    );
  }
  const wire = checkHeader(checkWire(planWire, value, ctx), ctx);
  const users: PlannedUser[] = [];
  let start = headerEnd < 0 ? text.length : headerEnd + 1;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const index = users.length;
    const entry = checkWire(
      plannedWire,
      parseJson(text.slice(start, end), ctx, `users[${index}]`),
      ctx,
      `users[${index}]`,
    );
    users.push(readPlannedUser(entry, wire.strategy, index, ctx));
    start = end + 1;
  }
  if (users.length !== wire.users) fail(ctx, "users", `${users.length} lines, the header says ${wire.users}`);
  return {
    version: RESTORE_PLAN_VERSION,
    plan: {
      planId: wire.planId,
      createdAt: new Date(wire.createdAt),
      strategy: wire.strategy,
      source: {
        kind: wire.source.kind,
        ...(wire.source.snapshotId === undefined ? {} : { snapshotId: wire.source.snapshotId }),
        userBackupsUsed: wire.source.userBackupsUsed,
      },
      groups: wire.groups.map(stripUndefined),
      users,
      existing: wire.existing,
      skipped: wire.skipped as SkippedUser[],
      malformedBackups: wire.malformedBackups,
      notFound: wire.notFound,
    },
    ...(wire.targetUserPoolId === undefined ? {} : { targetUserPoolId: wire.targetUserPoolId }),
    ...(wire.requestedUsernames === undefined ? {} : { requestedUsernames: wire.requestedUsernames }),
    chunks: wire.chunks,
    ...(wire.csvHeader === undefined ? {} : { csvHeader: wire.csvHeader }),
    ...(wire.importFileLimits === undefined
      ? {}
      : { importFileLimits: stripUndefined(wire.importFileLimits) }),
  };
}

type PlanWire = z.infer<typeof planWire>;

/** The header's own rules: chunks numbered from 1 and covering exactly the users; files need their header. */
function checkHeader(wire: PlanWire, ctx: ReadContext): PlanWire {
  wire.chunks.forEach((chunk, index) => {
    if (chunk.index !== index + 1) fail(ctx, `chunks[${index}].index`, `expected ${index + 1}`);
  });
  const planned = wire.chunks.reduce((total, chunk) => total + chunk.users, 0);
  if (planned !== wire.users) fail(ctx, "chunks", `hold ${planned} users, the plan ${wire.users}`);
  if (wire.strategy === "import-job" && wire.users > 0 && wire.csvHeader === undefined) {
    fail(ctx, "csvHeader", "is missing (import-job files start with it)");
  }
  return wire;
}

/** A user line's entry (schema-checked) as the plan holds it, checked against the plan's strategy. */
function readPlannedUser(
  entry: z.infer<typeof plannedWire>,
  strategy: RestoreStrategy,
  index: number,
  ctx: ReadContext,
): PlannedUser {
  const path = `users[${index}]`;
  const groups = normalizeGroups(entry.groups);
  if (strategy === "import-job") {
    if (entry.row === undefined)
      fail(ctx, `${path}.row`, "is missing (import-job users are written as rows)");
    if (entry.user !== undefined) fail(ctx, `${path}.user`, "is not part of an import-job user");
    return { username: entry.username, sub: entry.sub, groups, enabled: entry.enabled, row: entry.row };
  }
  if (entry.row !== undefined) fail(ctx, `${path}.row`, "is not part of an admin-create user");
  if (entry.mfaEnabled === undefined) fail(ctx, `${path}.mfaEnabled`, "is missing");
  const user = { ...readUserType(entry.user, `${path}.user`, ctx), groups, mfaEnabled: entry.mfaEnabled };
  if (user.username !== entry.username) fail(ctx, `${path}.username`, "differs from the user's");
  return { username: entry.username, sub: entry.sub, groups, enabled: entry.enabled, user };
}

// ---- progress ----

/**
 * The progress document as compact JSON.
 *
 * @throws ValidationError `RESTORE.STATE_MALFORMED` when the document would not read back.
 */
/** The progress of a restore that has not started: every chunk pending, nothing finalized. */
export function newRestoreProgress(
  planId: string,
  chunkIndexes: readonly number[],
  now: Date,
): RestoreProgress {
  return {
    version: 1,
    planId,
    updatedAt: now,
    chunks: chunkIndexes.map((index) => ({ index, status: "pending", created: 0, failureCodes: {} })),
    finalization: {
      groupsDone: false,
      usersDone: 0,
      restored: 0,
      missing: [],
      groupsCreated: 0,
      membershipsAdded: 0,
      disabled: 0,
      membershipsInPlace: 0,
      disabledInPlace: 0,
      subMapping: [],
      failed: 0,
      failureCodes: {},
    },
  };
}

export function serializeRestoreProgress(progress: RestoreProgress): string {
  const ctx = malformed();
  const wire = {
    format: RESTORE_PROGRESS_FORMAT,
    version: 1,
    planId: progress.planId,
    updatedAt: isoDate(progress.updatedAt, "updatedAt", ctx),
    ...(progress.finishedAt === undefined
      ? {}
      : { finishedAt: isoDate(progress.finishedAt, "finishedAt", ctx) }),
    chunks: progress.chunks.map((chunk, index) => ({
      index: chunk.index,
      status: chunk.status,
      ...(chunk.job === undefined ? {} : { job: chunk.job }),
      ...(chunk.jobCreatedAt === undefined
        ? {}
        : { jobCreatedAt: isoDate(chunk.jobCreatedAt, `chunks[${index}].jobCreatedAt`, ctx) }),
      ...(chunk.abandonedJobIds === undefined ? {} : { abandonedJobIds: chunk.abandonedJobIds }),
      created: chunk.created,
      failureCodes: chunk.failureCodes,
    })),
    finalization: progress.finalization,
  };
  const text = JSON.stringify(wire);
  parseRestoreProgress(text);
  return text;
}

/**
 * Reads a progress document.
 *
 * @throws ValidationError `RESTORE.STATE_MALFORMED` naming the first bad field.
 */
export function parseRestoreProgress(text: string, location?: string): RestoreProgress {
  const ctx = malformed(location);
  const wire = readWire(progressWire, text, ctx);
  wire.chunks.forEach((chunk, index) => {
    if (chunk.index !== index + 1) fail(ctx, `chunks[${index}].index`, `expected ${index + 1}`);
  });
  return {
    version: 1,
    planId: wire.planId,
    updatedAt: new Date(wire.updatedAt),
    ...(wire.finishedAt === undefined ? {} : { finishedAt: new Date(wire.finishedAt) }),
    chunks: wire.chunks.map((chunk) => ({
      index: chunk.index,
      status: chunk.status,
      ...(chunk.job === undefined ? {} : { job: stripUndefined(chunk.job) }),
      ...(chunk.jobCreatedAt === undefined ? {} : { jobCreatedAt: new Date(chunk.jobCreatedAt) }),
      ...(chunk.abandonedJobIds === undefined ? {} : { abandonedJobIds: chunk.abandonedJobIds }),
      created: chunk.created,
      failureCodes: chunk.failureCodes,
    })),
    finalization: {
      ...wire.finalization,
      // Absent from progress written before these counts existed: nothing is known to be in place.
      membershipsInPlace: wire.finalization.membershipsInPlace ?? 0,
      disabledInPlace: wire.finalization.disabledInPlace ?? 0,
    },
  };
}

// ---- helpers ----

function malformed(location?: string): ReadContext {
  return { code: "RESTORE.STATE_MALFORMED", location };
}

function fieldName(ctx: ReadContext, path: string): string {
  if (ctx.location === undefined) return path === "" ? "$" : path;
  return path === "" ? ctx.location : `${ctx.location}: ${path}`;
}

function fail(ctx: ReadContext, path: string, problem: string): never {
  throw new ValidationError("RESTORE.STATE_MALFORMED", fieldName(ctx, path), problem);
}

function readWire<S extends z.ZodMiniType>(schema: S, text: string, ctx: ReadContext): z.infer<S> {
  return checkWire(schema, parseJson(text, ctx), ctx);
}

function parseJson(text: string, ctx: ReadContext, at = ""): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the text around the error, which may be an email: it is dropped.
    return fail(ctx, at, "not valid JSON");
  }
}

/** `value` checked against `schema`; an error names the field, under `at` (a path) when given. */
function checkWire<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  ctx: ReadContext,
  at = "",
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const inner = issuePath(issue?.path ?? []);
  const path =
    at === "" ? inner : inner === "" ? at : inner.startsWith("[") ? `${at}${inner}` : `${at}.${inner}`;
  // zod's messages describe the expected shape ("Invalid input: expected string, received number"), never
  // the value.
  return fail(ctx, path, issue?.message ?? "is invalid");
}

function isoDate(value: Date, path: string, ctx: ReadContext): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) fail(ctx, path, "not a valid date");
  return value.toISOString();
}

/** Drops keys whose value is undefined, so a read document equals the one written. */
function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
