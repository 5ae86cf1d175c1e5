/**
 * The snapshot of a whole pool as a durable job of steps (`core/steps/step.ts`), in format version 2
 * (`core/backup/snapshot-files.ts`):
 *
 * 1. **clean**: files of snapshots that never completed (no manifest) and started before this one are deleted.
 * 2. **groups**: the pool's groups, page by page; each group's members (usernames) into its own files, cut
 *    every `maxMembersPerGroupFile`; a page's definitions and file names into `groups/page-00001.json` once
 *    its last group is written. No membership map is ever held in memory.
 * 3. **users**: the sixteen `sub` partitions one after another, each with its own cursor (page token) and its
 *    parts: a part is whole pages of users, written whole under a deterministic key with its index of stable
 *    ids, before the state that records it. A crash repeats the part's listing from the same cursor and
 *    rewrites the same part whole: nothing doubled, nothing skipped. A refused or expired token restarts its
 *    partition only, from part 1 (parts past the restarted pass's last are deleted when the manifest is
 *    written, and never listed in it).
 * 4. **finalize**: the manifest, written last: a snapshot without one is incomplete and never restored from.
 * 5. **recheck**: the erasure ledger read again; anyone tombstoned while the snapshot ran is scrubbed from it
 *    (parts, their indexes, the group files, the manifest), repeated while a round finds someone.
 *
 * Erased people: tombstoned users are never written, and their usernames are taken out of the group files
 * at once (the groups were listed before them). Poison users (an attribute value past Cognito's limits, a
 * stable id that is no UUID) are left out and counted by reason; the snapshot goes on.
 */
import type { BackupRecord } from "../backup/backup-record.js";
import {
  describeFile,
  describePart,
  type GroupFileEntry,
  parseGroupPage,
  parsePartitionEntries,
  type SnapshotManifest,
  type SnapshotManifestV2,
  type SnapshotPartEntry,
  serializeGroupPage,
  serializePartitionEntries,
  serializeSnapshotLine,
  snapshotIdFor,
  utf8ByteLength,
} from "../backup/snapshot.js";
import {
  groupFileName,
  type GroupPage,
  groupPageName,
  memberBucketName,
  parseGroupMembers,
  readMemberBucketName,
  parseIdIndex,
  partIndexName,
  partitionEntriesName,
  partitionPartName,
  readPartitionFileName,
  serializeGroupMembers,
  serializeIdIndex,
} from "../backup/snapshot-files.js";
import { recordedUserId } from "../erasure/person.js";
import { removeFromGroupFiles, scrubSnapshots } from "../erasure/scrub-snapshots.js";
import { errorCode, LifecycleError, ValidationError } from "../errors.js";
import type { BackupStore } from "../ports/backup-store.js";
import type { Clock } from "../ports/clock.js";
import type { ErasureLedger } from "../ports/erasure-ledger.js";
import type { ProfileStore } from "../ports/profile-store.js";
import {
  type GroupMember,
  type Page,
  SUB_PARTITIONS,
  type UserDirectory,
  MAX_USERS_PAGE_SIZE,
} from "../ports/user-directory.js";
import { DEFAULT_STEP_MARGIN_MS, runSteps, type Step, stepShouldYield } from "../steps/step.js";
import { type Group, stableUserId, type User } from "../user/user.js";
import {
  addReconcileCounts,
  NO_RECONCILE_COUNTS,
  type PageUser,
  type ReconcileCounts,
  reconcilePage,
  skippedCounts,
} from "./reconcile-page.js";

export interface SnapshotDeps {
  readonly directory: UserDirectory;
  readonly backups: BackupStore;
  /** The erasure ledger: erased people are left out, even when erased while the snapshot runs. */
  readonly erasures: ErasureLedger;
  readonly clock: Clock;
  /** The profiles: needed when the snapshot reconciles (`SnapshotOptions.reconcile`). */
  readonly profiles?: ProfileStore;
}

export interface SnapshotOptions {
  readonly userPoolId: string;
  /** A part is closed at the first page boundary at or past this many records. Default 50,000. */
  readonly maxRecordsPerPart?: number;
  /** …or past this many bytes of UTF-8 text. Default 64 MiB. */
  readonly maxBytesPerPart?: number;
  /** Users per ListUsers page (1–60). Default 60. */
  readonly pageSize?: number;
  /** A group's member file is closed at the first page boundary at or past this many. Default 50,000. */
  readonly maxMembersPerGroupFile?: number;
  /** How long before its deadline a step stops starting new work. Default one minute. */
  readonly marginMs?: number;
  /**
   * Reconcile every confirmed user on the pages the snapshot lists (`reconcile-page.ts`): profiles and
   * per-user backups written only for users that drifted or are missing, told by the backup digest each
   * profile holds. Needs `profiles` in the deps. Default `false`.
   */
  readonly reconcile?: boolean;
}

