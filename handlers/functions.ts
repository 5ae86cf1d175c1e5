/**
 * The functions of the system, by the name their handler file, their bundle folder and their Lambda get.
 * Plain data: the build bundles these, and the Pulumi program deploys them.
 */
export const HANDLERS = [
  "post-confirmation",
  "purge-unconfirmed-identities",
  "purge-unconfirmed-accounts",
  "snapshot-and-reconcile",
  "restore",
  "erase",
  "setup-accounts-database",
] as const;

export type HandlerName = (typeof HANDLERS)[number];
