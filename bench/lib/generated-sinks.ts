/**
 * Stores for the `scale` bench that keep no bulk data, so that the memory of the process running a job is
 * the job's own: a snapshot of 10,000,000 users is checked for duplicates and missing users without holding
 * 10,000,000 strings.
 *
 * - {@link TallyBackupStore}: a snapshot part is read once as it is put (the stable id of every line) and
 *   kept as its manifest entry plus its ids as runs of indexes of the {@link GeneratedPool} (`start, step,
 *   count`: a part of users listed in index order, or in one `sub ^=` partition, is a handful of runs), and a
 *   count, sum and xor of two 32-bit hashes of its ids. {@link TallyBackupStore.verifySnapshot} replays the
 *   runs of the parts the manifest names (and only those: a part left by a crashed run, or replaced, is not
 *   counted) into a bitset of the pool: exact duplicates, exact missing users, foreign ids. The hash tally is
 *   an independent check of the same multiset. Per-user backups are generated from the index on read (as if
 *   current, except a drifted share) and counted (GETs, PUTs), never stored.
 * - {@link TallyProfileStore}: every confirmed user has a profile except a drifted share; created profiles
 *   are a bitset.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { backupDigest } from "../../core/backup/backup-digest.js";
import type { BackupRecord } from "../../core/backup/backup-record.js";
import {
  type CompletedPart,
  describePart,
  parseManifest,
  serializeManifest,
  type SnapshotManifest,
} from "../../core/backup/snapshot.js";
import { isRecordPartName } from "../../core/backup/snapshot-files.js";
import type {
  BackupEntry,
  BackupStore,
  PutBackupOutcome,
  SnapshotPartRef,
} from "../../core/ports/backup-store.js";
import type { ProfileStore } from "../../core/ports/profile-store.js";
import { LifecycleError } from "../../core/errors.js";
import { stableUserId } from "../../core/user/user.js";
import type { Profile } from "../../core/user/profile.js";
import { Bitset, type GeneratedPool, hash32 } from "./generated-pool.js";

/** The hashes of the tally: two independent 32-bit hashes of an id's index. */
const SEED_SUM = 0x3c6ef372;
const SEED_XOR = 0xa54ff53a;
/** Above this many runs in all parts, runs are no longer kept and only the hash tally checks the snapshot. */
const MAX_RUNS = 2_000_000;

/** A count, a sum and a xor of hashes of a multiset of ids: equal for equal multisets. */
export interface IdTally {
  count: number;
  /** Sum of one hash, modulo 2^32. */
  sum: number;
  /** Xor of another hash. */
  xor: number;
}

export function emptyTally(): IdTally {
  return { count: 0, sum: 0, xor: 0 };
}

export function addToTally(tally: IdTally, index: number): void {
  tally.count += 1;
  tally.sum = (tally.sum + hash32(index, SEED_SUM)) >>> 0;
  tally.xor = (tally.xor ^ hash32(index, SEED_XOR)) >>> 0;
}

export function sameTally(a: IdTally, b: IdTally): boolean {
  return a.count === b.count && a.sum === b.sum && a.xor === b.xor;
}

/**
 * Indexes in the order they came, as runs `[start, step, count]` (flattened): 0, 16, 32, 48 is one run.
 */
export class IndexRuns {
  constructor(readonly runs: number[] = []) {}

  push(index: number): void {
    const n = this.runs.length;
    if (n >= 3) {
      const start = this.runs[n - 3] as number;
      const step = this.runs[n - 2] as number;
      const count = this.runs[n - 1] as number;
      if (count === 1 && index > start) {
        this.runs[n - 2] = index - start;
        this.runs[n - 1] = 2;
        return;
      }
      if (count > 1 && index === start + step * count) {
        this.runs[n - 1] = count + 1;
        return;
      }
    }
    this.runs.push(index, 1, 1);
  }

  get length(): number {
    return this.runs.length / 3;
  }