/** One `sub` partition's progress in the current pass. */
export interface PartitionState {
  readonly prefix: string;
  /** Where the listing goes on (absent: from the start, or the partition is done). */
  readonly pageToken?: string;
  readonly done: boolean;
  /**
   * How many parts this pass has written. Their manifest entries are kept in S3 (`p-<x>/parts.json`,
   * written with each part, before the state that counts it), not here: at 40M users a snapshot has about
   * 800 parts, whose entries would pass the 200 KiB a state may hold.
   */
  readonly parts: number;
  readonly skipReasons: Readonly<Record<string, number>>;
  readonly erasedLeftOut: number;
  /** Passes restarted from the first page after a refused token. */
  readonly restarts: number;
}

export interface GroupsState {
  /** Group pages completed (their page files written). */
  readonly pages: number;
  /** The token of the group page being worked on (absent: the first page). */
  readonly pageToken?: string;
  /**
   * Set once the page is listed and its groups written to its page file (as listed, no files yet): the
   * page's groups are read back from there, never listed again, so a group created or deleted meanwhile
   * cannot shift the positions. `next` is the token of the page after it (absent: the last page).
   */
  readonly listed?: { readonly next?: string };
  /** The group being listed: its position on the page, from 0. */
  readonly position: number;
  /** Where its member listing goes on (absent: from its start). */
  readonly memberToken?: string;
  /** Its member files written so far. */
  readonly files: number;
  /** Member files of each group of the page before `position`. */
  readonly filesPerGroup: readonly number[];
  /** Positions on the page of groups deleted while listed: left out of the page file. */
  readonly skippedPositions: readonly number[];
  /** Groups left out, by error code (a group deleted while the snapshot listed it). */
  readonly skipped: Readonly<Record<string, number>>;
  /** Members listed so far (progress only: the manifest counts the group files as stored). */
  readonly memberships: number;
}

/** The snapshot's phases, in order (for a reader of its state: a state machine's parser). */
export const SNAPSHOT_PHASES = ["clean", "groups", "users", "finalize", "tidy", "recheck", "done"] as const;
export type SnapshotPhase = (typeof SNAPSHOT_PHASES)[number];

/** The snapshot job's state between steps: small JSON (cursors, counters, the parts' entries). */
export interface SnapshotState {
  readonly job: "snapshot";
  readonly snapshotId: string;
  readonly userPoolId: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly phase: SnapshotPhase;
  readonly groups: GroupsState;
  readonly partitions: readonly PartitionState[];
  readonly recheckRounds: number;
  /** Records scrubbed after the manifest (people erased while the snapshot ran). */
  readonly erasedAfterManifest: number;
  /** What reconcile did so far (zeros when the snapshot runs without profiles). */
  readonly reconcile: ReconcileCounts;
  /** Working files deleted after the manifest (entries files, member buckets): progress of `tidy`. */
  readonly tidied: number;
}

/** What a finished snapshot reports besides its manifest: counts only (no usernames). */
export interface SnapshotReport {
  readonly memberships: number;
  /**
   * Users of the pool that cannot be backed up, left out so the rest is: by error code, e.g.
   * `BACKUP.MALFORMED` (an attribute value over Cognito's 2,048 characters) or `USER.INVALID_ID` (a
   * `custom:legacy_sub` that is no UUID).
   */
  readonly skipped: number;
  readonly skipReasons: Readonly<Record<string, number>>;
  /** Erased people left out (tombstoned before the run, or scrubbed from it after an erasure during it). */
  readonly erasedLeftOut: number;
  /** Partitions whose listing was restarted after a refused page token. */
  readonly partitionRestarts: number;
  /** Groups left out, by error code: `DIRECTORY.GROUP_NOT_FOUND` for one deleted while it was listed. */
  readonly groupsSkipped: Readonly<Record<string, number>>;
  /**
   * What reconcile did over the whole run, summed over its steps (`backupsRead` / `checked` is its S3
   * GETs per user); zeros when the snapshot ran without profiles.
   */
  readonly reconcile: ReconcileCounts;
}

/** The snapshot's manifest with the report. */
export type SnapshotResult = SnapshotManifest & SnapshotReport;

/** At most this many rounds of "erasures that began while the snapshot ran" are scrubbed from it. */
const ERASURE_RECHECKS = 3;
const DEFAULT_MAX_RECORDS = 50_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_MEMBERS = 50_000;

/** The state a new snapshot starts from; its id is its start time. */
export function startSnapshot(options: Pick<SnapshotOptions, "userPoolId">, clock: Clock): SnapshotState {
  const startedAt = clock.now();
  return {
    job: "snapshot",
    snapshotId: snapshotIdFor(startedAt),
    userPoolId: options.userPoolId,
    startedAt: startedAt.toISOString(),
    phase: "clean",
    groups: {
      pages: 0,
      position: 0,
      files: 0,
      filesPerGroup: [],
      skippedPositions: [],
      skipped: {},
      memberships: 0,
    },
    partitions: SUB_PARTITIONS.map((prefix) => freshPartition(prefix, 0)),
    recheckRounds: 0,
    erasedAfterManifest: 0,
    reconcile: NO_RECONCILE_COUNTS,
    tidied: 0,
  };
}

