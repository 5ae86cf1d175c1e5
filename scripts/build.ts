/**
 * `npm run build`: bundles each Lambda handler with esbuild into dist/handlers/<name>/index.js, the
 * FileArchive the Pulumi program ships. The AWS SDK v3 stays external: the nodejs22.x runtime provides it,
 * and the bundle stays small. Powertools, zod and drizzle are bundled.
 */
import { build, type BuildOptions, type Plugin } from "esbuild";
import { cp, rm } from "node:fs/promises";
import path from "node:path";
import { ACCOUNTS_MIGRATIONS_FOLDER } from "../adapters/mysql/migrate.js";
import { handlerModule, JOB_NAMES, type JobName } from "../jobs/catalogue.js";

const root = path.resolve(__dirname, "..");

/** What the bundles get for `iconv-lite`: CESU-8 only, see the module. */
export const ICONV_LITE_STUB = path.join(root, "adapters", "mysql", "iconv-lite-stub.ts");

/** The one module known to need no more of iconv-lite than the stub has: mysql2's string parser. */
const MYSQL2_STRING_PARSER = /[\\/]node_modules[\\/]mysql2[\\/]lib[\\/]parsers[\\/]string\.js$/;

/**
 * Swaps `iconv-lite` (about 490 KB minified with its code tables) for {@link ICONV_LITE_STUB} in the bundles
 * that carry mysql2, the only package of theirs that imports it; bundles without mysql2 never resolve it, so
 * their output is unchanged. The accounts database connection is utf8mb4: mysql2 decodes it with Node's Buffer
 * and asks iconv-lite only for CESU-8 (the handshake's server version) or for a charset the purge never meets.
 * Any other importer fails the build: what it calls was never checked against the stub.
 */
export const iconvLiteStub: Plugin = {
  name: "iconv-lite-stub",
  setup(builder) {
    builder.onResolve({ filter: /^iconv-lite$/ }, (args) => {
      if (!MYSQL2_STRING_PARSER.test(args.importer)) {
        return {
          errors: [
            {
              text:
                `iconv-lite is imported by ${path.relative(root, args.importer)}, not by mysql2's ` +
                `string parser: check what it calls before letting ${path.relative(root, ICONV_LITE_STUB)} ` +
                "stand in for it",
            },
          ],
        };
      }
      return { path: ICONV_LITE_STUB };
    });
  },
};

/** The esbuild options every handler bundle is built with, writing `outfile`: give them `entryPoints`. */
export function bundleOptions(outfile: string): BuildOptions {
  return {
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
    plugins: [iconvLiteStub],
  };
}

/**
 * Folders a bundle reads at run time, copied beside its index.js: the database setup applies the migrations
 * drizzle-kit wrote, from `<its folder>/migrations` (bundled, `__dirname` is the bundle's folder).
 */
export const BUNDLE_FOLDERS: Partial<Record<JobName, readonly { from: string; to: string }[]>> = {
  "setup-accounts-database": [{ from: ACCOUNTS_MIGRATIONS_FOLDER, to: "migrations" }],
};

/** Builds the bundles of `names` (every function by default) into `outDir`, emptied first. */
export async function buildHandlers(
  outDir = path.join(root, "dist", "handlers"),
  names: readonly JobName[] = JOB_NAMES,
): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  const outputs: string[] = [];
  for (const name of names) {
    const outfile = path.join(outDir, name, "index.js");
    await build({ ...bundleOptions(outfile), entryPoints: [path.join(root, handlerModule(name))] });
    for (const folder of BUNDLE_FOLDERS[name] ?? []) {
      await cp(folder.from, path.join(outDir, name, folder.to), { recursive: true });
    }
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
