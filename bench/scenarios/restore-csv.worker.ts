/**
 * Child process of scenario 3a, bundled by esbuild and run by plain node (as the restore Lambda's bundle runs,
 * without tsx's per-function overhead), one process per side so that each side's peak RSS is its own:
 * `<prepare|ours|baseline> <dir> [users] [capSeconds]`; answers one message on IPC.
 */
import { appendFile, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { InMemoryErasureLedger } from "../../adapters/in-memory/erasure-ledger.js";
import { DEFAULT_CSV_HEADER, InMemoryUserDirectory } from "../../adapters/in-memory/user-directory.js";
import { systemClock, timerSleeper } from "../../adapters/shared/time.js";
import type { ImportJob, UserImportService } from "../../core/ports/user-import.js";
import { importFileText, startRestore } from "../../core/use-cases/restore-steps.js";
import { peakRssBytes } from "../lib/rss.js";
import { FIXTURE_SNAPSHOT_ID, FixtureSnapshotStore, writeFixtureSnapshot } from "./snapshot-fixture.js";

export interface CsvWorkerResult {
  readonly side: "ours" | "baseline";
  /** Peak RSS after start-up (the loader and modules), before any work: the floor of both sides. */
  readonly startRssBytes: number;
  readonly peakRssBytes: number;
  readonly finished: boolean;
  readonly ms: number;
  readonly planMs?: number;
  /** Storing the plan: serializing, checking it reads back, gzip. */
  readonly storeMs?: number;
  readonly csvMs?: number;
  /** The stored plan's size (gzip). */
  readonly planBytes?: number;
  readonly files: number;
  readonly rows: number;
  readonly bytes: number;
  /** Rows whose field count differs from the header's (a naive split on commas). */
  readonly badRows?: number;
  readonly skipped?: number;
  /** Why it did not finish: an error code (`EMFILE`) or name. */
  readonly error?: string;
  readonly errorMessage?: string;
}

/** The pool's import CSV header (GetCSVHeader), from an import service that is never asked anything else. */
class HeaderOnlyImporter implements UserImportService {
  async getCsvHeader(): Promise<string[]> {
    return [...DEFAULT_CSV_HEADER];
  }

  createImportJob(): Promise<ImportJob> {
    return Promise.reject(new Error("planning starts no import job"));
  }

  uploadCsv(): Promise<void> {
    return Promise.reject(new Error("planning uploads nothing"));
  }

  startImportJob(): Promise<ImportJob> {
    return Promise.reject(new Error("planning starts no import job"));
  }

  describeImportJob(): Promise<ImportJob> {
    return Promise.reject(new Error("planning starts no import job"));
  }
}

/**
 * What the restore Lambda does before its first upload: startRestore (plan every user into its CSV row, cut the
 * files, store the plan as the S3 store does: serialized, checked to read back, gzipped), then each file's text
 * as a step builds it just before its import job (one file in memory at a time), handed to a sink that only
 * counts it.
 */
async function ours(dir: string): Promise<Omit<CsvWorkerResult, "side" | "startRssBytes" | "peakRssBytes">> {
  const backups = await FixtureSnapshotStore.open(dir);
  const importer = new HeaderOnlyImporter();
  const deps = {
    backups,
    restores: backups,
    directory: new InMemoryUserDirectory(),
    importer,
    clock: systemClock,
    sleeper: timerSleeper,
    erasures: new InMemoryErasureLedger(),
  };
  const started = performance.now();
  const { stored } = await startRestore(deps, {
    source: { kind: "snapshot", snapshotId: FIXTURE_SNAPSHOT_ID },
  });
  const planned = performance.now();
  let bytes = 0;
  let rows = 0;
  for (let index = 0; index < stored.chunks.length; index += 1) {
    const text = importFileText(stored, index);
    bytes += Buffer.byteLength(text, "utf8");
    rows += (stored.chunks[index] as { users: number }).users;
  }
  const done = performance.now();
  return {
    finished: true,
    ms: done - started,
    planMs: planned - started - backups.planStoreMs,
    storeMs: backups.planStoreMs,
    csvMs: done - planned,
    files: stored.chunks.length,
    rows,
    bytes,
    planBytes: backups.planBytes,
    badRows: 0,
    skipped: stored.plan.skipped.length,
  };
}

/**
 * The straightforward way of the source document, written anew: read every record into memory, write the
 * header, then append one row per user without waiting (inside an unbounded Promise.all), values joined
 * with commas as they are. The document returned at that point; here the appends are awaited afterwards,
 * only to time when the file is complete and to check it.
 */
async function baseline(
  dir: string,
): Promise<Omit<CsvWorkerResult, "side" | "startRssBytes" | "peakRssBytes">> {
  const backups = await FixtureSnapshotStore.open(dir);
  const file = path.join(dir, "baseline.csv");
  const started = performance.now();
  const records: {
    user: { Username: string; Attributes: { Name: string; Value: string }[]; UserStatus: string };
  }[] = [];
  for (const part of backups.manifest.parts) {
    const text = await backups.getSnapshotPart(FIXTURE_SNAPSHOT_ID, part.name);
    for (const line of text.split("\n")) if (line !== "") records.push(JSON.parse(line));
  }
  const header = [...DEFAULT_CSV_HEADER];
  await writeFile(file, `${header.join(",")}\n`);
  const pending: Promise<void>[] = [];
  await Promise.all(
    records.map(async (record) => {
      const attributes = new Map(record.user.Attributes.map((a) => [a.Name, a.Value]));
      const values = header.map((column) => {
        if (column === "cognito:username") return record.user.Username;
        if (column === "cognito:mfa_enabled") return "false";
        return attributes.get(column) ?? "";
      });
      pending.push(appendFile(file, `${values.join(",")}\n`));
    }),
  );
  await Promise.all(pending);
  const ms = performance.now() - started;
  const text = await readFile(file, "utf8");
  const lines = text.split("\n").filter((line) => line !== "");
  const badRows = lines.slice(1).filter((line) => line.split(",").length !== header.length).length;
  return {
    finished: true,
    ms,
    files: 1,
    rows: lines.length - 1,
    bytes: Buffer.byteLength(text, "utf8"),
    badRows,
    skipped: 0,
  };
}

async function main(): Promise<void> {
  const [side, dir = ".", usersText, capText] = process.argv.slice(2);
  if (side === "prepare") {
    await writeFixtureSnapshot(dir, Number(usersText));
    process.send?.({ prepared: true }, () => process.exit(0));
    return;
  }
  if (side !== "ours" && side !== "baseline") throw new Error(`unknown side ${side}`);
  const capMs = Number(capText) * 1000;
  const startRssBytes = peakRssBytes();
  const send = (result: Omit<CsvWorkerResult, "side" | "startRssBytes" | "peakRssBytes">) =>
    new Promise<void>((resolve) =>
      process.send?.(
        { side, startRssBytes, peakRssBytes: peakRssBytes(), ...result } satisfies CsvWorkerResult,
        () => resolve(),
      ),
    );
  const started = performance.now();
  // A baseline that would run past the cap is stopped and reported as not finished.
  const cap = setTimeout(() => {
    void send({ finished: false, ms: performance.now() - started, files: 0, rows: 0, bytes: 0 }).then(() =>
      process.exit(0),
    );
  }, capMs);
  try {
    const result = side === "ours" ? await ours(dir) : await baseline(dir);
    clearTimeout(cap);
    await send(result);
  } catch (error) {
    clearTimeout(cap);
    await send({
      finished: false,
      ms: performance.now() - started,
      files: 0,
      rows: 0,
      bytes: 0,
      error: (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.name : "Error"),
      errorMessage: error instanceof Error ? error.message : String(error),
    });
  }
  process.exit(0);
}

void main();
