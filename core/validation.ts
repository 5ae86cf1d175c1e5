/**
 * Schema validation for code that ships in Lambda bundles: `zod/mini` (tree-shakeable, a few KB) with its
 * English messages, instead of classic zod (whose `z` namespace drags every locale into a bundle). Import
 * the schema builders as `import * as z from "zod/mini"` and this module once for the messages.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

// An ES module for the bundler: a file without exports is taken for CommonJS, and esbuild then wraps zod's
// modules in lazy initializers, which keeps more of zod in the bundles that load this one.
export {};
