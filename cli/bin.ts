#!/usr/bin/env -S npx --no-install tsx
/** The `user-lifecycle` executable: runs the CLI on the process and exits with its code. */
import { processIo } from "./io.js";
import { run } from "./main.js";

// The SDK's notice about Node 22 in 2027 (the versions are pinned) would land in the operator's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

void run(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
  // Output is flushed by a natural exit; a lingering SDK socket must not keep the process up.
  setTimeout(() => process.exit(code), 2_000).unref();
});
