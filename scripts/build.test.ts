import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_NAMES } from "../jobs/catalogue.js";
import { buildHandlers } from "./build.js";

let outDir: string;
let outputs: string[];

beforeAll(async () => {
  // Inside the repository, so the bundles resolve the AWS SDK from node_modules as the runtime would.
  await mkdir(path.join(__dirname, "..", "dist"), { recursive: true });
  outDir = await mkdtemp(path.join(__dirname, "..", "dist", "test-build-"));
  outputs = await buildHandlers(outDir);
}, 60_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe("npm run build", () => {
  it("writes one bundle per function at dist/handlers/<name>/index.js", async () => {
    expect(outputs).toEqual(JOB_NAMES.map((name) => path.join(outDir, name, "index.js")));
    for (const file of outputs) expect((await stat(file)).size).toBeGreaterThan(0);
  });

  it("ships the accounts migrations beside the database setup's bundle, where the bundled code looks", async () => {
    const folder = path.join(outDir, "setup-accounts-database", "migrations");
    expect((await stat(path.join(folder, "meta", "_journal.json"))).isFile()).toBe(true);
    expect((await stat(path.join(folder, "0000_accounts.sql"))).isFile()).toBe(true);
  });

  it("exports a handler that, without its environment, fails naming the missing variable", async () => {
    const saved = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    try {
      for (const file of outputs) {
        // The bundle as the Lambda runtime loads it: a CommonJS module.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { handler } = require(file) as { handler: (event: unknown) => Promise<unknown> };
        expect(typeof handler).toBe("function");
        await expect(handler({})).rejects.toThrow(/^[A-Z][A-Z_]+: environment variable is missing or empty$/);
      }
    } finally {
      if (saved !== undefined) process.env.AWS_REGION = saved;
    }
  });

  it("leaves the AWS SDK out of the bundles (the nodejs22.x runtime provides it)", async () => {
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(path.join(outDir, "post-confirmation", "index.js"), "utf8");
    expect(text).toMatch(/require\("@aws-sdk\/client-dynamodb"\)/);
    expect(text).not.toMatch(/class DynamoDBClient\b/);
  });
});
