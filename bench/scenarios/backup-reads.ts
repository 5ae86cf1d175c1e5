/**
 * 3b. Reading `--backups` per-user backups from s3rver, as a restore from per-user backups does.
 * - ours: S3BackupStore.listUserBackups (ListObjectsV2 page by page, at most `readConcurrency` GETs in
 *   flight, every record parsed and checked);
 * - baseline: the source document's way — list every key, then one unbounded Promise.all of GetObject +
 *   JSON.parse over all of them.
 * Both use the same S3 client settings as the composition root (2 attempts, 2 s to connect, 10 s per
 * request), so the only difference is how many requests are in flight. The baseline is capped in time;
 * its failures (timeouts, EMFILE, socket errors) and the SDK's warnings are counted, not thrown.
 */
import { performance } from "node:perf_hooks";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { S3BackupStore } from "../../adapters/s3/backup-store.js";
import { S3RVER_CREDENTIALS, startS3rver } from "../../local/services/s3rver.js";
import { ISSUE_SIZES } from "../lib/args.js";
import type { Scenario } from "../lib/scenario.js";
import { RssSampler } from "../lib/rss.js";
import { formatNumber } from "../lib/table.js";
import { fixtureRecord } from "./snapshot-fixture.js";

const BUCKET = "bench-user-backups";
const REGION = "us-east-1";

/** The composition root's S3 client settings (runtime/composition-root.ts), pointed at s3rver. */
function s3Client(endpoint: string, logger?: Logger): S3Client {
  return new S3Client({
    region: REGION,
    endpoint,
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
    ...(logger ? { logger } : {}),
  });
}

interface Logger {
  debug: (...content: unknown[]) => void;
  info: (...content: unknown[]) => void;
  warn: (...content: unknown[]) => void;
  error: (...content: unknown[]) => void;
}