function freshPartition(prefix: string, restarts: number): PartitionState {
  return { prefix, done: false, parts: 0, skipReasons: {}, erasedLeftOut: 0, restarts };
}

/**
 * One step of the snapshot: carries on from `state` until the phase `done` or a margin before `deadline`.
 *
 * @throws ValidationError `SNAPSHOT.INVALID_LIMIT` for a limit that is not a positive integer (or a page size
 *   outside 1–60).
 */
export function snapshotStep(deps: SnapshotDeps, options: SnapshotOptions): Step<SnapshotState> {
  const limits = {
    maxRecords: positive(options.maxRecordsPerPart, DEFAULT_MAX_RECORDS, "maxRecordsPerPart"),
    maxBytes: positive(options.maxBytesPerPart, DEFAULT_MAX_BYTES, "maxBytesPerPart"),
    maxMembers: positive(options.maxMembersPerGroupFile, DEFAULT_MAX_MEMBERS, "maxMembersPerGroupFile"),
    pageSize: positive(options.pageSize, MAX_USERS_PAGE_SIZE, "pageSize"),
  };
  if (limits.pageSize > MAX_USERS_PAGE_SIZE) {
    throw new ValidationError("SNAPSHOT.INVALID_LIMIT", "pageSize", `must be at most ${MAX_USERS_PAGE_SIZE}`);
  }
  const margin = options.marginMs ?? DEFAULT_STEP_MARGIN_MS;
  if (options.reconcile === true && deps.profiles === undefined) {
    throw new ValidationError("SNAPSHOT.INVALID_LIMIT", "reconcile", "needs the profile store");
  }
  const profiles = options.reconcile === true ? deps.profiles : undefined;
  return async (initial, deadline) => {
    let state = initial;
    const yieldNow = () => stepShouldYield(deps.clock, deadline, margin);
    // Loaded once per step: tombstones are few; one recorded during the step is caught by the recheck.
    let erased: ReadonlySet<string> | undefined;
    const erasedIds = async () => (erased ??= await deps.erasures.erasedIds());
    // The group page being worked on, read once per step.
    let groupPage: { page: number; groups: readonly Group[] } | undefined;
    // The memberships of the partition being listed (reconcile only), loaded once per step and partition.
    let memberships: { prefix: string; map: ReadonlyMap<string, string> } | undefined;
    while (state.phase !== "done" && !yieldNow()) {
      switch (state.phase) {
        case "clean":
          state = await cleanIncomplete(deps.backups, state, yieldNow);
          break;
        case "groups": {
          if (state.groups.listed === undefined) {
            state = await listGroupPage(deps, state);
            break;
          }
          const pageNumber = state.groups.pages + 1;
          if (groupPage === undefined || groupPage.page !== pageNumber) {
            const name = groupPageName(pageNumber);
            const text = await deps.backups.getSnapshotFile(state.snapshotId, name);
            if (text === undefined) {
              throw new LifecycleError(
                "SNAPSHOT.MALFORMED",
                `Snapshot ${state.snapshotId} is missing ${name}`,
              );
            }
            groupPage = { page: pageNumber, groups: parseGroupPage(text, name).groups };
          }
          state = await groupsUnit(deps, state, groupPage.groups, limits.maxMembers, yieldNow, !!profiles);
          break;
        }
        case "users":
          state = await usersUnit(
            deps,
            profiles,
            state,
            limits,
            await erasedIds(),
            yieldNow,
            async (prefix) => {
              if (memberships?.prefix !== prefix) {
                memberships = { prefix, map: await loadMemberships(deps.backups, state, prefix) };
              }
              return memberships.map;
            },
          );
          break;
        case "finalize":
          state = await finalize(deps, state);
          break;
        case "tidy":
          state = await tidy(deps.backups, state, yieldNow);
          break;
        case "recheck":
          state = await recheck(deps, state);
          break;
      }
    }
    return { state, done: state.phase === "done" };
  };
}

/** Deletes the files of every incomplete snapshot older than this one; then the groups phase. */
async function cleanIncomplete(
  backups: BackupStore,
  state: SnapshotState,
  yieldNow: () => boolean,
): Promise<SnapshotState> {
  const complete = new Set(await backups.listSnapshots());
  for (const id of await backups.listSnapshotIds()) {
    if (id >= state.snapshotId || complete.has(id)) continue;
    for (const name of await backups.listSnapshotFiles(id)) {
      // Deletions are idempotent: a step stopped half-way lists what is left and goes on.
      if (yieldNow()) return state;
      await backups.deleteSnapshotFile(id, name);
    }
  }
  return { ...state, phase: "groups" };
}

