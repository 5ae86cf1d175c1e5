/**
 * 4. The Post Confirmation handler.
 * - bundle size of every handler, built by the project's own scripts/build.ts (esbuild, minified, SDK
 *   external), into a temp dir;
 * - cold module init: `require()` of the bundle in fresh processes (median of `--cold-starts`);
 * - warm latency: `--invocations` invocations one after another against dynalite and s3rver.
 * Baseline: a handler doing the same two writes one after the other with default SDK clients
 * (post-confirmation.baseline.ts), bundled with the same esbuild options.
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { startDynalite } from "../../local/services/dynalite.js";
import { S3RVER_CREDENTIALS, startS3rver } from "../../local/services/s3rver.js";
import { buildHandlers } from "../../scripts/build.js";
import { bundleWorker } from "../lib/bundle.js";
import { runWorker } from "../lib/fork.js";
import { ROOT } from "../lib/machine.js";
import type { Scenario } from "../lib/scenario.js";
import { BenchSetupError } from "../lib/services.js";
import { percentile, summarize } from "../lib/stats.js";
import type { Metric } from "../lib/table.js";
import type { HandlerTimings } from "./post-confirmation.worker.js";

const MAX_BUNDLE_BYTES = 100_000;
const TABLE = "bench-profiles";
const BUCKET = "bench-backups";
const REGION = "us-east-1";

export const postConfirmation: Scenario = async ({ options, cleanup, log }) => {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-handlers-"));
  cleanup.defer("handlers temp dir", () => rm(dir, { recursive: true, force: true }));

  log("building the handlers with scripts/build.ts (esbuild, minified, SDK external)");
  let outputs: string[];
  try {
    outputs = await buildHandlers(path.join(dir, "handlers"));
  } catch (error) {
    throw new BenchSetupError(
      `the handlers could not be built: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const baselineBundle = await bundleWorker(path.join(__dirname, "post-confirmation.baseline.ts"), dir);
  const worker = await bundleWorker(path.join(__dirname, "post-confirmation.worker.ts"), dir);
  const oursBundle = outputs.find((file) => path.basename(path.dirname(file)) === "post-confirmation");
  if (!oursBundle) throw new BenchSetupError("scripts/build.ts built no post-confirmation bundle");

  const sizes = await Promise.all(
    outputs.map(async (file) => {
      const text = await readFile(file, "utf8");
      return {
        name: path.basename(path.dirname(file)),
        bytes: (await stat(file)).size,
        // Loaded at run time, not inlined: an inlined client would carry the SDK's user-agent prefix.
        sdkExternal: /require\("@aws-sdk\//.test(text) && !text.includes("aws-sdk-js"),
      };
    }),
  );
  const baselineBytes = (await stat(baselineBundle)).size;

  log("starting dynalite and s3rver on 127.0.0.1");
  const [dynamo, s3] = await Promise.all([startDynalite(), startS3rver()]);
  cleanup.add(dynamo);
  cleanup.add(s3);
  const dynamoClient = new DynamoDBClient({
    region: REGION,
    endpoint: dynamo.endpoint,
    credentials: S3RVER_CREDENTIALS,
  });
  const s3Client = new S3Client({
    region: REGION,
    endpoint: s3.endpoint,
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
  });
  cleanup.defer("setup clients", () => {
    dynamoClient.destroy();
    s3Client.destroy();
  });
  await dynamoClient.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  await s3Client.send(new CreateBucketCommand({ Bucket: BUCKET }));

  const env = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    S3_VERSION_LISTING: "false",
    PROFILE_TABLE: TABLE,
    BACKUP_BUCKET: BUCKET,
    // A failed write then fails the invocation, so the benchmark counts it (by default it is only logged).
    SYNC_FAILURE_MODE: "fail",
    // The bundles keep the SDK external: resolve it from the project's node_modules, as the runtime provides it.
    NODE_PATH: path.join(ROOT, "node_modules"),
  };
  const time = (mode: "cold" | "warm", bundle: string, tag: string) =>
    runWorker<HandlerTimings>(worker, [mode, bundle, String(options.invocations), tag], cleanup, {
      timeoutMs: 120_000 + options.invocations * 1_000,
      env,
      // The handlers' own log lines and metrics (stdout) are not part of the report.
      silent: true,
    });

  log(`cold module init: ${options.coldStarts} fresh processes per handler`);
  const coldOurs: number[] = [];
  const coldBaseline: number[] = [];
  for (let i = 0; i < options.coldStarts; i++) {
    coldOurs.push((await time("cold", oursBundle, "001")).initMs);
    coldBaseline.push((await time("cold", baselineBundle, "002")).initMs);
  }

  log(`warm: ${options.invocations} invocations per handler against dynalite + s3rver`);
  const warmOurs = await time("warm", oursBundle, "003");
  const warmBaseline = await time("warm", baselineBundle, "004");
  const oursStats = summarize(warmOurs.latencies ?? []);
  const baselineStats = summarize(warmBaseline.latencies ?? []);
  const [oursObjects, baselineObjects] = await Promise.all([
    countObjects(s3Client, "users/"),
    countObjects(s3Client, "cognito_user_"),
  ]);
  const expectedObjects = options.invocations + 1;

  const post = sizes.find((size) => size.name === "post-confirmation");
  const metrics: Metric[] = [
    {
      measure: "bundle size: post-confirmation",
      unit: "bytes",
      ours: post?.bytes,
      baseline: baselineBytes,
      target: "< 100 KB, SDK external",
      met: post !== undefined && post.bytes < MAX_BUNDLE_BYTES && post.sdkExternal,
    },
    ...sizes
      .filter((size) => size.name !== "post-confirmation")
      .map((size): Metric => ({
        measure: `bundle size: ${size.name}`,
        unit: "bytes",
        ours: size.bytes,
        target: "< 100 KB, SDK external",
        met: size.bytes < MAX_BUNDLE_BYTES && size.sdkExternal,
      })),
    {
      measure: "cold module init (median)",
      unit: "ms",
      ours: percentile(coldOurs, 50),
      baseline: percentile(coldBaseline, 50),
    },
    { measure: "first invocation", unit: "ms", ours: warmOurs.firstMs, baseline: warmBaseline.firstMs },
    { measure: "warm p50", unit: "ms", ours: oursStats.p50, baseline: baselineStats.p50 },
    { measure: "warm p99", unit: "ms", ours: oursStats.p99, baseline: baselineStats.p99 },
    { measure: "warm max", unit: "ms", ours: oursStats.max, baseline: baselineStats.max },
    {
      measure: "failed invocations",
      unit: "count",
      ours: warmOurs.errors ?? 0,
      baseline: warmBaseline.errors ?? 0,
    },
    { measure: "backups written", unit: "count", ours: oursObjects, baseline: baselineObjects },
  ];
  return {
    parameters: { invocations: options.invocations, coldStarts: options.coldStarts },
    metrics,
    notes: [
      "bundles: scripts/build.ts's buildHandlers (esbuild, minify, node22 target, @aws-sdk/* and @smithy/* external); the baseline bundled with the same options. 100 KB read as 100,000 bytes.",
      "cold module init = require() of the bundle in a fresh node process (SDK packages loaded from node_modules), not the process start-up.",
      `warm: one invocation after another, a new user each time; ours writes profile and backup in parallel (syncConfirmedUser), the baseline one after the other. Expected ${expectedObjects} backups per side.`,
      "SYNC_FAILURE_MODE=fail for the run, so a failed write counts as a failed invocation.",
    ],
    details: {
      bundles: sizes,
      baselineBundleBytes: baselineBytes,
      cold: { ours: coldOurs, baseline: coldBaseline },
      warm: {
        ours: { ...oursStats, firstMs: warmOurs.firstMs },
        baseline: { ...baselineStats, firstMs: warmBaseline.firstMs },
      },
      errors: { ours: warmOurs.errorSample, baseline: warmBaseline.errorSample },
    },
  };
};

async function countObjects(client: S3Client, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    count += page.KeyCount ?? page.Contents?.length ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return count;
}
