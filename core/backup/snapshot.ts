/**
 * A snapshot of a whole pool: JSON Lines parts (one backup record per line) plus a manifest that lists the
 * parts with their record count, size and SHA-256, and the pool's group definitions. Sizes and hashes are of
 * the uncompressed UTF-8 text, so integrity is checked end to end whatever compression or storage sits
 * between writer and reader.
 */
import { createHash, type Hash } from "node:crypto";
import { LifecycleError, ValidationError } from "../errors.js";
import type { Group } from "../user/user.js";
import {
  type BackupRecord,
  GROUP_NAME_MAX,
  parseBackupRecord,
  serializeBackupRecord,
  USER_POOL_ID_MAX,
} from "./backup-record.js";
import { type GroupPage, isGroupFileName, partIndexName, readPartitionFileName } from "./snapshot-files.js";
import {
  child,
  expectArray,
  expectCount,
  expectDate,
  expectObject,
  expectOnlyKeys,
  expectString,
  fail,
  field,
  formatDate,
  item,
  parseJsonText,
  type ReadContext,
  required,
} from "./json-reader.js";

export const SNAPSHOT_FORMAT = "cognito-user-lifecycle/snapshot";

/** A file of a snapshot as its manifest describes it: size and SHA-256 of its UTF-8 text, uncompressed. */
export interface SnapshotFileEntry {
  readonly name: string;
  readonly bytes: number;
  /** Lowercase hex. */
  readonly sha256: string;
}

export interface SnapshotPartEntry {
  /**
   * Version 1: `part-00001.jsonl`, numbered from 1 in order. Version 2: `p-a/part-00001.jsonl`, by partition
   * (`0`…`f`, the first digit of the users' sub), numbered from 1 within each.
   */
  readonly name: string;
  readonly records: number;
  /** Size of the part's UTF-8 text, uncompressed. */
  readonly bytes: number;
  /** SHA-256 of the part's UTF-8 text, uncompressed, lowercase hex. */
  readonly sha256: string;
  /** Version 2: the part's index of stable ids (`p-a/part-00001.ids`), one per record, in order. */
  readonly index?: SnapshotFileEntry;
}

/** Version 2: one file of a group's members (usernames), as the manifest describes it. */
export interface GroupFileEntry extends SnapshotFileEntry {
  /** The group's name (one of the manifest's `groups`). */
  readonly group: string;
  readonly members: number;
}

interface ManifestFields {
  readonly snapshotId: string;
  readonly userPoolId: string;
  readonly startedAt: Date;
  readonly completedAt: Date;
  readonly userCount: number;
  /** Group definitions, so a new pool can get its groups before memberships are restored. */
  readonly groups: readonly Group[];
  readonly parts: readonly SnapshotPartEntry[];
}

/** Version 1: one run of parts; each record carries its user's groups. */
export interface SnapshotManifestV1 extends ManifestFields {
  readonly version: 1;
}

/**
 * Version 2: parts by `sub` partition, each with its index of ids; records carry no groups, the memberships
 * are in per-group files.
 */
export interface SnapshotManifestV2 extends ManifestFields {
  readonly version: 2;
  readonly groupFiles: readonly GroupFileEntry[];
  /** The memberships the group files hold (their `members` summed). */
  readonly membershipCount: number;
}

export type SnapshotManifest = SnapshotManifestV1 | SnapshotManifestV2;

/** A closed part: its manifest entry and its JSON Lines text (every line ends with `\n`). */
export interface CompletedPart extends SnapshotPartEntry {
  readonly text: string;
}

export interface SnapshotPartLimits {
  /** Default 50,000. */
  readonly maxRecordsPerPart?: number;
  /** Default 64 MiB of UTF-8 text. */
  readonly maxBytesPerPart?: number;
}

const DEFAULT_MAX_RECORDS = 50_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
// Five digits keep names sortable as text; at the default 50,000 records a part that is 5 billion users,
// far beyond any pool.
const MAX_PART_INDEX = 99_999;

/**
 * The name of the part at `index` (from 1): `part-00001.jsonl`. Names sort as text in part order.
 *
 * @throws ValidationError `SNAPSHOT.INVALID_LIMIT` for an index that is not an integer from 1 to 99,999.
 */
export function snapshotPartName(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > MAX_PART_INDEX) {
    throw new ValidationError(
      "SNAPSHOT.INVALID_LIMIT",
      "part index",
      `must be an integer from 1 to ${MAX_PART_INDEX}`,
    );
  }
  return `part-${String(index).padStart(5, "0")}.jsonl`;
}