/**
 * The members of one group file bucketed by the first digit of their sub (`members-<x>/…`), for the
 * snapshot's reconcile: when it lists partition `x` it loads that partition's memberships only, never the
 * pool's.
 *
 * Why buckets, and not a digest of each user's groups: a backup holds the user's groups, and a listing of
 * users does not tell them; knowing them needs the membership, which at 10M users (1 group each) is 10M
 * entries, about 2 GB as one map. Bucketed by the partition the users phase lists, a step holds one
 * sixteenth of it (see README, "Reconcile on the snapshot's pages", for the measured figures). A digest
 * of groups alone could say that some user's groups changed, never which groups a user has now.
 * ListUsersInGroup returns each member's sub with its username, so the buckets cost no extra Cognito call:
 * one PUT per partition present in the group file (at most sixteen per 50,000 memberships).
 */
async function writeMemberBuckets(
  backups: BackupStore,
  snapshotId: string,
  groupFile: string,
  members: readonly GroupMember[],
): Promise<void> {
  const byPartition = new Map<string, string[]>();
  for (const { username, sub } of members) {
    const partition = sub.charAt(0);
    // A member without a readable sub belongs to no partition (Cognito always gives one).
    if (!/^[0-9a-f]$/.test(partition)) continue;
    const list = byPartition.get(partition);
    if (list) list.push(username);
    else byPartition.set(partition, [username]);
  }
  for (const [partition, usernames] of byPartition) {
    await backups.putSnapshotFile(
      snapshotId,
      memberBucketName(groupFile, partition),
      serializeGroupMembers(usernames),
    );
  }
}

/**
 * Lists the next page of groups and writes it to its page file as listed (no member files yet), before the
 * state that says so; the groups of the page are read from there from now on.
 */
async function listGroupPage(deps: SnapshotDeps, state: SnapshotState): Promise<SnapshotState> {
  const token = state.groups.pageToken;
  const page = await deps.directory.listGroups(token === undefined ? {} : { pageToken: token });
  await deps.backups.putSnapshotFile(
    state.snapshotId,
    groupPageName(state.groups.pages + 1),
    serializeGroupPage({ groups: page.items, files: page.items.map(() => []) }),
  );
  const listed = page.nextToken === undefined ? {} : { next: page.nextToken };
  return { ...state, groups: { ...state.groups, listed } };
}

/**
 * One member file of the current group (or the page file once the page's groups are done): whole pages of
 * members from the group's cursor until the file is full or the group ends.
 */
async function groupsUnit(
  deps: SnapshotDeps,
  state: SnapshotState,
  pageGroups: readonly Group[],
  maxMembers: number,
  yieldNow: () => boolean,
  buckets: boolean,
): Promise<SnapshotState> {
  const g = state.groups;
  const pageNumber = g.pages + 1;
  const group = pageGroups[g.position];
  if (group === undefined) {
    // Every group of the page is written: the page file records them, then the next page (or the users).
    const kept = pageGroups.flatMap((listed, i) =>
      g.skippedPositions.includes(i)
        ? []
        : [
            {
              group: listed,
              files: Array.from({ length: g.filesPerGroup[i] ?? 0 }, (_, chunk) =>
                groupFileName(pageNumber, i + 1, chunk + 1),
              ),
            },
          ],
    );
    await deps.backups.putSnapshotFile(
      state.snapshotId,
      groupPageName(pageNumber),
      serializeGroupPage({ groups: kept.map((k) => k.group), files: kept.map((k) => k.files) }),
    );
    const next = g.listed?.next;
    return {
      ...state,
      phase: next === undefined ? "users" : "groups",
      groups: {
        pages: pageNumber,
        ...(next === undefined ? {} : { pageToken: next }),
        position: 0,
        files: 0,
        filesPerGroup: [],
        skippedPositions: [],
        skipped: g.skipped,
        memberships: g.memberships,
      },
    };
  }
  const members: GroupMember[] = [];
  let token = g.memberToken;
  try {
    do {
      const listed = await deps.directory.listGroupMembers(
        group.name,
        token === undefined ? {} : { pageToken: token },
      );
      members.push(...listed.items);
      token = listed.nextToken;
    } while (token !== undefined && members.length < maxMembers && !yieldNow());
  } catch (error) {
    if (errorCode(error) !== "DIRECTORY.GROUP_NOT_FOUND") throw error;
    // Deleted since its page was listed: the group is left out (its files so far deleted, idempotently,
    // before the state moves past it), counted, and the snapshot goes on with the next group.
    for (let file = 1; file <= g.files; file += 1) {
      await deps.backups.deleteSnapshotFile(
        state.snapshotId,
        groupFileName(pageNumber, g.position + 1, file),
      );
    }
    const { memberToken: _gone, ...rest } = g;
    const code = errorCode(error);
    return {
      ...state,
      groups: {
        ...rest,
        position: g.position + 1,
        files: 0,
        filesPerGroup: [...g.filesPerGroup, 0],
        skippedPositions: [...g.skippedPositions, g.position],
        skipped: { ...g.skipped, [code]: (g.skipped[code] ?? 0) + 1 },
      },
    };
  }
  const file = g.files + 1;
  const fileName = groupFileName(pageNumber, g.position + 1, file);
  // The files are written before the state that counts them: a crash repeats this listing and rewrites
  // them whole.
  await deps.backups.putSnapshotFile(
    state.snapshotId,
    fileName,
    serializeGroupMembers(members.map((member) => member.username)),
  );
  if (buckets) await writeMemberBuckets(deps.backups, state.snapshotId, fileName, members);
  const base = { ...g, memberships: g.memberships + members.length };
  if (token !== undefined) {
    return { ...state, groups: { ...base, memberToken: token, files: file } };
  }
  const { memberToken: _done, ...rest } = base;
  return {
    ...state,
    groups: { ...rest, position: g.position + 1, files: 0, filesPerGroup: [...g.filesPerGroup, file] },
  };
}