  forEach(visit: (index: number) => void): void {
    for (let r = 0; r < this.runs.length; r += 3) {
      const start = this.runs[r] as number;
      const step = this.runs[r + 1] as number;
      const count = this.runs[r + 2] as number;
      for (let k = 0; k < count; k += 1) visit(start + step * k);
    }
  }
}

interface StoredPart {
  readonly entry: { name: string; records: number; bytes: number; sha256: string };
  readonly tally: IdTally;
  /** `undefined` once the store stopped keeping runs (see MAX_RUNS). */
  readonly runs: IndexRuns | undefined;
  /** Lines whose stable id is no sub of the pool. */
  readonly foreign: number;
}

/** What {@link TallyBackupStore.verifySnapshot} finds. */
export interface SnapshotCheck {
  readonly manifestCount: number;
  /** Records in the parts the manifest names, as put. */
  readonly recordsInParts: number;
  /** Parts the manifest names that were never put, or put with another checksum than the manifest says. */
  readonly partsMismatched: number;
  /** Users of the pool found more than once (each extra copy counts one). `undefined` without runs. */
  readonly duplicates: number | undefined;
  /** Users of the pool, present now, found in no part. `undefined` without runs. */
  readonly missing: number | undefined;
  /** Users found that the pool does not hold now (deleted, or ids of no user of the pool). */
  readonly unexpected: number | undefined;
  readonly foreign: number;
  /** Whether the hash tally of the parts equals that of the pool's present users. */
  readonly tallyMatches: boolean;
}

export interface TallyBackupStoreOptions {
  /** One user in this many has a backup that is out of date (reconcile must write it). 0: none. */
  readonly staleBackupOneIn?: number;
  /** When backups read were captured. */
  readonly capturedAt: Date;
  readonly userPoolId: string;
  /**
   * Where snapshot files other than parts (id indexes, group files: 10,000,000 usernames at 10M users) are
   * kept, one file each, so that they weigh on no process's memory. Default: in memory.
   */
  readonly filesDir?: string;
}

/** What a {@link TallyBackupStore} holds besides its files on disk and its bitset: plain JSON. */
export interface TallyBackupStoreState {
  readonly parts: [string, StoredPart][];
  /** Serialized manifests. */
  readonly manifests: string[];
  readonly files: [string, string][];
  readonly keepRuns: boolean;
  readonly runsKept: number;
  readonly counts: BackupStoreCounts;
}

/** Counts of what the jobs asked the store. */
export interface BackupStoreCounts {
  /** GetObject of per-user backups (reconcile's per-user reads). */
  userBackupGets: number;
  userBackupPuts: number;
  userBackupErases: number;
  partPuts: number;
  /** Part puts with the same name and checksum as before (a rerun's idempotent rewrite). */
  partRepeats: number;
  /** Part puts with the same name and another checksum (the part was replaced). */
  partReplacements: number;
  partGets: number;
  manifestPuts: number;
}

/**
 * A {@link BackupStore} over a {@link GeneratedPool} that keeps per snapshot part its manifest entry, a tally
 * and runs of the indexes of its ids (a few numbers per part), never the text.
 */
export class TallyBackupStore implements BackupStore {
  private readonly parts = new Map<string, StoredPart>();
  private readonly manifests = new Map<string, SnapshotManifest>();
  private keepRuns = true;
  private runsKept = 0;
  written: Bitset;
  readonly counts: BackupStoreCounts = {
    userBackupGets: 0,
    userBackupPuts: 0,
    userBackupErases: 0,
    partPuts: 0,
    partRepeats: 0,
    partReplacements: 0,
    partGets: 0,
    manifestPuts: 0,
  };

  constructor(
    private readonly pool: GeneratedPool,
    private readonly options: TallyBackupStoreOptions,
  ) {
    this.written = new Bitset(pool.size);
    if (options.filesDir !== undefined) this.files = new FilesOnDisk(options.filesDir);
  }

  /** Whether user `index`'s stored backup is out of date (before reconcile writes it). */
  isStale(index: number): boolean {
    return this.wasStale(index) && !this.written.has(index);
  }