/**
 * A snapshot id for a snapshot started at `startedAt`: its ISO 8601 time with `:` and `.` replaced by `-`
 * (`2026-11-21T05-38-54-123Z`), so ids sort by time and are safe in object keys and file names.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` (field `startedAt`) for an invalid date or a year past 9999.
 */
export function snapshotIdFor(startedAt: Date): string {
  return formatDate(startedAt, "startedAt", { code: "SNAPSHOT.MALFORMED" }).replace(/[:.]/g, "-");
}

/** {@link serializeBackupRecord} plus the line's `\n`. */
export function serializeSnapshotLine(record: BackupRecord): string {
  return `${serializeBackupRecord(record)}\n`;
}

/**
 * Bytes of `text` in UTF-8, counted without encoding it. A lone surrogate counts 3, as it is written U+FFFD.
 * V8's own count (what `Buffer.byteLength` returns) follows the same rule and is many times faster than a
 * loop over the code units: it runs over every snapshot part before its hash is checked.
 */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** The manifest's description of any snapshot file whose text is known: its UTF-8 size and SHA-256. */
export function describeFile(name: string, text: string): SnapshotFileEntry {
  return {
    name,
    bytes: utf8ByteLength(text),
    sha256: createHash("sha256").update(text, "utf8").digest("hex"),
  };
}

/**
 * The manifest entry of a part whose JSON Lines text is already known (e.g. a part rewritten without some
 * records). An empty text describes an empty part.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` naming the part when the text's last line lacks its `\n`.
 */
export function describePart(name: string, text: string): SnapshotPartEntry {
  if (text !== "" && !text.endsWith("\n")) {
    throw new ValidationError("SNAPSHOT.MALFORMED", name, "the last line does not end with a newline");
  }
  let records = 0;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) records += 1;
  return {
    name,
    records,
    bytes: utf8ByteLength(text),
    sha256: createHash("sha256").update(text, "utf8").digest("hex"),
  };
}

/**
 * Cuts a stream of backup records into parts, holding at most one part in memory. A part is closed before the
 * record that would take it past either limit, so a part exceeds `maxBytesPerPart` only when one record alone
 * is larger; no part is ever empty.
 */
export class SnapshotPartWriter {
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly closed: SnapshotPartEntry[] = [];
  private lines: string[] = [];
  private bytes = 0;
  private hash: Hash = createHash("sha256");
  private finished = false;

  /** @throws ValidationError `SNAPSHOT.INVALID_LIMIT` when a limit is not a positive integer. */
  constructor(limits: SnapshotPartLimits = {}) {
    this.maxRecords = positiveLimit(limits.maxRecordsPerPart, DEFAULT_MAX_RECORDS, "maxRecordsPerPart");
    this.maxBytes = positiveLimit(limits.maxBytesPerPart, DEFAULT_MAX_BYTES, "maxBytesPerPart");
  }

  /**
   * Adds one record. Returns the part this record closed (the record itself starts the next part), if any.
   *
   * @throws ValidationError `BACKUP.MALFORMED` when the record cannot be serialized (see serializeBackupRecord).
   * @throws LifecycleError `SNAPSHOT.MALFORMED` after {@link finish}.
   */
  add(record: BackupRecord): CompletedPart | undefined {
    this.assertOpen();
    const line = serializeSnapshotLine(record);
    const size = utf8ByteLength(line);
    const full = this.lines.length >= this.maxRecords || this.bytes + size > this.maxBytes;
    const completed = this.lines.length > 0 && full ? this.close() : undefined;
    this.lines.push(line);
    this.bytes += size;
    this.hash.update(line, "utf8");
    return completed;
  }

  /** Closes and returns the last part; `undefined` when it holds no record. Further `add` calls throw. */
  finish(): CompletedPart | undefined {
    if (this.finished) return undefined;
    this.finished = true;
    return this.lines.length > 0 ? this.close() : undefined;
  }

  /** Entries of every part closed so far, in order: the manifest's `parts` once {@link finish} was called. */
  get parts(): readonly SnapshotPartEntry[] {
    return [...this.closed];
  }

  private close(): CompletedPart {
    const entry: SnapshotPartEntry = {
      name: snapshotPartName(this.closed.length + 1),
      records: this.lines.length,
      bytes: this.bytes,
      sha256: this.hash.digest("hex"),
    };
    const text = this.lines.join("");
    this.closed.push(entry);
    this.lines = [];
    this.bytes = 0;
    this.hash = createHash("sha256");
    return { ...entry, text };
  }

