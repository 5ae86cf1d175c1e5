import { findCoreViolations, findInfraViolations } from "./core-deps.js";

const core = findCoreViolations(process.argv[2] ?? "core");
const infra = findInfraViolations(process.argv[3] ?? "infra");
for (const [what, violations] of [
  ["The core must stay pure", core],
  ["The Pulumi program must not load adapter or handler code", infra],
] as const) {
  if (violations.length === 0) continue;
  console.error(`${what}. These imports break the dependency rule:`);
  for (const v of violations) console.error(`  ${v.file}:${v.line}  "${v.specifier}" ${v.why}`);
}
if (core.length + infra.length > 0) process.exit(1);
console.log(
  "core/ imports only core/ and pure libraries; infra/ only core/ and the permission declarations.",
);