  /** Whether user `index`'s backup was out of date when the world was made (whatever was written since). */
  wasStale(index: number): boolean {
    const oneIn = this.options.staleBackupOneIn ?? 0;
    return oneIn > 0 && hash32(index, 0x165667b1) % oneIn === 0;
  }

  /** Bytes this store keeps: the bitset of written backups and the parts' runs. */
  get retainedBytes(): number {
    return this.written.byteLength + this.runsKept * 3 * 8 + this.parts.size * 200;
  }

  async putSnapshotPart(snapshotId: string, part: CompletedPart): Promise<void> {
    this.counts.partPuts += 1;
    const key = `${snapshotId}/${part.name}`;
    const previous = this.parts.get(key);
    if (previous?.entry.sha256 === part.sha256) {
      this.counts.partRepeats += 1;
      return;
    }
    if (previous) {
      this.counts.partReplacements += 1;
      this.runsKept -= previous.runs?.length ?? 0;
    }
    const tally = emptyTally();
    const runs = this.keepRuns ? new IndexRuns() : undefined;
    let foreign = 0;
    forEachStableId(part.text, (id) => {
      const index = this.pool.indexOfSub(id);
      if (index === undefined) {
        foreign += 1;
        return;
      }
      addToTally(tally, index);
      runs?.push(index);
    });
    this.runsKept += runs?.length ?? 0;
    if (this.runsKept > MAX_RUNS) this.dropRuns();
    const { name, records, bytes, sha256 } = part;
    this.parts.set(key, {
      entry: { name, records, bytes, sha256 },
      tally,
      runs: this.keepRuns ? runs : undefined,
      foreign,
    });
  }

  private dropRuns(): void {
    this.keepRuns = false;
    this.runsKept = 0;
    for (const [key, part] of this.parts) this.parts.set(key, { ...part, runs: undefined });
  }

  /**
   * Snapshot files besides parts (version 2's id indexes and group files) are kept whole: the snapshot reads
   * them back. Parts are tallied as {@link putSnapshotPart} does.
   */
  private files: Map<string, string> | FilesOnDisk = new Map<string, string>();

  async putSnapshotFile(snapshotId: string, name: string, text: string): Promise<void> {
    if (isRecordPartName(name))
      return this.putSnapshotPart(snapshotId, { ...describePart(name, text), text });
    this.files.set(`${snapshotId}/${name}`, text);
  }

  async getSnapshotFile(snapshotId: string, name: string): Promise<string | undefined> {
    if (isRecordPartName(name)) {
      this.counts.partGets += 1;
      if (this.parts.has(`${snapshotId}/${name}`))
        throw new Error("the bench's backup store keeps no part text");
      return undefined;
    }
    return this.files.get(`${snapshotId}/${name}`);
  }