  private assertOpen(): void {
    if (this.finished)
      throw new LifecycleError("SNAPSHOT.MALFORMED", "The snapshot part writer is already finished");
  }
}

function positiveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError("SNAPSHOT.INVALID_LIMIT", name, "must be a positive integer");
  }
  return value;
}

/**
 * Reads the records of a part, in order.
 *
 * @throws ValidationError naming the part and line (`part-00003.jsonl line 17: user.UserStatus`):
 *   `BACKUP.MALFORMED` / `BACKUP.UNSUPPORTED_VERSION` for a bad record; `SNAPSHOT.MALFORMED` for an empty line
 *   or a last line without its `\n` (a truncated part).
 */
export function parseSnapshotPart(text: string, partName: string): BackupRecord[] {
  const records: BackupRecord[] = [];
  forEachSnapshotRecord(text, partName, (record) => {
    records.push(record);
  });
  return records;
}

/**
 * {@link parseSnapshotPart} one record at a time, without holding the part's records: each is handed to
 * `onRecord` as soon as it is read, so what the caller does not keep of it is short-lived garbage. The part is
 * checked for truncation before any record is read; the errors are the same — except that, with
 * `onMalformed`, a line that is not a valid record (one bad user in an intact part) is handed to it, with its
 * location and error, and the reading goes on.
 */
export function forEachSnapshotRecord(
  text: string,
  partName: string,
  onRecord: (record: BackupRecord) => void,
  onMalformed?: (location: string, error: ValidationError) => void,
): void {
  if (text === "") return;
  if (!text.endsWith("\n")) {
    let lines = 1;
    for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) lines += 1;
    throw new ValidationError(
      "SNAPSHOT.MALFORMED",
      `${partName} line ${lines}`,
      "the last line does not end with a newline (the part is truncated)",
    );
  }
  let line = 0;
  for (let start = 0; start < text.length;) {
    const end = text.indexOf("\n", start);
    line += 1;
    const location = `${partName} line ${line}`;
    if (end === start) throw new ValidationError("SNAPSHOT.MALFORMED", location, "empty line");
    let record: BackupRecord;
    try {
      record = parseBackupRecord(text.slice(start, end), location);
    } catch (error) {
      if (!(onMalformed && error instanceof ValidationError)) throw error;
      onMalformed(location, error);
      start = end + 1;
      continue;
    }
    onRecord(record);
    start = end + 1;
  }
}

/**
 * Checks a part's text against its manifest entry: UTF-8 size first, then SHA-256.
 *
 * @throws LifecycleError `SNAPSHOT.CHECKSUM_MISMATCH` naming the part; `details` has the expected and actual
 *   values.
 */
export function verifyPart(entry: SnapshotFileEntry, text: string): void {
  const bytes = utf8ByteLength(text);
  if (bytes !== entry.bytes) {
    throw new LifecycleError(
      "SNAPSHOT.CHECKSUM_MISMATCH",
      `${entry.name}: holds ${bytes} bytes, the manifest says ${entry.bytes}`,
      { details: { part: entry.name, expectedBytes: entry.bytes, actualBytes: bytes } },
    );
  }
  const sha256 = createHash("sha256").update(text, "utf8").digest("hex");
  if (sha256 !== entry.sha256) {
    throw new LifecycleError(
      "SNAPSHOT.CHECKSUM_MISMATCH",
      `${entry.name}: SHA-256 differs from the manifest`,
      {
        details: { part: entry.name, expectedSha256: entry.sha256, actualSha256: sha256 },
      },
    );
  }
}

