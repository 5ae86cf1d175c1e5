import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, type RunningService, startProcess } from "./process.js";

export interface LocalS3 extends RunningService {
  readonly endpoint: string;
}

/** The only credentials s3rver accepts; clients also need `forcePathStyle: true`. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/**
 * Starts s3rver on a free port of 127.0.0.1 with a temp data dir (deleted on stop). It runs with
 * `--openssl-legacy-provider`: without it, paginated listings fail on Node 20 (`digital envelope routines`).
 */
export async function startS3rver(options: { dataDir?: string; port?: number } = {}): Promise<LocalS3> {
  // A given port (with a given dataDir) brings a stopped stand-in back where clients expect it.
  const port = options.port ?? (await freePort());
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), "s3rver-")));
  const cli = path.join(path.dirname(require.resolve("s3rver/package.json")), "bin/s3rver.js");
  const service = await startProcess(
    "s3rver",
    process.execPath,
    [
      "--openssl-legacy-provider",
      cli,
      "-d",
      dataDir,
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      "--no-vhost-buckets",
    ],
    /listening/i,
  );
  return {
    ...service,
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await service.stop();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
