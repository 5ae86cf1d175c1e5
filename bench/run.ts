/**
 * `npm run bench`: runs the chosen scenarios one after another, each side by side with its baseline, prints
 * one table per scenario and writes a JSON report (figures, ratios, targets met, machine and versions).
 *
 * A missed target is reported, never turned into a failure: the exit code is 1 only when a scenario could
 * not run (a missing MariaDB, a failed build), 130 on Ctrl-C. Everything a scenario starts is stopped by PID
 * when it ends, fails or is interrupted.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { type BenchOptions, DEFAULTS, parseArgs, SCENARIOS, type ScenarioId } from "./lib/args.js";
import { gitCommit, machineInfo, packageVersions, ROOT } from "./lib/machine.js";
import type { Scenario, ScenarioOutcome } from "./lib/scenario.js";
import { BenchSetupError, Cleanup } from "./lib/services.js";
import { formatBytes, formatMs, type Metric, metricRatio, metricRow, renderRows } from "./lib/table.js";
import { accountsPurge } from "./scenarios/accounts-purge.js";
import { backupReads } from "./scenarios/backup-reads.js";
import { identityPurge } from "./scenarios/identity-purge.js";
import { postConfirmation } from "./scenarios/post-confirmation.js";
import { restoreCsv } from "./scenarios/restore-csv.js";
import { scale } from "./scenarios/scale.js";

const RUNNERS: Record<ScenarioId, Scenario> = {
  "accounts-purge": accountsPurge,
  "identity-purge": identityPurge,
  "restore-csv": restoreCsv,
  "backup-reads": backupReads,
  "post-confirmation": postConfirmation,
  scale,
};

interface ScenarioRecord extends Partial<ScenarioOutcome> {
  readonly id: ScenarioId;
  readonly number: string;
  readonly title: string;
  readonly status: "ok" | "error";
  readonly durationMs: number;
  readonly error?: string;
}

const log = (line: string) => process.stderr.write(`  · ${line}\n`);

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  // The AWS SDK warns once per process that its 2027 releases need Node 22: known (versions are pinned) and
  // noise in a report. Set before any client exists; child processes inherit it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  let current: Cleanup | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${signal}, stopping what was started…\n`);
    void (current?.run() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);

  const started = performance.now();
  const records: ScenarioRecord[] = [];
  for (const id of options.only) {
    const meta = SCENARIOS.find((scenario) => scenario.id === id) as (typeof SCENARIOS)[number];
    process.stderr.write(`\n${meta.number}. ${meta.title} (${id})\n`);
    const cleanup = new Cleanup();
    current = cleanup;
    const scenarioStarted = performance.now();
    try {
      const outcome = await RUNNERS[id]({ options, cleanup, log });
      const record: ScenarioRecord = {
        id,
        number: meta.number,
        title: meta.title,
        status: "ok",
        durationMs: performance.now() - scenarioStarted,
        ...outcome,
      };
      records.push(record);
      await cleanup.run();
      printScenario(record);
    } catch (error) {
      await cleanup.run();
      const message =
        error instanceof BenchSetupError
          ? error.message
          : error instanceof Error
            ? (error.stack ?? error.message)
            : String(error);
      records.push({
        id,
        number: meta.number,
        title: meta.title,
        status: "error",
        durationMs: performance.now() - scenarioStarted,
        error: message,
      });
      process.stdout.write(`\n${meta.number}. ${meta.title}: could not run\n${message}\n`);
    } finally {
      current = undefined;
    }
  }
  const totalMs = performance.now() - started;

  const out = path.resolve(ROOT, options.out);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report(options, records, totalMs), null, 2)}\n`);
  printSummary(records, totalMs, out);
  return records.some((record) => record.status === "error") ? 1 : 0;
}

function printScenario(record: ScenarioRecord): void {
  const lines = [
    "",
    `${record.number}. ${record.title} — ${formatMs(record.durationMs)}`,
    renderRows((record.metrics ?? []).map(metricRow)),
    ...(record.notes ?? []).map((note) => `  note: ${note}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

function targetsOf(records: readonly ScenarioRecord[]): { met: string[]; missed: string[] } {
  const met: string[] = [];
  const missed: string[] = [];
  for (const record of records) {
    for (const metric of record.metrics ?? []) {
      if (metric.met === undefined) continue;
      (metric.met ? met : missed).push(`${record.number} ${metric.measure} (${metric.target})`);
    }
  }
  return { met, missed };
}

function printSummary(records: readonly ScenarioRecord[], totalMs: number, out: string): void {
  const { met, missed } = targetsOf(records);
  const failed = records.filter((record) => record.status === "error");
  const machine = machineInfo();
  const lines = [
    "",
    `Total wall time: ${formatMs(totalMs)} on ${machine.cpus} × ${machine.cpuModel}, ${formatBytes(machine.memoryBytes)}, Node ${machine.node}.`,
    `Targets met: ${met.length}; missed: ${missed.length}${missed.length > 0 ? ` — ${missed.join("; ")}` : ""}.`,
    ...(failed.length > 0 ? [`Could not run: ${failed.map((record) => record.id).join(", ")}.`] : []),
    `Report: ${path.relative(process.cwd(), out) || out}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

function report(options: BenchOptions, records: readonly ScenarioRecord[], totalMs: number) {
  const { met, missed } = targetsOf(records);
  return {
    generatedAt: new Date().toISOString(),
    arguments: process.argv.slice(2),
    options,
    defaults: DEFAULTS,
    totalMs,
    targets: { met: met.length, missed: missed.length, missedList: missed },
    machine: machineInfo(),
    versions: { node: process.version, packages: packageVersions(), gitCommit: gitCommit() },
    scenarios: records.map((record) => ({
      ...record,
      metrics: record.metrics?.map((metric: Metric) => ({ ...metric, ratio: metricRatio(metric) ?? null })),
    })),
  };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof BenchSetupError ? error.message : error);
    process.exit(1);
  },
);
