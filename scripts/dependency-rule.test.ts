import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The whole-house dependency rule (.dependency-cruiser.cjs) run by dependency-cruiser, as `npm run check:deps`
 * runs it, on a small house of its own: every rule has a planted violation here, and the allowed imports sit
 * beside them, so a rule that stops failing (or starts failing on what it allows) is caught. The repository's
 * own house is checked by `npm run check:deps` itself.
 */
const repo = path.resolve(__dirname, "..");
const config = path.join(repo, ".dependency-cruiser.cjs");
const depcruise = path.join(repo, "node_modules", "dependency-cruiser", "bin", "dependency-cruiser.mjs");

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

/** Files of a house, by path. Imports of files that are not listed are stubbed so they resolve. */
function aHouse(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "dependency-rule-"));
  // The packages resolve as in the repository (zod, vitest, the AWS SDK, Pulumi).
  symlinkSync(path.join(repo, "node_modules"), path.join(root, "node_modules"), "dir");
  for (const [name, text] of Object.entries(files)) {
    const full = path.join(root, name);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return root;
}

/** dependency-cruiser on `root`'s layers, on this process's Node (the project's, as `npm run check:deps`). */
function cruise(root: string, ...args: string[]) {
  const layers = ["core", "adapters", "handlers", "runtime", "jobs", "cli", "local", "infra"];
  return spawnSync(process.execPath, [depcruise, "--config", config, ...args, ...layers], {
    cwd: root,
    encoding: "utf8",
  });
}

/** A package by its name, wherever node_modules is. */
const shown = (to: string) => to.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, "npm:$1");

function violationsOf(root: string): string[] {
  const run = cruise(root, "--output-type", "json");
  if (run.status === null || run.stdout === "") throw new Error(`dependency-cruiser: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { summary: { violations: Violation[] } };
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${shown(v.to)}`).sort();
}

const stub = "export const x = 1;\n";
const stubs = Object.fromEntries(
  [
    "adapters/s3/backup-store.ts",
    "adapters/s3/permissions.ts",
    "adapters/in-memory/clock.ts",
    "handlers/restore.ts",
    "handlers/permissions.ts",
    "runtime/composition-root.ts",
    "jobs/catalogue.ts",
    "jobs/state-machine.ts",
    "jobs/restore/index.ts",
    "cli/commands/erase.ts",
    "local/stack.ts",
    "infra/stack.ts",
    "core/schedule/index.ts",
  ].map((file) => [file, stub]),
);

