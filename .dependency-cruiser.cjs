/**
 * The dependency rule of the whole house, checked by `npm run check:deps` (part of `npm test`) with
 * dependency-cruiser. Arrows point inward: core/ is pure; the outer ring (handlers/, cli/, local/) shares the
 * runtime/ and the jobs, never one another's code; the Pulumi program loads declarations, never adapter,
 * handler or runtime code. scripts/dependency-rule.test.ts plants a violation of every rule and checks it fails.
 *
 * Paths are relative to the directory the check runs in; `node_modules/` is matched anywhere in a path.
 */

/** Tests, contract suites and test builders (`testing/`): they may reach further than production code. */
const TEST_SUPPORT = "(\\.test\\.ts|\\.contract\\.ts)$|(^|/)testing/";
const NPM = "(^|/)node_modules/";

/** What core/ may import besides core/: zod and hashing. */
const CORE_ALLOWED = `^core/|${NPM}zod/|^(node:)?crypto$`;

/** What infra/ may import besides infra/, core/ and packages: plain-data declarations of the other layers. */
const INFRA_DECLARATIONS = [
  "^adapters/[a-z0-9-]+/permissions\\.ts$", // the IAM actions of each adapter
  "^handlers/permissions\\.ts$", // which port methods each function calls
  "^jobs/catalogue\\.ts$", // which jobs exist, with their limits and schedules
  "^jobs/state-machine\\.ts$", // their state machines' definitions, generated from the catalogue
].join("|");

/** The outer ring: each is an entry point over the jobs, and none imports another. */
const OUTER_RING = {
  handlers:
    "A Lambda handler imports runtime/, jobs/, core/ and adapters — never the CLI or the local stack.",
  cli: "The CLI calls jobs, never a Lambda handler, and not the local stack.",
  local: "The local stack loads functions as the build does (from the catalogue), never by importing them.",
};

/** `<layer>-not-<a>-or-<b>`: the layer imports neither of the other two. */
function outerRingRule([layer, comment]) {
  const others = Object.keys(OUTER_RING).filter((other) => other !== layer);
  return {
    name: `${layer}-not-${others.join("-or-")}`,
    comment,
    severity: "error",
    from: { path: `^${layer}/` },
    to: { path: `^(${others.join("|")})/` },
  };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import cycles anywhere: each module can be understood, tested and loaded on its own.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-unresolvable",
      comment: "Every import resolves to a file or an installed package.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    ...Object.entries(OUTER_RING).map(outerRingRule),
    {
      name: "runtime-and-jobs-not-outer-ring",
      comment:
        "runtime/ and jobs/ serve the handlers, the CLI and the local stack: they import none of them.",
      severity: "error",
      from: { path: "^(runtime|jobs)/" },
      to: { path: "^(handlers|cli|local|infra|e2e|bench|scripts|policy)/" },
    },
    {
      name: "core-pure",
      comment: "core/ imports only core/, zod and node:crypto: no I/O, no AWS SDK, no Pulumi, no drizzle.",
      severity: "error",
      from: { path: "^core/", pathNot: TEST_SUPPORT },
      to: { pathNot: CORE_ALLOWED },
    },
    {
      name: "core-test-support-pure",
      comment: "core/'s contract suites and builders may add vitest and fast-check, nothing else.",
      severity: "error",
      from: {
        path: ["^core/testing/", "^core/.*/testing/", "^core/.*\\.contract\\.ts$"],
        pathNot: "\\.test\\.ts$",
      },
      to: { pathNot: `${CORE_ALLOWED}|${NPM}(vitest|@vitest|fast-check)/` },
    },
    {
      name: "core-tests",
      comment: "core/'s unit tests may also drive use cases with the in-memory adapters.",
      severity: "error",
      from: { path: "^core/.*\\.test\\.ts$" },
      to: { pathNot: `${CORE_ALLOWED}|${NPM}(vitest|@vitest|fast-check)/|^adapters/in-memory/` },
    },
    {
      name: "infra-loads-no-code",
      comment:
        "The Pulumi program imports core/ (pure validation) and the declarations above, never adapter, handler, " +
        "runtime, job or CLI code, so `pulumi preview` loads no AWS SDK client. Its tests may import anything.",
      severity: "error",
      from: { path: "^infra/", pathNot: TEST_SUPPORT },
      to: { pathNot: `^(infra|core)/|${NPM}|${INFRA_DECLARATIONS}`, dependencyTypesNot: ["core"] },
    },
  ],
  options: {
    // The known violations (.dependency-cruiser-known-violations.json) are the debt still to pay: a new
    // violation fails, and so does an entry that is no longer a violation, so the list only shrinks.
    baseline: { staleEntriesSeverity: "error" },
    // `import type` counts: a type-only import still ties two layers together.
    tsPreCompilationDeps: true,
    doNotFollow: { path: NPM },
    exclude: { path: "^(dist|\\.local)/" },
    enhancedResolveOptions: {
      extensions: [".ts", ".mts", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
  },
};
