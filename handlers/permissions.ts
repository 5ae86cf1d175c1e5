/**
 * Which port methods each function calls: the other half of least privilege. The adapters declare the IAM
 * actions of each method (`adapters/<technology>/permissions.ts`); the Pulumi program joins the two into one
 * policy per function, scoped to the stack's own resources. `permissions.test.ts` drives every handler through
 * its paths with recording adapters and fails when a handler calls a method missing here, or when a method
 * listed here is never called (a grant nobody needs).
 *
 * Plain data with type-only imports, so the Pulumi program can read it without loading handler code.
 */
import type { BackupStore } from "../core/ports/backup-store.js";
import type { ErasureLedger } from "../core/ports/erasure-ledger.js";
import type { ProfileStore } from "../core/ports/profile-store.js";
import type { RestoreStateStore } from "../core/ports/restore-state-store.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import type { UserImportService } from "../core/ports/user-import.js";
import type { JobName } from "../jobs/catalogue.js";

export interface PortUses {
  /** The stack's user pool (and, for restore, the pools it may restore into). */
  readonly directory?: readonly (keyof UserDirectory)[];
  /**
   * The pool that invokes the function as its trigger (its id comes in each event): `getUser` without groups
   * (AdminGetUser alone). Granted by a policy of its own, declared after the pool, since the pool names the
   * function and the function's own policy cannot name the pool.
   */
  readonly triggeringPool?: readonly "getUser"[];
  /** Cognito user import jobs of the same pools, and passing the import logs role to them. */
  readonly importer?: readonly (keyof UserImportService)[];
  /** The profile table. */
  readonly profiles?: readonly (keyof ProfileStore)[];
  /** The backup bucket and its KMS key. */
  readonly backups?: readonly (keyof BackupStore)[];
  /** A restore's own state in the backup bucket (`restores/<planId>/`), kept between its steps. */
  readonly restores?: readonly (keyof RestoreStateStore)[];
  /** The erasure ledger in the backup bucket (`erasures/`). */
  readonly erasures?: readonly (keyof ErasureLedger)[];
  /** Reads the accounts database secret, from inside the VPC. */
  readonly accountsSecret?: boolean;
  /** Reads or writes the accounts purge login's own secret (the setup creates it), from inside the VPC. */
  readonly purgeLoginSecret?: boolean;
}

export const FUNCTION_PORT_USES = {
  "post-confirmation": {
    // getUser: the trigger half of the identity purge's fence (a disabled user's confirmation is failed).
    triggeringPool: ["getUser"],
    // get: whose the id is when it exists already; delete and eraseUserBackups: undoing a write that an
    // erasure, begun while it was in flight, would otherwise miss.
    profiles: ["createIfAbsent", "get", "recordBackupDigest", "delete"],
    backups: ["getUserBackup", "putUserBackup", "eraseUserBackups"],
    erasures: ["isErased"],
  },
  "purge-unconfirmed-identities": {
    directory: ["listUsers", "estimatedUserCount", "getUser", "disableUser", "enableUser", "deleteUser"],
  },
  "purge-unconfirmed-accounts": {
    accountsSecret: true,
  },
  "snapshot-and-reconcile": {
    directory: ["listUsers", "listGroups", "listGroupMembers"],
    // delete, eraseUserBackups, the snapshot reads and rewrites: what was written for someone erased
    // meanwhile goes. listSnapshotIds, deleteSnapshotFile: snapshots that never completed are cleaned.
    // recordBackupDigest: the digest of a backup reconcile wrote, or found current, on an existing profile.
    profiles: ["getMany", "createIfAbsent", "recordBackupDigest", "delete"],
    backups: [
      "putSnapshotPart",
      "putSnapshotFile",
      "putSnapshotManifest",
      "getUserBackup",
      "putUserBackup",
      "eraseUserBackups",
      "listSnapshots",
      "listSnapshotIds",
      "listSnapshotParts",
      "listSnapshotFiles",
      "getSnapshotManifest",
      "getSnapshotPart",
      "getSnapshotFile",
      "deleteSnapshotFile",
    ],
    erasures: ["erasedIds"],
  },
  restore: {
    // deleteUser: a person erased while the restore ran, whom an import job already started brought back.
    directory: [
      "listUsers",
      "getUser",
      "createUser",
      "createGroup",
      "addUserToGroup",
      "disableUser",
      "deleteUser",
    ],
    erasures: ["erasedIds"],
    importer: ["getCsvHeader", "createImportJob", "uploadCsv", "startImportJob", "describeImportJob"],
    backups: [
      "listSnapshots",
      "getSnapshotManifest",
      "getSnapshotPart",
      "getSnapshotFile",
      "listUserBackups",
    ],
    restores: [
      "listRestores",
      "getRestorePlan",
      "putRestorePlan",
      "getVersionedRestoreProgress",
      "putRestoreProgress",
    ],
  },
  erase: {
    directory: ["getUser", "deleteUser"],
    profiles: ["get", "delete"],
    erasures: ["record"],
    restores: [
      "listRestores",
      "getRestorePlan",
      "putRestorePlan",
      "getVersionedRestoreProgress",
      "putRestoreProgress",
    ],
    backups: [
      "getUserBackup",
      "eraseUserBackups",
      "listSnapshots",
      "listSnapshotIds",
      "listSnapshotParts",
      "listSnapshotFiles",
      "getSnapshotManifest",
      "getSnapshotPart",
      "getSnapshotFile",
      "putSnapshotPart",
      "putSnapshotFile",
      "putSnapshotManifest",
    ],
  },
  "setup-accounts-database": {
    accountsSecret: true,
    purgeLoginSecret: true,
  },
} as const satisfies Record<JobName, PortUses>;