interface PartLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly pageSize: number;
}

/**
 * One part of the first unfinished partition: whole pages from its cursor until the part is full, the
 * partition ends, or the step must yield; the part and its index are written, then the state moves on.
 */
async function usersUnit(
  deps: SnapshotDeps,
  profiles: ProfileStore | undefined,
  state: SnapshotState,
  limits: PartLimits,
  erased: ReadonlySet<string>,
  yieldNow: () => boolean,
  membershipsOf: (prefix: string) => Promise<ReadonlyMap<string, string>>,
): Promise<SnapshotState> {
  const at = state.partitions.findIndex((partition) => !partition.done);
  if (at === -1) return { ...state, phase: "finalize" };
  const partition = state.partitions[at] as PartitionState;
  const lines: string[] = [];
  const ids: string[] = [];
  let bytes = 0;
  const skipReasons = { ...partition.skipReasons };
  let erasedLeftOut = partition.erasedLeftOut;
  const erasedUsernames: string[] = [];
  const capturedAt = deps.clock.now();
  const groupsOf = profiles ? await membershipsOf(partition.prefix) : undefined;
  let reconciled = state.reconcile;
  let token = partition.pageToken;
  do {
    // Reconcile's share of the page: confirmed users, with their groups; and those it must leave alone.
    const toReconcile: PageUser[] = [];
    const leftAlone: Record<string, number> = {};
    const leaveAlone = (user: User, code: string) => {
      if (user.status !== "UNCONFIRMED") leftAlone[code] = (leftAlone[code] ?? 0) + 1;
    };
    let page: Page<User>;
    try {
      page = await deps.directory.listUsers({
        subPrefix: partition.prefix,
        pageSize: limits.pageSize,
        ...(token === undefined ? {} : { pageToken: token }),
      });
    } catch (error) {
      if (token === undefined || errorCode(error) !== "DIRECTORY.PAGE_TOKEN_INVALID") throw error;
      // An expired or refused token: this partition starts again from its first page, part 1; the others
      // keep their parts and cursors.
      return withPartition(state, at, freshPartition(partition.prefix, partition.restarts + 1));
    }
    for (const user of page.items) {
      let userId: string;
      try {
        userId = stableUserId(user);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        skipReasons[error.code] = (skipReasons[error.code] ?? 0) + 1;
        leaveAlone(user, error.code);
        continue;
      }
      if (erased.has(userId)) {
        erasedLeftOut += 1;
        erasedUsernames.push(user.username);
        leaveAlone(user, "USER.ERASED");
        continue;
      }
      const record: BackupRecord = {
        version: 1,
        capturedAt,
        source: { kind: "snapshot", userPoolId: state.userPoolId },
        user: { ...user, groups: [] },
      };
      let line: string;
      try {
        // Checked before it is added: a record a restore would refuse is never written.
        line = serializeSnapshotLine(record);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        skipReasons[error.code] = (skipReasons[error.code] ?? 0) + 1;
        leaveAlone(user, error.code);
        continue;
      }
      lines.push(line);
      ids.push(userId);
      bytes += utf8ByteLength(line);
      if (groupsOf && user.status !== "UNCONFIRMED") {
        const groups = groupsOf.get(user.username);
        toReconcile.push({ user: { ...user, groups: groups ? groups.split("\n").sort() : [] }, id: userId });
      }
    }
    if (profiles) {
      // Idempotent writes (by digest): a crash before the state repeats this page and writes nothing twice.
      const done = await reconcilePage({ ...deps, profiles }, toReconcile, state.userPoolId);
      reconciled = addReconcileCounts(reconciled, addReconcileCounts(done, skippedCounts(leftAlone)));
    }
    token = page.nextToken;
  } while (token !== undefined && lines.length < limits.maxRecords && bytes < limits.maxBytes && !yieldNow());

  // A tombstoned person still in the pool: the group files (written before) lose their username first.
  if (erasedUsernames.length > 0) {
    await removeFromGroupFiles(deps.backups, state.snapshotId, new Set(erasedUsernames));
  }
  let parts = partition.parts;
  if (lines.length > 0) {
    const name = partitionPartName(partition.prefix, parts + 1);
    const text = lines.join("");
    const indexText = serializeIdIndex(ids);
    // Part, index and the partition's entries before the state that counts them; the same keys every time
    // this part is redone (the entries file is cut to the state's count first: a crashed attempt's entry
    // is replaced, never kept).
    await deps.backups.putSnapshotFile(state.snapshotId, name, text);
    await deps.backups.putSnapshotFile(state.snapshotId, partIndexName(name), indexText);
    const entries = await partitionEntries(deps.backups, state.snapshotId, partition);
    entries.push({ ...describePart(name, text), index: describeFile(partIndexName(name), indexText) });
    await deps.backups.putSnapshotFile(
      state.snapshotId,
      partitionEntriesName(partition.prefix),
      serializePartitionEntries(entries),
    );
    parts += 1;
  }
  const next: PartitionState = {
    prefix: partition.prefix,
    ...(token === undefined ? {} : { pageToken: token }),
    done: token === undefined,
    parts,
    skipReasons,
    erasedLeftOut,
    restarts: partition.restarts,
  };
  return withPartition(state, at, next, reconciled);
}

