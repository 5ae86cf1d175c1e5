import { findCoreViolations } from "./core-deps.js";

const violations = findCoreViolations(process.argv[2] ?? "core");
if (violations.length > 0) {
  console.error("The core must stay pure. These imports break the dependency rule:");
  for (const v of violations) console.error(`  ${v.file}:${v.line}  "${v.specifier}" ${v.why}`);
  process.exit(1);
}
console.log("core/ imports only core/ and pure libraries.");
