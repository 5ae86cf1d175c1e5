/** The machine and the versions a run used, for results.json. Reads files only; runs no command. */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");

/** The packages whose versions shape the figures. */
const KEY_PACKAGES = [
  "mysql2",
  "drizzle-orm",
  "@aws-sdk/client-s3",
  "@aws-sdk/client-dynamodb",
  "@aws-sdk/lib-dynamodb",
  "@aws-sdk/client-cognito-identity-provider",
  "@aws-lambda-powertools/logger",
  "@aws-lambda-powertools/metrics",
  "zod",
  "esbuild",
  "s3rver",
  "dynalite",
  "tsx",
] as const;

export interface MachineInfo {
  readonly os: string;
  readonly arch: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly node: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryBytes: os.totalmem(),
    node: process.version,
  };
}

/** Installed versions of the key dependencies (read from node_modules), `null` when one is missing. */
export function packageVersions(): Record<string, string | null> {
  const versions: Record<string, string | null> = {};
  for (const name of KEY_PACKAGES) {
    try {
      const manifest = JSON.parse(
        readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8"),
      ) as {
        version?: string;
      };
      versions[name] = manifest.version ?? null;
    } catch {
      versions[name] = null;
    }
  }
  return versions;
}

/** The checked-out commit, read from `.git` (HEAD, then the ref file or packed-refs); `null` if unknown. */
export function gitCommit(root = ROOT): string | null {
  try {
    const gitDir = path.join(root, ".git");
    const head = readFileSync(path.join(gitDir, "HEAD"), "utf8").trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return null;
    try {
      return readFileSync(path.join(gitDir, ref), "utf8").trim();
    } catch {
      const packed = readFileSync(path.join(gitDir, "packed-refs"), "utf8");
      const line = packed.split("\n").find((entry) => entry.endsWith(` ${ref}`));
      return line?.split(" ")[0] ?? null;
    }
  } catch {
    return null;
  }
}