/** The manifest entries of the parts `partition` counts, read from its entries file. */
async function partitionEntries(
  backups: BackupStore,
  snapshotId: string,
  partition: PartitionState,
): Promise<SnapshotPartEntry[]> {
  if (partition.parts === 0) return [];
  const name = partitionEntriesName(partition.prefix);
  const text = await backups.getSnapshotFile(snapshotId, name);
  const entries = text === undefined ? [] : parsePartitionEntries(text, name);
  if (entries.length < partition.parts) {
    throw new LifecycleError(
      "SNAPSHOT.MALFORMED",
      `Snapshot ${snapshotId}: ${name} lists ${entries.length} parts, the job wrote ${partition.parts}`,
    );
  }
  return entries.slice(0, partition.parts);
}

function withPartition(
  state: SnapshotState,
  at: number,
  partition: PartitionState,
  reconcile: ReconcileCounts = state.reconcile,
): SnapshotState {
  return { ...state, partitions: state.partitions.map((p, i) => (i === at ? partition : p)), reconcile };
}

/**
 * The memberships of the users whose sub starts with `prefix`: username → its groups (`\n`-joined, group
 * names hold no whitespace), from the member buckets the groups phase wrote for that partition, whose group
 * files the page files list (a bucket of a group deleted while listed is in no page file, and ignored).
 * Holds one partition's memberships: a sixteenth of the pool's.
 */
async function loadMemberships(
  backups: BackupStore,
  state: SnapshotState,
  prefix: string,
): Promise<ReadonlyMap<string, string>> {
  const groupOfFile = new Map<string, string>();
  for (const listed of await completedGroupPages(backups, state)) {
    listed.groups.forEach((group, i) => {
      for (const file of listed.files[i] ?? []) groupOfFile.set(file, group.name);
    });
  }
  const map = new Map<string, string>();
  for (const name of await backups.listSnapshotFiles(state.snapshotId)) {
    const bucket = readMemberBucketName(name);
    const group = bucket?.partition === prefix ? groupOfFile.get(bucket.groupFile) : undefined;
    if (group === undefined) continue;
    const text = await backups.getSnapshotFile(state.snapshotId, name);
    for (const username of parseGroupMembers(text ?? "", name)) {
      const known = map.get(username);
      map.set(username, known === undefined ? group : `${known}\n${group}`);
    }
  }
  return map;
}

/** The page files of the group pages the groups phase completed, read back. */
async function completedGroupPages(backups: BackupStore, state: SnapshotState): Promise<GroupPage[]> {
  const pages: GroupPage[] = [];
  for (let page = 1; page <= state.groups.pages; page += 1) {
    const pageName = groupPageName(page);
    const text = await backups.getSnapshotFile(state.snapshotId, pageName);
    if (text === undefined) {
      throw new LifecycleError("SNAPSHOT.MALFORMED", `Snapshot ${state.snapshotId} is missing ${pageName}`);
    }
    pages.push(parseGroupPage(text, pageName));
  }
  return pages;
}

/**
 * Deletes the parts (and indexes) past each partition's last (left by a pass restarted after a refused
 * token), describes the group files, and writes the manifest.
 */
