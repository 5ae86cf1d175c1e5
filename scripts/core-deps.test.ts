import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findCoreViolations, findInfraViolations, importsOf } from "./core-deps.js";

describe("the core dependency rule", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function aCore(files: Record<string, string>): string {
    const root = mkdtempSync(path.join(tmpdir(), "core-deps-"));
    dirs.push(root);
    for (const [name, text] of Object.entries(files)) {
      const full = path.join(root, "core", name);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, text);
    }
    return path.join(root, "core");
  }

  it("holds for this repository's core/", () => {
    expect(findCoreViolations("core")).toEqual([]);
  });

  it.each([
    ['import { S3Client } from "@aws-sdk/client-s3";', "@aws-sdk/client-s3"],
    ['import * as aws from "@pulumi/aws";', "@pulumi/aws"],
    ['import { eq } from "drizzle-orm";', "drizzle-orm"],
    ['import mysql from "mysql2/promise";', "mysql2/promise"],
    ['import { readFileSync } from "node:fs";', "node:fs"],
    ['import fs from "fs";', "fs"],
    ['import http from "node:http";', "node:http"],
    ['import { exec } from "node:child_process";', "node:child_process"],
    ['import net from "node:net";', "node:net"],
    ['import { x } from "../../adapters/s3/store.js";', "../../adapters/s3/store.js"],
    ['import { x } from "../../handlers/post-confirmation.js";', "../../handlers/post-confirmation.js"],
    ['import { x } from "../../infra/index.js";', "../../infra/index.js"],
    ['import { x } from "../../cli/main.js";', "../../cli/main.js"],
    ['export { x } from "../../adapters/in-memory/clock.js";', "../../adapters/in-memory/clock.js"],
    ['const fs = require("node:fs");', "node:fs"],
    ['const m = await import("@aws-sdk/lib-dynamodb");', "@aws-sdk/lib-dynamodb"],
    ['type C = import("@aws-sdk/client-s3").S3Client;', "@aws-sdk/client-s3"],
  ])("flags %s", (line, specifier) => {
    const core = aCore({ "use-cases/bad.ts": `${line}\nexport const y = 1;\n` });
    expect(findCoreViolations(core)).toEqual([expect.objectContaining({ specifier, line: 1 })]);
  });

  it("allows core-internal imports, zod and hashing; test libraries only in test support", () => {
    const core = aCore({
      "purge/a.ts":
        'import { z } from "zod";\nimport { createHash } from "node:crypto";\nimport { b } from "../user/b.js";\n',
      "user/b.ts": "export const b = 1;\n",
      "purge/a.test.ts": 'import { it } from "vitest";\nimport fc from "fast-check";\n',
      "ports/p.contract.ts": 'import { describe } from "vitest";\n',
      "testing/arb.ts": 'import fc from "fast-check";\n',
      "purge/c.ts": 'import { it } from "vitest";\n',
      "use-cases/u.test.ts": 'import { ManualClock } from "../../adapters/in-memory/clock.js";\n',
    });
    expect(findCoreViolations(core)).toEqual([
      expect.objectContaining({ specifier: "vitest", file: expect.stringContaining("c.ts") }),
    ]);
  });

  it("keeps the in-memory adapters out of production code and contract suites", () => {
    const core = aCore({
      "use-cases/u.ts": 'import { ManualClock } from "../../adapters/in-memory/clock.js";\n',
      "ports/p.contract.ts": 'import { ManualClock } from "../../adapters/in-memory/clock.js";\n',
    });
    expect(
      findCoreViolations(core)
        .map((v) => v.file)
        .sort(),
    ).toEqual([expect.stringContaining("p.contract.ts"), expect.stringContaining("u.ts")]);
  });

  it("reads every import form", () => {
    expect(
      importsOf('import "x";\nexport * from "y";\nimport z = require("z");').map((i) => i.specifier),
    ).toEqual(["x", "y", "z"]);
  });
});

describe("the infra dependency rule", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function anInfra(files: Record<string, string>): string {
    const root = mkdtempSync(path.join(tmpdir(), "infra-deps-"));
    dirs.push(root);
    for (const [name, text] of Object.entries(files)) {
      const full = path.join(root, "infra", name);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, text);
    }
    return path.join(root, "infra");
  }

  it("holds for this repository's infra/", () => {
    expect(findInfraViolations("infra")).toEqual([]);
  });

  it("allows core, the permission declarations and packages; flags adapter, handler and CLI code", () => {
    const infra = anInfra({
      "components/ok.ts": [
        'import * as aws from "@pulumi/aws";',
        'import { x } from "../../core/schedule/index.js";',
        'import { y } from "../../adapters/s3/permissions.js";',
        'import { z } from "../../handlers/permissions.js";',
        'import { w } from "../../jobs/catalogue.js";',
        'import { v } from "../stack.js";',
      ].join("\n"),
      "components/bad.ts": [
        'import { S3BackupStore } from "../../adapters/s3/backup-store.js";',
        'import { handler } from "../../handlers/restore.js";',
        'import { run } from "../../cli/main.js";',
        'import { snapshot } from "../../jobs/snapshot/index.js";',
      ].join("\n"),
      "stack.test.ts": 'import { S3BackupStore } from "../adapters/s3/backup-store.js";',
      "testing/program.ts": 'import { Container } from "../../runtime/composition-root.js";',
    });
    expect(findInfraViolations(infra).map((v) => [path.basename(v.file), v.line, v.specifier])).toEqual([
      ["bad.ts", 1, "../../adapters/s3/backup-store.js"],
      ["bad.ts", 2, "../../handlers/restore.js"],
      ["bad.ts", 3, "../../cli/main.js"],
      ["bad.ts", 4, "../../jobs/snapshot/index.js"],
    ]);
  });
});