export const backupReads: Scenario = async ({ options, cleanup, log }) => {
  const s3 = cleanup.add(await startS3rver());
  const seedClient = s3Client(s3.endpoint);
  cleanup.defer("seed client", () => seedClient.destroy());
  await seedClient.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const seedStore = new S3BackupStore(seedClient, BUCKET, { versionListing: false });
  const seedStarted = performance.now();
  const limit = pLimit(32);
  await Promise.all(
    Array.from({ length: options.backups }, (_, i) => limit(() => seedStore.putUserBackup(fixtureRecord(i)))),
  );
  log(`wrote ${formatNumber(options.backups)} backups in ${Math.round(performance.now() - seedStarted)} ms`);

  // ---- ours ----
  log(`ours: S3BackupStore.listUserBackups, readConcurrency ${options.readConcurrency}`);
  const oursClient = s3Client(s3.endpoint);
  cleanup.defer("ours client", () => oursClient.destroy());
  const store = new S3BackupStore(oursClient, BUCKET, {
    versionListing: false,
    readConcurrency: options.readConcurrency,
  });
  const oursRss = new RssSampler();
  const oursStarted = performance.now();
  let oursRecords = 0;
  let oursMalformed = 0;
  let oursError: string | undefined;
  try {
    for await (const entry of store.listUserBackups()) {
      if (entry.kind === "record") oursRecords += 1;
      else oursMalformed += 1;
    }
  } catch (error) {
    oursError = error instanceof Error ? error.name : String(error);
  }
  const oursMs = performance.now() - oursStarted;
  const oursPeakRss = oursRss.stop();
  if (oursError) throw new Error(`ours failed reading the backups: ${oursError}`);

  // ---- baseline ----
  log(
    `baseline: list, then Promise.all of ${formatNumber(options.backups)} GETs (cap ${options.baselineCapSeconds} s)`,
  );
  const warnings: string[] = [];
  const capture = (...content: unknown[]) => warnings.push(content.map(String).join(" "));
  const baselineClient = s3Client(s3.endpoint, {
    debug: () => undefined,
    info: () => undefined,
    warn: capture,
    error: capture,
  });
  cleanup.defer("baseline client", () => baselineClient.destroy());
  // Smithy's socket-usage warning goes to console.warn in some versions: counted as well, not printed.
  const consoleWarn = console.warn;
  console.warn = capture;
  const baselineRss = new RssSampler();
  let baseline: Awaited<ReturnType<typeof unboundedReads>>;
  try {
    baseline = await unboundedReads(baselineClient, options.baselineCapSeconds * 1000);
  } finally {
    console.warn = consoleWarn;
  }
  const baselinePeakRss = baselineRss.stop();
  const socketWarnings = warnings.filter((warning) => /socket/i.test(warning)).length;

  const baselineOutcome = baseline.timedOut
    ? `not finished in ${options.baselineCapSeconds} s`
    : baseline.failed > 0
      ? `failed: ${formatNumber(baseline.failed)} of ${formatNumber(baseline.listed)}`
      : "ok";
  const notes = [
    "same S3 client settings on both sides (the composition root's: 2 attempts, 2 s connect timeout, 10 s request timeout); s3rver on 127.0.0.1.",
    `baseline failures by error: ${
      Object.entries(baseline.failureCodes)
        .map(([code, n]) => `${code} ${formatNumber(n)}`)
        .join(", ") || "none"
    }; SDK warn/error log lines: ${formatNumber(warnings.length)} (${formatNumber(socketWarnings)} about sockets).`,
    "peak RSS here is sampled in the benchmark process (50 ms), so it includes the other side's leftovers: read it as an indication.",
  ];
  if (options.backups < ISSUE_SIZES.backups) {
    notes.push(
      `smaller than the issue's ${formatNumber(ISSUE_SIZES.backups)} backups: pass --backups ${ISSUE_SIZES.backups}.`,
    );
  }
  return {
    parameters: {
      backups: options.backups,
      readConcurrency: options.readConcurrency,
      baselineCapSeconds: options.baselineCapSeconds,
    },
    metrics: [
      {
        measure: "outcome",
        unit: "text",
        ours: oursRecords === options.backups ? "ok" : "INCOMPLETE",
        baseline: baselineOutcome,
        target: "ours finishes",
        met: oursRecords === options.backups,
      },
      { measure: "time", unit: "ms", ours: oursMs, baseline: baseline.ms },
      { measure: "backups read", unit: "count", ours: oursRecords, baseline: baseline.read },
      { measure: "failed reads", unit: "count", ours: oursMalformed, baseline: baseline.failed },
      {
        measure: "reads per second",
        unit: "per-second",
        ours: oursRecords / (oursMs / 1000),
        baseline: baseline.read / (baseline.ms / 1000),
      },
      {
        measure: "requests in flight (max)",
        unit: "count",
        ours: options.readConcurrency,
        baseline: baseline.listed,
      },
      { measure: "SDK warn/error log lines", unit: "count", ours: 0, baseline: warnings.length },
      { measure: "peak RSS (sampled)", unit: "bytes", ours: oursPeakRss, baseline: baselinePeakRss },
    ],
    notes,
    details: {
      ours: { ms: oursMs, records: oursRecords, malformed: oursMalformed, peakRssBytes: oursPeakRss },
      baseline: {
        ...baseline,
        warnings: warnings.length,
        socketWarnings,
        peakRssBytes: baselinePeakRss,
        warningSample: warnings.slice(0, 3),
      },
    },
  };
};

/** Every key first, then every GET at once; failures counted by error code, the whole capped in time. */
async function unboundedReads(client: S3Client, capMs: number) {
  const started = performance.now();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "users/", ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  let read = 0;
  const failureCodes: Record<string, number> = {};
  const reads = Promise.allSettled(
    keys.map(async (key) => {
      const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      JSON.parse((await object.Body?.transformToString()) ?? "null");
      read += 1;
    }),
  ).then((outcomes) => {
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") continue;
      const reason = outcome.reason as { code?: string; name?: string };
      const code = reason.code ?? reason.name ?? "Error";
      failureCodes[code] = (failureCodes[code] ?? 0) + 1;
    }
    return false;
  });
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), capMs);
  });
  const timedOut = await Promise.race([reads, cap]);
  clearTimeout(timer);
  const failed = timedOut ? keys.length - read : Object.values(failureCodes).reduce((a, b) => a + b, 0);
  return { ms: performance.now() - started, listed: keys.length, read, failed, failureCodes, timedOut };
}
