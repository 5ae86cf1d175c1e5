/**
 * 3a. Restore planning from a snapshot: the CSV import files for `--csv-users` users.
 * - ours: what the restore does before its first upload — startRestore (every part verified against the
 *   manifest, each user mapped to its CSV row and checked, the files cut under Cognito's limits, the plan
 *   stored as the S3 store does), then each file's text as the step before its import job builds it, one
 *   file in memory at a time;
 * - baseline: the source document's way, written anew — every record in memory, one un-awaited appendFile
 *   per user inside an unbounded Promise.all, values joined with commas unescaped.
 * Each side runs in its own child process, so its peak RSS (getrusage's maxRSS) is its own.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ISSUE_SIZES } from "../lib/args.js";
import { bundleWorker } from "../lib/bundle.js";
import { runWorker } from "../lib/fork.js";
import type { Scenario } from "../lib/scenario.js";
import { formatNumber } from "../lib/table.js";
import type { CsvWorkerResult } from "./restore-csv.worker.js";

const MAX_MS = 10_000;
const MAX_RSS_BYTES = 512_000_000;
/**
 * V8's old-generation limit for ours, in MiB (the unit of `--max-old-space-size`): what is left of 512 MB
 * (488 MiB) once the rest of the process is counted — the young generation (up to 3 × 16 MiB of semi-spaces),
 * Node's own memory and the loaded code (45 MiB at start), buffers. V8 lets the old generation grow to its limit
 * before collecting hard, so the peak RSS comes near limit + 93 MiB: with 460 (90% of 512) it ranged from 420 to
 * 520 MiB from run to run, with 400 up to 493 MiB. Without a limit V8 sizes the heap from the machine's memory,
 * and on a machine with many GB collects so lazily that the RSS says more about the machine than about the code.
 */
const HEAP_LIMIT_MB = 384;
const WORKER = path.join(__dirname, "restore-csv.worker.ts");

export const restoreCsv: Scenario = async ({ options, cleanup, log }) => {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-csv-"));
  cleanup.defer("csv temp dir", () => rm(dir, { recursive: true, force: true }));
  const users = options.csvUsers;
  const worker = await bundleWorker(WORKER, dir);
  log(`writing a snapshot of ${formatNumber(users)} users (JSON Lines parts on disk)`);
  await runWorker(worker, ["prepare", dir, String(users)], cleanup, { timeoutMs: 600_000 });
  const run = (side: "ours" | "baseline", capSeconds: number, execArgv: string[] = []) =>
    runWorker<CsvWorkerResult>(worker, [side, dir, String(users), String(capSeconds)], cleanup, {
      timeoutMs: (capSeconds + 60) * 1000,
      execArgv,
    });

  log(
    `ours: startRestore + each import file for ${formatNumber(users)} users (child process, heap limit ${HEAP_LIMIT_MB} MiB)`,
  );
  const ours = await run("ours", Math.max(300, options.baselineCapSeconds), [
    `--max-old-space-size=${HEAP_LIMIT_MB}`,
  ]);
  if (!ours.finished) throw new Error(`ours did not finish: ${ours.error ?? "time cap reached"}`);
  log("ours again, without a heap limit (peak RSS only)");
  const unlimited = await run("ours", Math.max(300, options.baselineCapSeconds));
  log(
    `baseline: unbounded Promise.all of un-awaited appendFile (child process, cap ${options.baselineCapSeconds} s)`,
  );
  const baseline = await run("baseline", options.baselineCapSeconds);

  const planAndFiles = (ours.planMs ?? 0) + (ours.csvMs ?? 0);
  const baselineText = (value: number | undefined) =>
    baseline.finished
      ? value
      : baseline.error
        ? `failed: ${baseline.error}`
        : `not finished in ${options.baselineCapSeconds} s`;
  const notes = [
    "the snapshot (50,000 records per part, as snapshotUsers writes it) is read part by part from disk, as from S3: neither side holds it whole unless it chooses to. Both sides run esbuild-bundled in plain node, as the restore Lambda does.",
    "ours: startRestore (parts verified against the manifest, each user mapped to its CSV row and checked, files cut under Cognito's limits, the plan stored as S3RestoreStateStore stores it: checked line by line and gzipped), then each file's text as the step before its import job builds it, one at a time. The time target is read on planning + CSV files, the issue's scope; storing the plan (what lets a restore resume in a later invocation) is shown apart.",
    `ours runs with --max-old-space-size=${HEAP_LIMIT_MB}, the old generation of a process that must fit in 512 MB once its young generation, code and buffers are counted; without it, V8 on this machine collects lazily: peak RSS ${formatNumber(unlimited.peakRssBytes / 1024 / 1024)} MiB for the same work. The baseline runs without a limit (one would only make it fail sooner).`,
    `1 in 100 fixture users never confirmed (not importable: ours skips them with a reason, the baseline writes them); 1 in 20 names hold a comma, 1 in 50 a double quote.`,
    `RSS at worker start (node + bundle, before any work): ours ${formatNumber(ours.startRssBytes / 1024 / 1024)} MiB, baseline ${formatNumber(baseline.startRssBytes / 1024 / 1024)} MiB.`,
  ];
  if (users < ISSUE_SIZES.csvUsers) {
    notes.push(
      `smaller than the issue's ${formatNumber(ISSUE_SIZES.csvUsers)} users: pass --csv-users ${ISSUE_SIZES.csvUsers}.`,
    );
  }
  return {
    parameters: { users, baselineCapSeconds: options.baselineCapSeconds },
    metrics: [
      {
        measure: "time: planning + CSV files",
        unit: "ms",
        ours: planAndFiles,
        baseline: baselineText(baseline.ms),
        target: "< 10 s",
        met: planAndFiles < MAX_MS,
      },
      { measure: "  of which planning", unit: "ms", ours: ours.planMs, baseline: undefined },
      { measure: "  of which CSV files", unit: "ms", ours: ours.csvMs, baseline: undefined },
      { measure: "storing the plan (resume state)", unit: "ms", ours: ours.storeMs, baseline: undefined },
      { measure: "time with storing", unit: "ms", ours: ours.ms, baseline: undefined },
      {
        measure: "peak RSS",
        unit: "bytes",
        ours: ours.peakRssBytes,
        baseline: baseline.peakRssBytes,
        target: "< 512 MB",
        met: ours.peakRssBytes < MAX_RSS_BYTES,
      },
      {
        measure: "peak RSS, no heap limit",
        unit: "bytes",
        ours: unlimited.peakRssBytes,
        baseline: undefined,
      },
      { measure: "CSV files", unit: "count", ours: ours.files, baseline: baselineText(baseline.files) },
      { measure: "rows written", unit: "count", ours: ours.rows, baseline: baselineText(baseline.rows) },
      { measure: "users skipped with a reason", unit: "count", ours: ours.skipped, baseline: 0 },
      {
        measure: "rows with a wrong field count",
        unit: "count",
        ours: ours.badRows,
        baseline: baselineText(baseline.badRows),
      },
      { measure: "CSV bytes", unit: "bytes", ours: ours.bytes, baseline: baselineText(baseline.bytes) },
      { measure: "stored plan (gzip)", unit: "bytes", ours: ours.planBytes, baseline: undefined },
    ],
    notes,
    details: { ours, oursWithoutHeapLimit: unlimited, baseline, heapLimitMb: HEAP_LIMIT_MB },
  };
};
