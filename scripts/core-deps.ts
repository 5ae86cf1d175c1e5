import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/**
 * The dependency rule of the hexagon: code under core/ imports only core/ and a few pure libraries.
 * Adapters, handlers, infra, cli and I/O modules are out of bounds, so the domain stays testable without
 * any outside service.
 */
export const ALLOWED_IN_CORE = new Set(["zod", "zod/mini", "zod/v4/locales/en.js", "node:crypto"]);
/** Test support may also use the test libraries. */
export const ALLOWED_IN_CORE_TESTS = new Set([...ALLOWED_IN_CORE, "vitest", "fast-check"]);

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly why: string;
}

function isTestSupport(file: string): boolean {
  return /\.(test|contract)\.ts$/.test(file) || file.split(path.sep).includes("testing");
}

/** Unit tests of use cases drive them with the in-memory adapters; nothing else outside core is reachable. */
function isTest(file: string): boolean {
  return file.endsWith(".test.ts");
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listTs(full));
    else if (name.endsWith(".ts")) out.push(full);
  }
  return out;
}

/** Every module specifier a file mentions: import/export from, import(), require(), import x = require(). */
export function importsOf(source: string, fileName = "file.ts"): { specifier: string; line: number }[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined) => {
    if (literal && ts.isStringLiteralLike(literal)) {
      found.push({
        specifier: literal.text,
        line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1,
      });
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (
        callee.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(callee) && callee.text === "require")
      ) {
        add(node, node.arguments[0]);
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal as ts.Expression);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The violations of the dependency rule under `coreDir`. */
export function findCoreViolations(coreDir: string): Violation[] {
  const root = path.resolve(coreDir);
  const violations: Violation[] = [];
  for (const file of listTs(root)) {
    const allowed = isTestSupport(file) ? ALLOWED_IN_CORE_TESTS : ALLOWED_IN_CORE;
    for (const { specifier, line } of importsOf(readFileSync(file, "utf8"), file)) {
      const rel = path.relative(process.cwd(), file);
      if (specifier.startsWith(".")) {
        const target = path.resolve(path.dirname(file), specifier);
        const inMemory = path.join(path.dirname(root), "adapters", "in-memory");
        const inside = (dir: string) => target === dir || target.startsWith(dir + path.sep);
        if (!inside(root) && !(isTest(file) && inside(inMemory))) {
          violations.push({ file: rel, line, specifier, why: "reaches outside core/" });
        }
      } else if (!allowed.has(specifier)) {
        violations.push({
          file: rel,
          line,
          specifier,
          why: `is not allowed in core/ (allowed: ${[...allowed].join(", ")})`,
        });
      }
    }
  }
  return violations;
}

/**
 * The Pulumi program's side of the rule: infra imports core/ (pure validation) and the plain-data
 * declarations of the other layers — the adapters' IAM actions (`adapters/<technology>/permissions.ts`), which
 * jobs exist with their limits and schedules (`jobs/catalogue.ts`), their state machines' definitions
 * (`jobs/state-machine.ts`, generated from the catalogue) and which port methods each calls
 * (`handlers/permissions.ts`) —
 * never adapter or handler code, so `pulumi preview` loads no AWS SDK client. Tests and test support under
 * infra/ may import anything.
 */
export function findInfraViolations(infraDir: string): Violation[] {
  const root = path.resolve(infraDir);
  const repo = path.dirname(root);
  const allowedFiles = [
    /^adapters\/[a-z0-9-]+\/permissions\.(js|ts)$/,
    /^handlers\/permissions\.(js|ts)$/,
    /^jobs\/catalogue\.(js|ts)$/,
    /^jobs\/state-machine\.(js|ts)$/,
  ];
  const violations: Violation[] = [];
  for (const file of listTs(root)) {
    if (isTestSupport(file)) continue;
    for (const { specifier, line } of importsOf(readFileSync(file, "utf8"), file)) {
      if (!specifier.startsWith(".")) continue;
      const target = path
        .relative(repo, path.resolve(path.dirname(file), specifier))
        .split(path.sep)
        .join("/");
      const ok =
        target.startsWith("infra/") || target.startsWith("core/") || allowedFiles.some((p) => p.test(target));
      if (!ok) {
        violations.push({
          file: path.relative(process.cwd(), file),
          line,
          specifier,
          why: "is not core/, a permissions declaration or the job catalogue: infra must not load adapter or handler code",
        });
      }
    }
  }
  return violations;
}