  async listSnapshotFiles(snapshotId: string): Promise<string[]> {
    const prefix = `${snapshotId}/`;
    return [...this.parts.keys(), ...this.files.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length))
      .sort();
  }

  async listSnapshotIds(): Promise<string[]> {
    const ids = [...this.parts.keys(), ...this.files.keys(), ...this.manifests.keys()].map(
      (key) => key.split("/")[0] as string,
    );
    return [...new Set(ids)].sort();
  }

  async deleteSnapshotFile(snapshotId: string, name: string): Promise<void> {
    const key = `${snapshotId}/${name}`;
    const part = this.parts.get(key);
    if (part) this.runsKept -= part.runs?.length ?? 0;
    this.parts.delete(key);
    this.files.delete(key);
  }

  /** What the store holds (its files stay where they are), to carry it to another process. */
  saveState(): TallyBackupStoreState {
    return {
      parts: [...this.parts],
      manifests: [...this.manifests.values()].map(serializeManifest),
      files: this.files instanceof Map ? [...this.files] : [],
      keepRuns: this.keepRuns,
      runsKept: this.runsKept,
      counts: { ...this.counts },
    };
  }

  /** The store as another process left it ({@link TallyBackupStore.saveState}, its files on disk). */
  loadState(state: TallyBackupStoreState, written: Uint8Array): void {
    this.parts.clear();
    for (const [key, part] of state.parts) {
      this.parts.set(key, { ...part, runs: part.runs ? new IndexRuns(part.runs.runs) : undefined });
    }
    this.manifests.clear();
    for (const text of state.manifests) {
      const manifest = parseManifest(text);
      this.manifests.set(manifest.snapshotId, manifest);
    }
    if (this.files instanceof Map) this.files = new Map(state.files);
    this.keepRuns = state.keepRuns;
    this.runsKept = state.runsKept;
    Object.assign(this.counts, state.counts);
    this.written = Bitset.fromBytes(this.pool.size, written);
  }

  async putSnapshotManifest(manifest: SnapshotManifest): Promise<void> {
    this.counts.manifestPuts += 1;
    this.manifests.set(manifest.snapshotId, manifest);
  }

  async listSnapshots(): Promise<string[]> {
    return [...this.manifests.keys()].sort();
  }

  async getSnapshotManifest(snapshotId: string): Promise<SnapshotManifest> {
    const manifest = this.manifests.get(snapshotId);
    if (!manifest) throw new LifecycleError("SNAPSHOT.MALFORMED", `no manifest for snapshot ${snapshotId}`);
    return manifest;
  }

  getSnapshotPart(): Promise<string> {
    this.counts.partGets += 1;
    return Promise.reject(new Error("the bench's backup store keeps no part text"));
  }

  async listSnapshotParts(): Promise<SnapshotPartRef[]> {
    return [...this.parts.keys()].sort().map((key) => {
      const slash = key.indexOf("/");
      return { snapshotId: key.slice(0, slash), partName: key.slice(slash + 1) };
    });
  }

  /**
   * Checks the snapshot against the pool as it is now (`exists`): the manifest's count, and every part it
   * names replayed into a bitset (exact duplicates, missing and unexpected users), plus the hash tally.
   */
  verifySnapshot(snapshotId: string, exists: (index: number) => boolean): SnapshotCheck {
    const manifest = this.manifests.get(snapshotId);
    if (!manifest) throw new Error(`no manifest for snapshot ${snapshotId}`);
    const found = emptyTally();
    let recordsInParts = 0;
    let partsMismatched = 0;
    let foreign = 0;
    let withRuns = true;
    const named: StoredPart[] = [];
    for (const entry of manifest.parts) {
      const part = this.parts.get(`${snapshotId}/${entry.name}`);
      if (!part || part.entry.sha256 !== entry.sha256) {
        partsMismatched += 1;
        continue;
      }
      named.push(part);
      recordsInParts += part.entry.records;
      foreign += part.foreign;
      found.count += part.tally.count;
      found.sum = (found.sum + part.tally.sum) >>> 0;
      found.xor = (found.xor ^ part.tally.xor) >>> 0;
      if (!part.runs) withRuns = false;
    }
    const expected = emptyTally();
    for (let index = 0; index < this.pool.size; index += 1) if (exists(index)) addToTally(expected, index);
    let duplicates: number | undefined;
    let missing: number | undefined;
    let unexpected: number | undefined;
    if (withRuns) {
      const seen = new Bitset(this.pool.size);
      duplicates = 0;
      unexpected = 0;
      for (const part of named) {
        part.runs?.forEach((index) => {
          if (!seen.add(index)) (duplicates as number) += 1;
          else if (!exists(index)) (unexpected as number) += 1;
        });
      }
      missing = 0;
      for (let index = 0; index < this.pool.size; index += 1) {
        if (exists(index) && !seen.has(index)) missing += 1;
      }
    }
    return {
      manifestCount: manifest.userCount,
      recordsInParts,
      partsMismatched,
      duplicates,
      missing,
      unexpected,
      foreign,
      tallyMatches: sameTally(found, expected),
    };
  }

  async getUserBackup(userId: string): Promise<BackupRecord | undefined> {
    this.counts.userBackupGets += 1;
    const index = this.pool.indexOfSub(userId);
    if (index === undefined || this.isStale(index)) return undefined;
    const group = this.pool.groupOf(index);
    return {
      version: 1,
      capturedAt: this.options.capturedAt,
      source: { kind: "snapshot", userPoolId: this.options.userPoolId },
      user: { ...this.pool.userOf(index), groups: group === undefined ? [] : [group] },
    };
  }

  // A generator cannot be written without `yield`: the listing is refused as soon as it is iterated.
  listUserBackups(): AsyncIterable<BackupEntry> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new Error("the bench's backup store lists no backups")),
      }),
    };
  }

  async putUserBackup(record: BackupRecord): Promise<PutBackupOutcome> {
    this.counts.userBackupPuts += 1;
    const index = this.pool.indexOfSub(stableUserId(record.user));
    if (index !== undefined) this.written.add(index);
    return "written";
  }

  async eraseUserBackups(): Promise<number> {
    this.counts.userBackupErases += 1;
    return 0;
  }
}

