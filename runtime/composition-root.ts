/**
 * Every adapter of the system behind one object, for the processes that run several functions: the operator
 * CLI and the local stack (and the tests that drive them). The Lambda functions do not import this module:
 * each builds only what it needs (`<function>Dependencies` in its file, from `wiring/`), so its bundle holds
 * no adapter it never calls.
 */
import type { AccountStore } from "../core/ports/account-store.js";
import type { ApplicationAccounts } from "../core/ports/application-accounts.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { ErasureLedger } from "../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { RestoreStateStore } from "../core/ports/restore-state-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { UserImportService } from "../core/ports/user-import.js";
import { Container as FunctionContainer } from "./container.js";
import { accountStore, applicationAccounts, closeAccountStore } from "./wiring/accounts.js";
import { backupStore } from "./wiring/backups.js";
import { erasureLedger } from "./wiring/erasures.js";
import { restoreStateStore } from "./wiring/restores.js";
import { userDirectory, userImporter } from "./wiring/cognito.js";
import { profileStore } from "./wiring/profiles.js";

export type { Environment } from "./container.js";
export { lambdaHandler } from "./container.js";

/** Clients and adapters of one process, built on first use (so only what is used needs its variables). */
export class Container extends FunctionContainer {
  /** The directory of the stack's pool, or of another pool (a restore into a new pool). */
  directory(userPoolId?: string): UserDirectory {
    return userDirectory(this, userPoolId);
  }

  importer(userPoolId?: string): UserImportService {
    return userImporter(this, userPoolId);
  }

  get profiles(): ProfileStore {
    return profileStore(this);
  }

  get backups(): BackupStore {
    return backupStore(this);
  }

  get restores(): RestoreStateStore {
    return restoreStateStore(this);
  }

  get erasures(): ErasureLedger {
    return erasureLedger(this);
  }

  /** The accounts store (see `wiring/accounts.ts` for where its credentials come from). */
  accounts(options: { refreshCredentials: boolean } = { refreshCredentials: false }): Promise<AccountStore> {
    return accountStore(this, options);
  }

  /**
   * Erase's view of the accounts table (a person's rows by email), on the store's login and pool.
   * @throws ValidationError `CONFIG.INVALID` naming the variable when the accounts database is not configured.
   */
  accountRows(): Promise<ApplicationAccounts> {
    return applicationAccounts(this);
  }

  /** Ends what keeps the process alive (the database pool): for the CLI and the local stack. */
  close(): Promise<void> {
    return closeAccountStore(this);
  }
}