async function finalize(deps: SnapshotDeps, state: SnapshotState): Promise<SnapshotState> {
  const { backups } = deps;
  const lastPart = new Map(state.partitions.map((p) => [p.prefix, p.parts]));
  for (const name of await backups.listSnapshotFiles(state.snapshotId)) {
    const read = readPartitionFileName(name);
    if (read && read.index > (lastPart.get(read.partition) ?? 0)) {
      await backups.deleteSnapshotFile(state.snapshotId, name);
    }
  }
  const groups: Group[] = [];
  const listedFiles: Pick<GroupFileEntry, "name" | "group">[] = [];
  for (const listed of await completedGroupPages(backups, state)) {
    listed.groups.forEach((group, i) => {
      groups.push(group);
      for (const name of listed.files[i] ?? []) listedFiles.push({ name, group: group.name });
    });
  }
  // Described as stored now (an erasure may have rewritten one since it was written).
  const groupFiles = await groupFilesAsStored(backups, state.snapshotId, listedFiles);
  const written: SnapshotPartEntry[] = [];
  try {
    for (const partition of state.partitions) {
      written.push(...(await partitionEntries(backups, state.snapshotId, partition)));
    }
  } catch (error) {
    // A step killed after the manifest and part of the tidying: the manifest holds the entries; tidy on.
    if ((await backups.listSnapshots()).includes(state.snapshotId)) return { ...state, phase: "tidy" };
    throw error;
  }
  const parts = await asStored(backups, state.snapshotId, written);
  const manifest: SnapshotManifestV2 = {
    version: 2,
    snapshotId: state.snapshotId,
    userPoolId: state.userPoolId,
    startedAt: new Date(state.startedAt),
    completedAt: deps.clock.now(),
    userCount: parts.reduce((sum, part) => sum + part.records, 0),
    groups: dedupeGroups(groups),
    parts,
    groupFiles,
    membershipCount: groupFiles.reduce((sum, entry) => sum + entry.members, 0),
  };
  await backups.putSnapshotManifest(manifest);
  return { ...state, phase: "tidy" };
}

/**
 * Deletes the snapshot's working files (the partitions' entries files, the member buckets of reconcile),
 * now that the manifest holds what they held. Idempotent: a step stopped half-way lists what is left.
 */
async function tidy(
  backups: BackupStore,
  state: SnapshotState,
  yieldNow: () => boolean,
): Promise<SnapshotState> {
  const entries = new Set(state.partitions.map((p) => partitionEntriesName(p.prefix)));
  let tidied = state.tidied;
  for (const name of await backups.listSnapshotFiles(state.snapshotId)) {
    if (!entries.has(name) && readMemberBucketName(name) === undefined) continue;
    if (yieldNow()) return { ...state, tidied };
    await backups.deleteSnapshotFile(state.snapshotId, name);
    tidied += 1;
  }
  return { ...state, phase: "recheck", tidied };
}

/**
 * The parts' entries as the parts are stored now: an erasure may have rewritten a part (and its index, after
 * it) since this snapshot wrote it. Each index is read (a few percent of its part); a part whose index
 * changed is read and described again.
 */
async function asStored(
  backups: BackupStore,
  snapshotId: string,
  parts: readonly SnapshotPartEntry[],
): Promise<SnapshotPartEntry[]> {
  const stored: SnapshotPartEntry[] = [];
  for (const entry of parts) {
    const indexName = partIndexName(entry.name);
    const indexText = await backups.getSnapshotFile(snapshotId, indexName);
    const index = indexText === undefined ? undefined : describeFile(indexName, indexText);
    if (index !== undefined && index.sha256 === entry.index?.sha256) {
      stored.push(entry);
      continue;
    }
    const text = await backups.getSnapshotPart(snapshotId, entry.name);
    const ids = parseIdIndex(indexText ?? "", indexName);
    const described = describePart(entry.name, text);
    if (described.records !== ids.length) {
      // The part and its index disagree (an erasure stopped between its two writes): the index is made anew.
      throw new LifecycleError(
        "SNAPSHOT.MALFORMED",
        `${entry.name} and its index disagree: run the erasure again, then the snapshot`,
      );
    }
    stored.push({ ...described, index: describeFile(indexName, indexText ?? "") });
  }
  return stored;
}

/**
 * Rewrites the manifest when a part, an index or a group file is no longer as it describes it. Returns the
 * records the parts lost meanwhile (people an erasure took out).
 */
async function describeAsStored(backups: BackupStore, snapshotId: string): Promise<number> {
  const manifest = await backups.getSnapshotManifest(snapshotId);
  if (manifest.version !== 2) return 0;
  const parts = await asStored(backups, snapshotId, manifest.parts);
  const groupFiles = await groupFilesAsStored(backups, snapshotId, manifest.groupFiles);
  const same = (a: readonly { sha256: string }[], b: readonly { sha256: string }[]) =>
    a.every((entry, i) => entry.sha256 === b[i]?.sha256);
  if (same(parts, manifest.parts) && same(groupFiles, manifest.groupFiles)) return 0;
  const userCount = parts.reduce((sum, part) => sum + part.records, 0);
  await backups.putSnapshotManifest({
    ...manifest,
    parts,
    userCount,
    groupFiles,
    membershipCount: groupFiles.reduce((sum, entry) => sum + entry.members, 0),
  });
  return Math.max(0, manifest.userCount - userCount);
}

/** Group files described as stored now. */
async function groupFilesAsStored(
  backups: BackupStore,
  snapshotId: string,
  files: readonly Pick<GroupFileEntry, "name" | "group">[],
): Promise<GroupFileEntry[]> {
  const described: GroupFileEntry[] = [];
  for (const entry of files) {
    const text = await backups.getSnapshotFile(snapshotId, entry.name);
    if (text === undefined) {
      throw new LifecycleError("SNAPSHOT.MALFORMED", `Snapshot ${snapshotId} is missing ${entry.name}`);
    }
    described.push({
      ...describeFile(entry.name, text),
      group: entry.group,
      members: parseGroupMembers(text, entry.name).length,
    });
  }
  return described;
}