/**
 * Text files in a directory, under their key (`<snapshot id>/<name>`, encoded into one file name), with the
 * Map methods the store uses. Writes are synchronous: a process killed just after a put has put the file, as
 * S3 has once PutObject answered.
 */
class FilesOnDisk {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private pathOf(key: string): string {
    return path.join(this.dir, encodeURIComponent(key));
  }

  set(key: string, text: string): void {
    writeFileSync(this.pathOf(key), text);
  }

  get(key: string): string | undefined {
    try {
      return readFileSync(this.pathOf(key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  delete(key: string): void {
    rmSync(this.pathOf(key), { force: true });
  }

  keys(): string[] {
    return readdirSync(this.dir).map((name) => decodeURIComponent(name));
  }
}

const SUB_ATTRIBUTE = '{"Name":"sub","Value":"';
const LEGACY_SUB_ATTRIBUTE = '{"Name":"custom:legacy_sub","Value":"';

/**
 * Calls `visit` with the stable id of every line of a snapshot part (`custom:legacy_sub` when present, else
 * `sub`), read from the text without parsing each record: 10,000,000 `JSON.parse` calls would cost the bench
 * a minute. A line with neither gives "".
 */
export function forEachStableId(text: string, visit: (id: string) => void): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    // Searched within the line only: a search of the rest of the part would make a part quadratic.
    const line = text.slice(start, end);
    let at = line.indexOf(LEGACY_SUB_ATTRIBUTE);
    let from = LEGACY_SUB_ATTRIBUTE.length;
    if (at === -1) {
      at = line.indexOf(SUB_ATTRIBUTE);
      from = SUB_ATTRIBUTE.length;
    }
    visit(at === -1 ? "" : line.slice(at + from, at + from + 36));
    start = end + 1;
  }
}

export interface TallyProfileStoreOptions {
  /** One confirmed user in this many has no profile yet (reconcile must create it). 0: none. */
  readonly missingProfileOneIn?: number;
  /**
   * Users whose profile holds an old backup digest (their backup drifted: reconcile reads it from S3, writes
   * it, records the digest). Every other profile holds the digest of the user as the pool lists it.
   */
  readonly drifted?: (index: number) => boolean;
  /** Profiles hold no digest until one is recorded (as before digests were kept): every user is read. */
  readonly withoutDigests?: boolean;
}

/** The digest the pool's user `index` has as listed (enabled, with its group), as reconcile computes it. */
export function currentDigestOf(pool: GeneratedPool, index: number): string {
  const group = pool.groupOf(index);
  return backupDigest({ ...pool.userOf(index), groups: group === undefined ? [] : [group] });
}

/** What a drifted profile holds: a digest of version 1 that no user's state has. */
const OLD_DIGEST = `1-${"0".repeat(32)}`;

/**
 * A {@link ProfileStore} over a {@link GeneratedPool}: profiles are made from the index (with the digest of
 * the user as listed, unless drifted and not yet recorded again); created ones and recorded digests are two
 * bitsets, no profile is kept.
 */
export class TallyProfileStore implements ProfileStore {
  created: Bitset;
  /** Users whose current digest was recorded (created with it, or by recordBackupDigest). */
  digested: Bitset;
  readonly counts = {
    batchReads: 0,
    idsRead: 0,
    creates: 0,
    deletes: 0,
    digestsRecorded: 0,
    /** recordBackupDigest calls with a digest other than the user's current one. */
    digestsNotCurrent: 0,
  };

  constructor(
    private readonly pool: GeneratedPool,
    private readonly options: TallyProfileStoreOptions = {},
  ) {
    this.created = new Bitset(pool.size);
    this.digested = new Bitset(pool.size);
  }

  get retainedBytes(): number {
    return this.created.byteLength + this.digested.byteLength;
  }

  /** The store as another process left it: the profiles it created, the digests recorded, its counts. */
  loadState(created: Uint8Array, digested: Uint8Array, counts: Partial<TallyProfileStore["counts"]>): void {
    this.created = Bitset.fromBytes(this.pool.size, created);
    this.digested = Bitset.fromBytes(this.pool.size, digested);
    Object.assign(this.counts, counts);
  }

  /** Whether user `index` had no profile before this run. */
  lacksProfile(index: number): boolean {
    const oneIn = this.options.missingProfileOneIn ?? 0;
    return this.pool.isUnconfirmed(index) || (oneIn > 0 && hash32(index, 0x61c88647) % oneIn === 0);
  }

  private profileOf(id: string): Profile | undefined {
    const index = this.pool.indexOfSub(id);
    if (index === undefined || (this.lacksProfile(index) && !this.created.has(index))) return undefined;
    const profile: Profile = {
      id,
      username: this.pool.usernameOf(index),
      email: `${this.pool.usernameOf(index)}@example.test`,
      createdAt: this.pool.createdAtOf(index),
    };
    if (this.digested.has(index)) return { ...profile, backupDigest: currentDigestOf(this.pool, index) };
    if (this.options.withoutDigests === true) return profile;
    const drifted = this.options.drifted?.(index) ?? false;
    return { ...profile, backupDigest: drifted ? OLD_DIGEST : currentDigestOf(this.pool, index) };
  }

  private noteDigest(index: number, digest: string | undefined): void {
    if (digest === undefined) return;
    if (digest === currentDigestOf(this.pool, index)) this.digested.add(index);
    else this.counts.digestsNotCurrent += 1;
  }

  async createIfAbsent(profile: Profile): Promise<{ created: boolean }> {
    this.counts.creates += 1;
    const index = this.pool.indexOfSub(profile.id);
    if (index === undefined || this.profileOf(profile.id)) return { created: false };
    const created = this.created.add(index);
    if (created) this.noteDigest(index, profile.backupDigest);
    return { created };
  }

  async get(id: string): Promise<Profile | undefined> {
    this.counts.idsRead += 1;
    return this.profileOf(id);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, Profile>> {
    this.counts.batchReads += 1;
    this.counts.idsRead += ids.length;
    const found = new Map<string, Profile>();
    for (const id of ids) {
      const profile = this.profileOf(id);
      if (profile) found.set(id, profile);
    }
    return found;
  }

  async recordBackupDigest(
    id: string,
    username: string,
    digest: string,
  ): Promise<"recorded" | "no-profile" | "identity-conflict"> {
    this.counts.digestsRecorded += 1;
    const profile = this.profileOf(id);
    if (!profile) return "no-profile";
    if (profile.username !== username) return "identity-conflict";
    this.noteDigest(this.pool.indexOfSub(id) as number, digest);
    return "recorded";
  }

  async delete(id: string): Promise<boolean> {
    this.counts.deletes += 1;
    const index = this.pool.indexOfSub(id);
    if (index !== undefined) this.digested.delete(index);
    return index !== undefined && this.created.delete(index);
  }
}