describe("the whole-house dependency rule", () => {
  let house: string;
  let violations: string[];

  beforeAll(() => {
    house = aHouse({
      ...stubs,
      // core/: only core/, zod and node:crypto; test support adds vitest and fast-check; tests the in-memory adapters.
      "core/use-cases/ok.ts": [
        'import { z } from "zod";',
        'import * as zm from "zod/mini";',
        'import { createHash } from "node:crypto";',
        'import { x } from "../schedule/index.js";',
        "export const ok = [z, zm, createHash, x];",
      ].join("\n"),
      "core/use-cases/ok.test.ts": [
        'import { it } from "vitest";',
        'import fc from "fast-check";',
        'import { x } from "../../adapters/in-memory/clock.js";',
        "export const ok = [it, fc, x];",
      ].join("\n"),
      "core/ports/p.contract.ts": 'import { describe } from "vitest";\nexport const ok = describe;\n',
      "core/testing/arb.ts": 'import fc from "fast-check";\nexport const ok = fc;\n',
      "core/bad/aws.ts": 'import { S3Client } from "@aws-sdk/client-s3";\nexport const y = S3Client;\n',
      "core/bad/pulumi.ts": 'import * as aws from "@pulumi/aws";\nexport const y = aws;\n',
      "core/bad/drizzle.ts": 'import { eq } from "drizzle-orm";\nexport const y = eq;\n',
      "core/bad/fs.ts": 'import { readFileSync } from "node:fs";\nexport const y = readFileSync;\n',
      "core/bad/bare-fs.ts": 'import fs from "fs";\nexport const y = fs;\n',
      "core/bad/http.ts": 'import http from "node:http";\nexport const y = http;\n',
      "core/bad/require.ts": 'const net = require("node:net");\nexport const y = net;\n',
      "core/bad/dynamic.ts": 'export const y = () => import("@aws-sdk/lib-dynamodb");\n',
      "core/bad/type-only.ts":
        'import type { S3Client } from "@aws-sdk/client-s3";\nexport type Y = S3Client;\n',
      "core/bad/type-import.ts": 'export type Y = import("@aws-sdk/client-s3").S3Client;\n',
      "core/bad/adapter.ts": 'import { x } from "../../adapters/s3/backup-store.js";\nexport const y = x;\n',
      "core/bad/handler.ts": 'import { x } from "../../handlers/restore.js";\nexport const y = x;\n',
      "core/bad/vitest.ts": 'import { it } from "vitest";\nexport const y = it;\n',
      "core/bad/in-memory.contract.ts":
        'import { x } from "../../adapters/in-memory/clock.js";\nexport const y = x;\n',
      // A cycle, even through a type-only import.
      "core/cycle/a.ts": 'import type { B } from "./b.js";\nexport interface A { b?: B }\n',
      "core/cycle/b.ts": 'import type { A } from "./a.js";\nexport interface B { a?: A }\n',
      // The outer ring: handlers, cli and local never import one another; runtime and jobs none of them.
      "handlers/bad.ts":
        'import { x } from "../cli/commands/erase.js";\nimport { y } from "../local/stack.js";\nexport const z = [x, y];\n',
      "handlers/ok.ts":
        'import { x } from "../runtime/composition-root.js";\nimport { y } from "../jobs/restore/index.js";\nexport const z = [x, y];\n',
      "cli/bad.ts":
        'import { x } from "../handlers/restore.js";\nimport { y } from "../local/stack.js";\nexport const z = [x, y];\n',
      "cli/ok.ts": 'import { x } from "../jobs/restore/index.js";\nexport const z = x;\n',
      "local/bad.test.ts":
        'import { x } from "../handlers/restore.js";\nimport { y } from "../cli/commands/erase.js";\nexport const z = [x, y];\n',
      "runtime/bad.ts": 'import { x } from "../handlers/restore.js";\nexport const z = x;\n',
      "jobs/restore/bad.ts": 'import { x } from "../../cli/commands/erase.js";\nexport const z = x;\n',
      // infra/: core/, packages and the declarations; its tests and test support anything.
      "infra/components/ok.ts": [
        'import * as aws from "@pulumi/aws";',
        'import { x } from "../../core/schedule/index.js";',
        'import { a } from "../../adapters/s3/permissions.js";',
        'import { b } from "../../handlers/permissions.js";',
        'import { c } from "../../jobs/catalogue.js";',
        'import { d } from "../../jobs/state-machine.js";',
        'import { e } from "../stack.js";',
        'import path from "node:path";',
        "export const ok = [aws, x, a, b, c, d, e, path];",
      ].join("\n"),
      "infra/components/bad.ts": [
        'import { a } from "../../adapters/s3/backup-store.js";',
        'import { b } from "../../handlers/restore.js";',
        'import { c } from "../../runtime/composition-root.js";',
        'import { d } from "../../jobs/restore/index.js";',
        'import { e } from "../../cli/commands/erase.js";',
        "export const bad = [a, b, c, d, e];",
      ].join("\n"),
      "infra/stack.test.ts": 'import { x } from "../adapters/s3/backup-store.js";\nexport const y = x;\n',
      "infra/testing/program.ts":
        'import { x } from "../../runtime/composition-root.js";\nexport const y = x;\n',
      // An import of nothing.
      "jobs/restore/missing.ts": 'import { x } from "./nowhere.js";\nexport const y = x;\n',
    });
    violations = violationsOf(house);
  });

  afterAll(() => rmSync(house, { recursive: true, force: true }));

  it("fails on every planted violation, and only on those", () => {
    expect(violations).toEqual(
      [
        "no-circular: core/cycle/a.ts → core/cycle/b.ts",
        "no-unresolvable: jobs/restore/missing.ts → ./nowhere.js",
        // core/ production code
        "core-pure: core/bad/adapter.ts → adapters/s3/backup-store.ts",
        "core-pure: core/bad/aws.ts → npm:@aws-sdk/client-s3",
        "core-pure: core/bad/bare-fs.ts → fs",
        "core-pure: core/bad/drizzle.ts → npm:drizzle-orm",
        "core-pure: core/bad/dynamic.ts → npm:@aws-sdk/lib-dynamodb",
        "core-pure: core/bad/fs.ts → fs",
        "core-pure: core/bad/handler.ts → handlers/restore.ts",
        "core-pure: core/bad/http.ts → http",
        "core-pure: core/bad/pulumi.ts → npm:@pulumi/aws",
        "core-pure: core/bad/require.ts → net",
        "core-pure: core/bad/type-import.ts → npm:@aws-sdk/client-s3",
        "core-pure: core/bad/type-only.ts → npm:@aws-sdk/client-s3",
        "core-pure: core/bad/vitest.ts → npm:vitest",
        // core/ test support: no in-memory adapter in a contract suite
        "core-test-support-pure: core/bad/in-memory.contract.ts → adapters/in-memory/clock.ts",
        // the outer ring
        "handlers-not-cli-or-local: handlers/bad.ts → cli/commands/erase.ts",
        "handlers-not-cli-or-local: handlers/bad.ts → local/stack.ts",
        "cli-not-handlers-or-local: cli/bad.ts → handlers/restore.ts",
        "cli-not-handlers-or-local: cli/bad.ts → local/stack.ts",
        "local-not-handlers-or-cli: local/bad.test.ts → cli/commands/erase.ts",
        "local-not-handlers-or-cli: local/bad.test.ts → handlers/restore.ts",
        "runtime-and-jobs-not-outer-ring: jobs/restore/bad.ts → cli/commands/erase.ts",
        "runtime-and-jobs-not-outer-ring: runtime/bad.ts → handlers/restore.ts",
        // infra/ production code
        "infra-loads-no-code: infra/components/bad.ts → adapters/s3/backup-store.ts",
        "infra-loads-no-code: infra/components/bad.ts → cli/commands/erase.ts",
        "infra-loads-no-code: infra/components/bad.ts → handlers/restore.ts",
        "infra-loads-no-code: infra/components/bad.ts → jobs/restore/index.ts",
        "infra-loads-no-code: infra/components/bad.ts → runtime/composition-root.ts",
      ].sort(),
    );
  });

  it("exits non-zero on a violation, as npm test needs", () => {
    expect(cruise(house, "--output-type", "err").status).not.toBe(0);
  });

  describe("the known violations", () => {
    // The debt still to pay: known violations pass, a new one fails, and a known one fixed must leave the list.
    let clean: string;
    let known: { from: string }[];
    beforeAll(() => {
      clean = aHouse({
        ...stubs,
        "cli/bad.ts": 'import { x } from "../handlers/restore.js";\nexport const z = x;\n',
      });
      known = JSON.parse(cruise(clean, "--output-type", "baseline").stdout) as { from: string }[];
    });
    afterAll(() => rmSync(clean, { recursive: true, force: true }));

    function checkWith(entries: readonly unknown[]) {
      writeFileSync(path.join(clean, "known.json"), JSON.stringify(entries));
      return cruise(clean, "--ignore-known", "known.json", "--output-type", "err");
    }

    it("passes when every violation is known", () => {
      expect(known).toEqual([expect.objectContaining({ from: "cli/bad.ts", to: "handlers/restore.ts" })]);
      const run = checkWith(known);
      expect(run.stdout).toContain("1 known violations ignored");
      expect(run.status).toBe(0);
    });

    it("fails on a violation not in the list", () => {
      expect(checkWith([]).status).not.toBe(0);
    });

    it("fails on a known violation that is gone (the list only shrinks)", () => {
      const run = checkWith([...known, { ...known[0], from: "cli/fixed-since.ts" }]);
      expect(run.stdout).toContain("1 stale known violations");
      expect(run.status).not.toBe(0);
    });
  });
});
