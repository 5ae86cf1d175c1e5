/**
 * The adapters one CLI run works with. The default builds them with the Lambda functions' own composition
 * root (`new Container(env)`), so the CLI talks to the same resources the same way; tests pass adapters
 * from `adapters/in-memory/`.
 */
import type { AccountStore } from "../core/ports/account-store.js";
import type { ApplicationAccounts } from "../core/ports/application-accounts.js";
import type { BackupStore } from "../core/ports/backup-store.js";
import type { Clock, Sleeper } from "../core/ports/clock.js";
import type { ErasureLedger } from "../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { RestoreStateStore } from "../core/ports/restore-state-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { UserImportService } from "../core/ports/user-import.js";
import type { PurgePolicy } from "../core/purge/index.js";
import { Container, type Environment } from "../runtime/composition-root.js";
import type { Observability } from "../runtime/observability.js";
import { type AccountsPurgeSizes, accountsPurgeSizesOf, purgePolicyOf } from "../runtime/purge-policy.js";

export interface Connection {
  /** The stack's pool (throws a `CONFIG.INVALID` naming USER_POOL_ID when unknown). */
  userPoolId(): string;
  /** The directory of the stack's pool, or of `userPoolId`. */
  directory(userPoolId?: string): UserDirectory;
  importer(userPoolId?: string): UserImportService;
  profiles(): ProfileStore;
  backups(): BackupStore;
  /** Restores' plans and progress (in the backup bucket). */
  restores(): RestoreStateStore;
  /** The erasure ledger (in the backup bucket). */
  erasures(): ErasureLedger;
  accounts(options: { refreshCredentials: boolean }): Promise<AccountStore>;
  /**
   * The accounts table as erase sees it (a person's rows by email), on the same login.
   * @throws ValidationError `CONFIG.INVALID` naming the variable when the target has no accounts database.
   */
  accountRows(): Promise<ApplicationAccounts>;
  readonly clock: Clock;
  readonly sleeper: Sleeper;
  /** The stack's purge policy (PURGE_POLICY), before the command's flags override it. */
  purgePolicy(): PurgePolicy;
  /** How the accounts purge sizes its statements (PURGE_BATCH_SIZE, PURGE_LANES). */
  accountsPurgeSizes(): AccountsPurgeSizes;
  /** Ends what keeps the process alive (database pool). */
  close(): Promise<void>;
}

export type Connect = (env: Environment) => Connection;

/** Handlers log and count through this; the CLI reports by itself, so nothing goes to stdout. */
export const silentObservability: Observability = {
  log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  metrics: { count: () => undefined, publish: () => undefined },
  startInvocation: () => undefined,
};

/** The adapters of the Lambda functions, built from `env` on first use. */
export const containerConnection: Connect = (env) => {
  const container = new Container(env, () => silentObservability);
  return {
    userPoolId: () => container.userPoolId,
    directory: (userPoolId) => container.directory(userPoolId),
    // Built on first use: an admin-create restore must not need IMPORT_LOGS_ROLE_ARN.
    importer: (userPoolId) => lazy(() => container.importer(userPoolId)),
    profiles: () => container.profiles,
    backups: () => container.backups,
    restores: () => container.restores,
    erasures: () => container.erasures,
    accounts: (options) => container.accounts(options),
    accountRows: () => container.accountRows(),
    clock: container.clock,
    sleeper: container.sleeper,
    purgePolicy: () => purgePolicyOf(container.env),
    accountsPurgeSizes: () => accountsPurgeSizesOf(container.env),
    close: () => container.close(),
  };
};

/** An object whose methods build `target` on the first call. */
export function lazy<T extends object>(build: () => T): T {
  let built: T | undefined;
  return new Proxy({} as T, {
    get(_, property) {
      built ??= build();
      const value = Reflect.get(built, property, built) as unknown;
      return typeof value === "function" ? value.bind(built) : value;
    },
  });
}

/**
 * `target` with some methods replaced: the others are the target's own (bound to it). Used for progress
 * counting and for dry runs that must not write.
 */
export function overriding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) {
        return (overrides as Record<PropertyKey, unknown>)[property];
      }
      const value = Reflect.get(object, property, object) as unknown;
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}
