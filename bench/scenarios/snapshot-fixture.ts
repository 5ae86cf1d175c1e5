/**
 * A synthetic pool snapshot for the restore benchmarks, written to disk once and read part by part, so the
 * snapshot itself never sits whole in the benchmark's memory (as it would not, on S3).
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { InMemoryBackupStore } from "../../adapters/in-memory/backup-store.js";
import type { BackupRecord } from "../../core/backup/backup-record.js";
import { restorePlanLines, type StoredRestorePlan } from "../../core/backup/restore-state.js";
import { gzipLines } from "../../adapters/shared/gzip.js";
import {
  describePart,
  type SnapshotManifest,
  type SnapshotPartEntry,
  serializeSnapshotLine,
  snapshotPartName,
} from "../../core/backup/snapshot.js";
import { makeUser, type User } from "../../core/user/user.js";

const CAPTURED_AT = new Date("2026-03-01T00:00:00.000Z");
const CREATED_AT = new Date("2025-06-01T00:00:00.000Z");
export const FIXTURE_POOL_ID = "us-east-1_BenchPool1";
export const FIXTURE_SNAPSHOT_ID = "2026-03-01T00-00-00-000Z";
export const RECORDS_PER_PART = 50_000;

/**
 * User `i` of the fixture. Synthetic values only (`example.test`). Some carry what a naive CSV writer gets
 * wrong: a comma in the name (1 in 20), a double quote (1 in 50); 1 in 100 never confirmed (not importable),
 * 1 in 7 in a group, 1 in 50 disabled.
 */
export function fixtureUser(i: number): User {
  const n = i.toString().padStart(7, "0");
  const name = i % 20 === 0 ? `Member ${n}, Jr.` : i % 50 === 1 ? `Member "${n}"` : `Member ${n}`;
  return makeUser({
    username: `member-${n}`,
    sub: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
    status: i % 100 === 99 ? "UNCONFIRMED" : "CONFIRMED",
    enabled: i % 50 !== 7,
    createdAt: CREATED_AT,
    modifiedAt: CREATED_AT,
    groups: i % 7 === 0 ? ["premium"] : [],
    attributes: {
      email: `member-${n}@example.test`,
      email_verified: "true",
      name,
      locale: "ja-JP",
      updated_at: "1748736000",
    },
  });
}

export function fixtureRecord(i: number): BackupRecord {
  return {
    version: 1,
    capturedAt: CAPTURED_AT,
    source: { kind: "snapshot", userPoolId: FIXTURE_POOL_ID },
    user: fixtureUser(i),
  };
}

function partText(users: number, index: number): string {
  const first = (index - 1) * RECORDS_PER_PART;
  const last = Math.min(users, first + RECORDS_PER_PART);
  const lines: string[] = [];
  for (let i = first; i < last; i++) lines.push(serializeSnapshotLine(fixtureRecord(i)));
  return lines.join("");
}

const ENTRIES_FILE = "parts.json";

/**
 * Writes the snapshot of `users` fixture users into `dir`: one JSON Lines file per part (as the snapshot
 * writes them, 50,000 records each) and the parts' manifest entries. One part in memory at a time.
 */
export async function writeFixtureSnapshot(dir: string, users: number): Promise<void> {
  const entries: SnapshotPartEntry[] = [];
  for (let index = 1; (index - 1) * RECORDS_PER_PART < users; index++) {
    const name = snapshotPartName(index);
    const text = partText(users, index);
    entries.push(describePart(name, text));
    await writeFile(path.join(dir, name), text);
  }
  await writeFile(path.join(dir, ENTRIES_FILE), JSON.stringify({ users, entries }));
}

/**
 * A backup store holding the fixture snapshot written by {@link writeFixtureSnapshot} (parts read from disk
 * when asked, as from S3) and no per-user backups; every other operation is the in-memory store's own.
 */
export class FixtureSnapshotStore extends InMemoryBackupStore {
  private constructor(
    private readonly dir: string,
    readonly manifest: SnapshotManifest,
  ) {
    super();
  }

  static async open(dir: string): Promise<FixtureSnapshotStore> {
    const { users, entries } = JSON.parse(await readFile(path.join(dir, ENTRIES_FILE), "utf8")) as {
      users: number;
      entries: SnapshotPartEntry[];
    };
    return new FixtureSnapshotStore(dir, {
      version: 1,
      snapshotId: FIXTURE_SNAPSHOT_ID,
      userPoolId: FIXTURE_POOL_ID,
      startedAt: CAPTURED_AT,
      completedAt: CAPTURED_AT,
      userCount: users,
      groups: [{ name: "premium", description: "Paying members" }],
      parts: entries,
    });
  }

  override async listSnapshots(): Promise<string[]> {
    return [FIXTURE_SNAPSHOT_ID];
  }

  override async getSnapshotManifest(): Promise<SnapshotManifest> {
    return this.manifest;
  }

  /** Storing a restore plan as the S3 store does (serialize, check, gzip), keeping only its size. */
  override async putRestorePlan(stored: StoredRestorePlan): Promise<void> {
    const started = performance.now();
    this.planBytes = (await gzipLines(restorePlanLines(stored))).length;
    this.planStoreMs += performance.now() - started;
  }

  planBytes = 0;
  planStoreMs = 0;

  override async getSnapshotPart(_snapshotId: string, partName: string): Promise<string> {
    if (!this.manifest.parts.some((part) => part.name === partName)) throw new Error(`no part ${partName}`);
    return readFile(path.join(this.dir, partName), "utf8");
  }
}