/** A group listed twice (created between two group pages' listings shifting the pages) is kept once. */
function dedupeGroups(groups: readonly Group[]): Group[] {
  const seen = new Set<string>();
  return groups.filter((group) => !seen.has(group.name) && seen.add(group.name));
}

/**
 * One round of the ledger's re-read: anyone tombstoned now is scrubbed from this snapshot (only parts whose
 * index holds one of them are read). Another round follows while one finds someone, up to
 * {@link ERASURE_RECHECKS}.
 */
async function recheck(deps: SnapshotDeps, initial: SnapshotState): Promise<SnapshotState> {
  let state = initial;
  // An erasure that ran between the manifest's making and its writing rewrote files it then described.
  if (state.recheckRounds === 0) {
    const removed = await describeAsStored(deps.backups, state.snapshotId);
    state = { ...state, erasedAfterManifest: state.erasedAfterManifest + removed };
  }
  const erased = await deps.erasures.erasedIds();
  if (erased.size === 0) return { ...state, phase: "done" };
  const report = await scrubSnapshots(
    deps.backups,
    (user) => {
      const id = recordedUserId(user);
      return id !== undefined && erased.has(id);
    },
    { only: state.snapshotId, ids: erased },
  );
  const rounds = state.recheckRounds + 1;
  const found = report.recordsRemoved > 0 || report.membershipsRemoved > 0;
  return {
    ...state,
    phase: found && rounds < ERASURE_RECHECKS ? "recheck" : "done",
    recheckRounds: rounds,
    erasedAfterManifest: state.erasedAfterManifest + report.recordsRemoved,
  };
}

/** The report of a finished snapshot, from its last state and its manifest as stored. */
export async function snapshotReport(backups: BackupStore, state: SnapshotState): Promise<SnapshotResult> {
  const manifest = await backups.getSnapshotManifest(state.snapshotId);
  const skipReasons: Record<string, number> = {};
  let erasedLeftOut = state.erasedAfterManifest;
  for (const partition of state.partitions) {
    for (const [code, n] of Object.entries(partition.skipReasons))
      skipReasons[code] = (skipReasons[code] ?? 0) + n;
    erasedLeftOut += partition.erasedLeftOut;
  }
  return {
    ...manifest,
    memberships: manifest.version === 2 ? manifest.membershipCount : 0,
    skipped: Object.values(skipReasons).reduce((sum, n) => sum + n, 0),
    skipReasons,
    erasedLeftOut,
    partitionRestarts: state.partitions.reduce((sum, p) => sum + p.restarts, 0),
    groupsSkipped: state.groups.skipped,
    reconcile: state.reconcile,
  };
}

export interface InProcessSnapshotOptions extends SnapshotOptions {
  /** How long each step may run. Default 15 minutes (a Lambda's longest). */
  readonly stepBudgetMs?: number;
  /**
   * When the whole run must stop (the invocation that runs it in-process ends): no step runs past it. A
   * snapshot not finished by then throws `SNAPSHOT.INCOMPLETE`; its files are cleaned by the next run.
   */
  readonly deadline?: Date;
}

/**
 * A whole snapshot in this process (the CLI, the scheduled function until it runs on a state machine, the
 * tests): {@link snapshotStep} from {@link startSnapshot} until done, each step with `stepBudgetMs` (and
 * never past `deadline`).
 *
 * @throws LifecycleError `SNAPSHOT.INCOMPLETE` naming the snapshot when `deadline` came first.
 */
export async function snapshotUsers(
  deps: SnapshotDeps,
  options: InProcessSnapshotOptions,
): Promise<SnapshotResult> {
  const budget = options.stepBudgetMs ?? 15 * 60_000;
  const { deadline } = options;
  const inner = snapshotStep(deps, options);
  // Each step ends by the run's deadline at the latest; one that could start nothing (past the margin)
  // returns its state unchanged, which ends the run here.
  let stalled = false;
  const step: Step<SnapshotState> = async (state, stepDeadline) => {
    const until = deadline && deadline < stepDeadline ? deadline : stepDeadline;
    const outcome = await inner(state, until);
    stalled = !outcome.done && JSON.stringify(outcome.state) === JSON.stringify(state);
    if (stalled) {
      throw new LifecycleError(
        "SNAPSHOT.INCOMPLETE",
        `Snapshot ${state.snapshotId} did not finish in the time given: the next run cleans its files`,
        { details: { snapshotId: state.snapshotId, phase: state.phase } },
      );
    }
    return outcome;
  };
  const { state } = await runSteps(step, startSnapshot(options, deps.clock), {
    clock: deps.clock,
    stepBudgetMs: budget,
  });
  return snapshotReport(deps.backups, state);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError("SNAPSHOT.INVALID_LIMIT", name, "must be a positive integer");
  }
  return value;
}
