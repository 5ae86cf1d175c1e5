/**
 * `npm run build`: bundles each Lambda handler with esbuild into dist/handlers/<name>/index.js, the
 * FileArchive the Pulumi program ships. The AWS SDK v3 stays external: the nodejs22.x runtime provides it,
 * and the bundle stays small. Powertools, zod and drizzle are bundled.
 */
import { build } from "esbuild";
import { rm } from "node:fs/promises";
import path from "node:path";
import { HANDLERS } from "../handlers/functions.js";

const root = path.resolve(__dirname, "..");

export async function buildHandlers(outDir = path.join(root, "dist", "handlers")): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  const outputs: string[] = [];
  for (const name of HANDLERS) {
    const outfile = path.join(outDir, name, "index.js");
    await build({
      entryPoints: [path.join(root, "handlers", `${name}.ts`)],
      outfile,
      bundle: true,
      platform: "node",
      target: "node22",
      format: "cjs",
      minify: true,
      sourcemap: true,
      external: ["@aws-sdk/*", "@smithy/*"],
      legalComments: "none",
      logLevel: "warning",
    });
    outputs.push(outfile);
  }
  return outputs;
}

if (require.main === module) {
  buildHandlers().then(
    (outputs) => {
      for (const file of outputs) console.log(path.relative(root, file));
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