const MANIFEST_KEYS = [
  "format",
  "version",
  "snapshotId",
  "userPoolId",
  "startedAt",
  "completedAt",
  "userCount",
  "groups",
  "parts",
] as const;
const MANIFEST_V2_KEYS = [...MANIFEST_KEYS, "groupFiles", "membershipCount"] as const;
const GROUP_KEYS = ["name", "description", "precedence", "roleArn"] as const;
const PART_KEYS = ["name", "records", "bytes", "sha256"] as const;
const PART_V2_KEYS = [...PART_KEYS, "index"] as const;
const FILE_KEYS = ["name", "bytes", "sha256"] as const;
const GROUP_FILE_KEYS = ["name", "group", "members", "bytes", "sha256"] as const;
// Snapshot ids become object keys and directory names: no separators, no dot segments.
const SNAPSHOT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The manifest as indented JSON (it is read by people too), keys in a fixed order, ending with a newline.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` when the manifest breaks a rule {@link parseManifest} checks:
 *   a manifest that a restore would refuse is never written.
 */
export function serializeManifest(manifest: SnapshotManifest): string {
  const ctx: ReadContext = { code: "SNAPSHOT.MALFORMED" };
  const wire = {
    format: SNAPSHOT_FORMAT,
    version: manifest.version,
    snapshotId: manifest.snapshotId,
    userPoolId: manifest.userPoolId,
    startedAt: formatDate(manifest.startedAt, "startedAt", ctx),
    completedAt: formatDate(manifest.completedAt, "completedAt", ctx),
    userCount: manifest.userCount,
    groups: manifest.groups.map((group) => ({
      name: group.name,
      ...(group.description === undefined ? {} : { description: group.description }),
      ...(group.precedence === undefined ? {} : { precedence: group.precedence }),
      ...(group.roleArn === undefined ? {} : { roleArn: group.roleArn }),
    })),
    parts: manifest.parts.map(partOnWire),
    ...(manifest.version === 2
      ? {
          membershipCount: manifest.membershipCount,
          groupFiles: manifest.groupFiles.map(({ name, group, members, bytes, sha256 }) => ({
            name,
            group,
            members,
            bytes,
            sha256,
          })),
        }
      : {}),
  };
  readManifest(wire, ctx);
  return `${JSON.stringify(wire, null, 2)}\n`;
}

/**
 * Reads a manifest (version 1 or 2) from JSON text or an already parsed value, checking: format
 * `cognito-user-lifecycle/snapshot`, a key-safe snapshot id, a user pool id, parts named
 * `part-00001.jsonl`, `part-00002.jsonl`... in order (so unique), every count a non-negative integer, the parts'
 * records summing to `userCount`, each sha256 64 lowercase hex characters, `completedAt` not before
 * `startedAt`, group names unique. Version 2 besides: parts named `p-<digit>/part-00001.jsonl`… by partition
 * in order and numbered from 1 within each, each with its index `p-<digit>/part-00001.ids`; group files named
 * `groups/…`, each of a listed group, unique, their members summing to `membershipCount`.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` naming the field (prefixed with `location` when given).
 */
export function parseManifest(input: string | unknown, location?: string): SnapshotManifest {
  const ctx: ReadContext = { code: "SNAPSHOT.MALFORMED", location };
  return readManifest(parseJsonText(input, ctx), ctx);
}

function readManifest(value: unknown, ctx: ReadContext): SnapshotManifest {
  const object = expectObject(value, "", ctx);
  if (required(object, "format", "", ctx) !== SNAPSHOT_FORMAT)
    fail(ctx, "format", `expected "${SNAPSHOT_FORMAT}"`);
  const version = required(object, "version", "", ctx);
  if (version !== 1 && version !== 2) fail(ctx, "version", "this reader supports manifest versions 1 and 2");
  expectOnlyKeys(object, version === 1 ? MANIFEST_KEYS : MANIFEST_V2_KEYS, "", ctx);

  const snapshotId = expectString(required(object, "snapshotId", "", ctx), "snapshotId", ctx, {
    minLength: 1,
    maxLength: 128,
    pattern: SNAPSHOT_ID,
    patternHint: "letters, digits, - and _ only",
  });
  const userPoolId = expectString(required(object, "userPoolId", "", ctx), "userPoolId", ctx, {
    minLength: 1,
    maxLength: USER_POOL_ID_MAX,
  });
  const startedAt = expectDate(required(object, "startedAt", "", ctx), "startedAt", ctx, {
    epochSeconds: false,
  });
  const completedAt = expectDate(required(object, "completedAt", "", ctx), "completedAt", ctx, {
    epochSeconds: false,
  });
  if (completedAt.getTime() < startedAt.getTime()) fail(ctx, "completedAt", "is before startedAt");
  const userCount = expectCount(required(object, "userCount", "", ctx), "userCount", ctx);

  const groupNames = new Set<string>();
  const groups = expectArray(required(object, "groups", "", ctx), "groups", ctx).map((entry, index) => {
    const group = readGroup(entry, item("groups", index), ctx);
    if (groupNames.has(group.name)) fail(ctx, child(item("groups", index), "name"), "duplicate group name");
    groupNames.add(group.name);
    return group;
  });

  const partList = expectArray(required(object, "parts", "", ctx), "parts", ctx);
  if (partList.length > MAX_PART_INDEX) fail(ctx, "parts", `more than ${MAX_PART_INDEX} parts`);
  const parts =
    version === 1
      ? partList.map((entry, index) => readPart(entry, index, ctx))
      : readPartitionedParts(partList, ctx);
  const records = parts.reduce((sum, part) => sum + part.records, 0);
  if (records !== userCount) fail(ctx, "userCount", `is ${userCount} but the parts hold ${records} records`);

  const fields = { snapshotId, userPoolId, startedAt, completedAt, userCount, groups, parts };
  if (version === 1) return { version: 1, ...fields };
  const membershipCount = expectCount(required(object, "membershipCount", "", ctx), "membershipCount", ctx);
  const fileNames = new Set<string>();
  const groupFiles = expectArray(required(object, "groupFiles", "", ctx), "groupFiles", ctx).map(
    (entry, index) => {
      const path = item("groupFiles", index);
      const file = readGroupFile(entry, path, ctx);
      if (!groupNames.has(file.group)) fail(ctx, child(path, "group"), "is not one of the manifest's groups");
      if (fileNames.has(file.name)) fail(ctx, child(path, "name"), "duplicate file name");
      fileNames.add(file.name);
      return file;
    },
  );
  const members = groupFiles.reduce((sum, file) => sum + file.members, 0);
  if (members !== membershipCount) {
    fail(ctx, "membershipCount", `is ${membershipCount} but the group files hold ${members} members`);
  }
  return { version: 2, ...fields, groupFiles, membershipCount };
}

