/** Bundles a benchmark worker with esbuild, the way scripts/build.ts bundles the Lambda handlers. */
import path from "node:path";
import { build } from "esbuild";

/**
 * Bundles `entry` into `outDir/<name>.js` (CommonJS, Node 20, minified, no keepNames) and returns the file.
 * Run by plain node, the worker has no loader in the way: tsx keeps function names by wrapping every
 * function it creates, which makes closure-heavy code several times slower than the deployed bundle.
 */
export async function bundleWorker(entry: string, outDir: string): Promise<string> {
  const outfile = path.join(outDir, `${path.basename(entry).replace(/\.ts$/, "")}.js`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    external: ["@aws-sdk/*", "@smithy/*"],
    legalComments: "none",
    logLevel: "warning",
  });
  return outfile;
}
