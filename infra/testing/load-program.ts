/**
 * Loads the program the way Pulumi's Node.js host does — `require(<main of Pulumi.yaml>)` in a Node started
 * with the project's `nodeargs` — under mocks, and prints what it declared and exported as JSON. Run by
 * infra/project.test.ts in a child process: `node <nodeargs> load-program.ts <stack> <main>`.
 */
import path from "node:path";
import { installMocks, resolveOutputs, settled } from "./program.js";

async function main(): Promise<void> {
  const [stack, entry] = process.argv.slice(2);
  if (!stack || !entry) throw new Error("usage: load-program <stack> <main>");
  const { resources } = await installMocks(stack);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported = require(path.resolve(entry)) as object;
  const outputs = await resolveOutputs(exported);
  await settled(() => resources.length);
  process.stdout.write(JSON.stringify({ resources: resources.length, outputs }));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