/**
 * The parts one partition of a running snapshot has written (`p-a/parts.json`): their manifest entries as
 * JSON, read back with the manifest's own rules (numbered from 1 in order, each with its index).
 */
export function serializePartitionEntries(entries: readonly SnapshotPartEntry[]): string {
  return `${JSON.stringify(entries.map(partOnWire))}\n`;
}

/** A part's entry as the manifest writes it: its fields in a fixed order, nothing else. */
function partOnWire({ name, records, bytes, sha256, index }: SnapshotPartEntry) {
  return {
    name,
    records,
    bytes,
    sha256,
    ...(index === undefined ? {} : { index: { name: index.name, bytes: index.bytes, sha256: index.sha256 } }),
  };
}

/**
 * {@link serializePartitionEntries}' inverse.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` naming the file and field.
 */
export function parsePartitionEntries(text: string, name: string): SnapshotPartEntry[] {
  const ctx: ReadContext = { code: "SNAPSHOT.MALFORMED", location: name };
  return readPartitionedParts(expectArray(parseJsonText(text, ctx), "", ctx), ctx);
}

/** Version 2's parts: by partition in order, numbered from 1 within each, each with its index. */
function readPartitionedParts(list: readonly unknown[], ctx: ReadContext): SnapshotPartEntry[] {
  let partition = "";
  let number = 0;
  return list.map((value, i) => {
    const path = item("parts", i);
    const object = expectObject(value, path, ctx);
    expectOnlyKeys(object, PART_V2_KEYS, path, ctx);
    const name = expectString(required(object, "name", path, ctx), child(path, "name"), ctx);
    const read = readPartitionFileName(name);
    if (read?.kind !== "part") fail(ctx, child(path, "name"), 'expected "p-<0-f>/part-00001.jsonl"');
    if (read.partition !== partition) {
      if (read.partition < partition) fail(ctx, child(path, "name"), "partitions out of order");
      partition = read.partition;
      number = 0;
    }
    number += 1;
    if (read.index !== number)
      fail(ctx, child(path, "name"), `expected part ${number} of its partition (numbered in order)`);
    const index = readFileEntry(required(object, "index", path, ctx), child(path, "index"), ctx);
    if (index.name !== partIndexName(name))
      fail(ctx, child(child(path, "index"), "name"), "is not the part's index");
    return { ...readEntryCounts(object, path, ctx, name), index };
  });
}

function readFileEntry(value: unknown, path: string, ctx: ReadContext): SnapshotFileEntry {
  const object = expectObject(value, path, ctx);
  expectOnlyKeys(object, FILE_KEYS, path, ctx);
  const name = expectString(required(object, "name", path, ctx), child(path, "name"), ctx, {
    maxLength: 200,
  });
  return { name, ...readSizeAndHash(object, path, ctx) };
}

