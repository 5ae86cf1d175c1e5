/**
 * Every function's dependencies builder by name: what each Lambda entry point runs on its container, for the
 * processes that serve several functions (the local stack) and the tests that check each one from an
 * environment.
 */
import { eraseDependencies } from "./erase.js";
import { postConfirmationDependencies } from "./post-confirmation.js";
import { purgeUnconfirmedAccountsDependencies } from "./purge-unconfirmed-accounts.js";
import { purgeUnconfirmedIdentitiesDependencies } from "./purge-unconfirmed-identities.js";
import { restoreDependencies } from "./restore.js";
import { snapshotAndReconcileDependencies } from "./snapshot-and-reconcile.js";

/** What each function needs, from the container: the same builders its Lambda entry point runs. */
export const dependencies = {
  postConfirmation: postConfirmationDependencies,
  purgeUnconfirmedIdentities: purgeUnconfirmedIdentitiesDependencies,
  purgeUnconfirmedAccounts: purgeUnconfirmedAccountsDependencies,
  snapshotAndReconcile: snapshotAndReconcileDependencies,
  restore: restoreDependencies,
  erase: eraseDependencies,
} as const;