function readGroupFile(value: unknown, path: string, ctx: ReadContext): GroupFileEntry {
  const object = expectObject(value, path, ctx);
  expectOnlyKeys(object, GROUP_FILE_KEYS, path, ctx);
  const name = expectString(required(object, "name", path, ctx), child(path, "name"), ctx);
  if (!isGroupFileName(name)) fail(ctx, child(path, "name"), 'expected "groups/00001-01-00001.jsonl"');
  const group = expectString(required(object, "group", path, ctx), child(path, "group"), ctx, {
    minLength: 1,
    maxLength: GROUP_NAME_MAX,
  });
  const members = expectCount(required(object, "members", path, ctx), child(path, "members"), ctx);
  return { name, group, members, ...readSizeAndHash(object, path, ctx) };
}

function readSizeAndHash(
  object: Readonly<Record<string, unknown>>,
  path: string,
  ctx: ReadContext,
): { bytes: number; sha256: string } {
  const bytes = expectCount(required(object, "bytes", path, ctx), child(path, "bytes"), ctx);
  const sha256 = expectString(required(object, "sha256", path, ctx), child(path, "sha256"), ctx, {
    pattern: SHA256_HEX,
    patternHint: "64 lowercase hexadecimal characters",
  });
  return { bytes, sha256 };
}

function readEntryCounts(
  object: Readonly<Record<string, unknown>>,
  path: string,
  ctx: ReadContext,
  name: string,
): SnapshotPartEntry {
  const records = expectCount(required(object, "records", path, ctx), child(path, "records"), ctx);
  return { name, records, ...readSizeAndHash(object, path, ctx) };
}

/**
 * One page of groups as the snapshot listed them, with their member files (`groups/page-00001.json`).
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` naming the field.
 */
export function parseGroupPage(text: string, name: string): GroupPage {
  const ctx: ReadContext = { code: "SNAPSHOT.MALFORMED", location: name };
  const object = expectObject(parseJsonText(text, ctx), "", ctx);
  expectOnlyKeys(object, ["groups", "files"], "", ctx);
  const groups = expectArray(required(object, "groups", "", ctx), "groups", ctx).map((value, i) =>
    readGroup(value, item("groups", i), ctx),
  );
  const files = expectArray(required(object, "files", "", ctx), "files", ctx).map((value, i) =>
    expectArray(value, item("files", i), ctx).map((file, j) => {
      const fileName = expectString(file, item(item("files", i), j), ctx);
      if (!isGroupFileName(fileName)) fail(ctx, item(item("files", i), j), "is not a group file name");
      return fileName;
    }),
  );
  if (files.length !== groups.length) fail(ctx, "files", "does not list one entry per group");
  return { groups, files };
}

/** {@link parseGroupPage}'s inverse. */
export function serializeGroupPage(page: GroupPage): string {
  return `${JSON.stringify({ groups: page.groups.map((group) => ({ ...group })), files: page.files })}\n`;
}

function readGroup(value: unknown, path: string, ctx: ReadContext): Group {
  const object = expectObject(value, path, ctx);
  expectOnlyKeys(object, GROUP_KEYS, path, ctx);
  // Limits from Cognito's CreateGroup: GroupName 1-128 characters, Description at most 2048, Precedence a
  // non-negative integer.
  const name = expectString(required(object, "name", path, ctx), child(path, "name"), ctx, {
    minLength: 1,
    maxLength: GROUP_NAME_MAX,
  });
  const description = field(object, "description");
  const precedence = field(object, "precedence");
  const roleArn = field(object, "roleArn");
  return {
    name,
    ...(description === undefined
      ? {}
      : { description: expectString(description, child(path, "description"), ctx, { maxLength: 2048 }) }),
    ...(precedence === undefined
      ? {}
      : { precedence: expectCount(precedence, child(path, "precedence"), ctx) }),
    ...(roleArn === undefined
      ? {}
      : {
          roleArn: expectString(roleArn, child(path, "roleArn"), ctx, {
            maxLength: 2048,
            pattern: /^arn:/,
            patternHint: "an IAM role ARN",
          }),
        }),
  };
}

function readPart(value: unknown, index: number, ctx: ReadContext): SnapshotPartEntry {
  const path = item("parts", index);
  const object = expectObject(value, path, ctx);
  expectOnlyKeys(object, PART_KEYS, path, ctx);
  const name = expectString(required(object, "name", path, ctx), child(path, "name"), ctx);
  // Names are checked against their position, not only for order: they become object keys, and a gap or a
  // repeat would mean a part is missing.
  const expected = snapshotPartName(index + 1);
  if (name !== expected)
    fail(ctx, child(path, "name"), `expected "${expected}" (parts are numbered in order)`);
  return readEntryCounts(object, path, ctx, name);
}
