/**
 * Where the backup store keeps what, and the IAM actions each of its methods calls, declared once next to
 * the adapter (plain data: the Pulumi program builds least-privilege policies and lifecycle rules from it).
 */
import type { BackupStore } from "../../core/ports/backup-store.js";
import type { ErasureLedger } from "../../core/ports/erasure-ledger.js";
import type { RestoreStateStore } from "../../core/ports/restore-state-store.js";

/** What one method needs: `s3` actions on `keyPrefix` objects (or the bucket), `kms` actions on the key. */
export interface S3Use {
  readonly s3: readonly string[];
  readonly kms: readonly string[];
  readonly keyPrefix: string;
}

/** The key prefix of each kind of object in the backup bucket. */
export const BACKUP_KEY_PREFIXES = {
  /** One object per user, `users/<stable id>.json`, overwritten in place. */
  users: "users/",
  /** `snapshots/<id>/manifest.json` and its parts. */
  snapshots: "snapshots/",
  /** A restore's plan and progress, `restores/<planId>/`. */
  restores: "restores/",
  /** The erasure ledger: one tombstone per erased person, `erasures/<stable id>.json`, never expired. */
  erasures: "erasures/",
} as const;

const {
  users: USERS_PREFIX,
  snapshots: SNAPSHOTS_PREFIX,
  restores: RESTORES_PREFIX,
  erasures: ERASURES_PREFIX,
} = BACKUP_KEY_PREFIXES;

const WRITE_KMS = ["kms:GenerateDataKey"] as const;
const READ_KMS = ["kms:Decrypt"] as const;
// Without s3:ListBucket, S3 answers a read of a missing key with 403 instead of 404, and a missing backup
// would look like a permissions failure.
const READ_S3 = ["s3:GetObject", "s3:ListBucket"] as const;
// Replacing a snapshot object deletes its older versions, as erase does.
const REPLACE_S3 = [
  "s3:PutObject",
  "s3:ListBucketVersions",
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
] as const;

/**
 * The actions each use of the store needs, for least-privilege policies built next to it. `s3` actions apply
 * to the objects under `keyPrefix`, except `s3:ListBucket` and `s3:ListBucketVersions`, which apply to the
 * bucket itself. `kms` actions apply to the configured key, and are needed only when `kmsKeyId` is set.
 */
export const S3_BACKUP_STORE_ACTIONS = {
  // The current backup is read first (identity binding), then written conditionally on its ETag.
  putUserBackup: {
    s3: ["s3:PutObject", ...READ_S3],
    kms: [...WRITE_KMS, ...READ_KMS],
    keyPrefix: USERS_PREFIX,
  },
  getUserBackup: { s3: READ_S3, kms: READ_KMS, keyPrefix: USERS_PREFIX },
  listUserBackups: { s3: READ_S3, kms: READ_KMS, keyPrefix: USERS_PREFIX },
  // DeleteObjects needs s3:DeleteObject always, and s3:DeleteObjectVersion to name a version.
  eraseUserBackups: {
    s3: ["s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"],
    kms: [],
    keyPrefix: USERS_PREFIX,
  },
  putSnapshotPart: { s3: REPLACE_S3, kms: WRITE_KMS, keyPrefix: SNAPSHOTS_PREFIX },
  putSnapshotManifest: { s3: REPLACE_S3, kms: WRITE_KMS, keyPrefix: SNAPSHOTS_PREFIX },
  listSnapshots: { s3: ["s3:ListBucket"], kms: [], keyPrefix: SNAPSHOTS_PREFIX },
  listSnapshotParts: { s3: ["s3:ListBucket"], kms: [], keyPrefix: SNAPSHOTS_PREFIX },
  getSnapshotManifest: { s3: READ_S3, kms: READ_KMS, keyPrefix: SNAPSHOTS_PREFIX },
  getSnapshotPart: { s3: READ_S3, kms: READ_KMS, keyPrefix: SNAPSHOTS_PREFIX },
  putSnapshotFile: { s3: REPLACE_S3, kms: WRITE_KMS, keyPrefix: SNAPSHOTS_PREFIX },
  getSnapshotFile: { s3: READ_S3, kms: READ_KMS, keyPrefix: SNAPSHOTS_PREFIX },
  listSnapshotFiles: { s3: ["s3:ListBucket"], kms: [], keyPrefix: SNAPSHOTS_PREFIX },
  listSnapshotIds: { s3: ["s3:ListBucket"], kms: [], keyPrefix: SNAPSHOTS_PREFIX },
  // Every version goes (the files of a snapshot that never completed, parts past a restarted partition's).
  deleteSnapshotFile: {
    s3: ["s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"],
    kms: [],
    keyPrefix: SNAPSHOTS_PREFIX,
  },
} as const satisfies Record<keyof BackupStore, S3Use>;

/** The same for the restore state store, in the same bucket under `restores/`. */
export const S3_RESTORE_STATE_STORE_ACTIONS = {
  // Restore state is replaced in place (older versions deleted): a restore's plan holds users' data, which
  // must not linger as old versions once the restore is over.
  putRestorePlan: { s3: REPLACE_S3, kms: WRITE_KMS, keyPrefix: RESTORES_PREFIX },
  getRestorePlan: { s3: READ_S3, kms: READ_KMS, keyPrefix: RESTORES_PREFIX },
  // A conditional write (If-Match) needs s3:GetObject besides s3:PutObject (Amazon S3 User Guide,
  // conditional writes); the reads of a progress are granted with it.
  putRestoreProgress: { s3: [...REPLACE_S3, "s3:GetObject"], kms: WRITE_KMS, keyPrefix: RESTORES_PREFIX },
  getRestoreProgress: { s3: READ_S3, kms: READ_KMS, keyPrefix: RESTORES_PREFIX },
  getVersionedRestoreProgress: { s3: READ_S3, kms: READ_KMS, keyPrefix: RESTORES_PREFIX },
  listRestores: { s3: ["s3:ListBucket"], kms: [], keyPrefix: RESTORES_PREFIX },
} as const satisfies Record<keyof RestoreStateStore, S3Use>;

/** The same for the erasure ledger, in the same bucket under `erasures/`. */
export const S3_ERASURE_LEDGER_ACTIONS = {
  // A tombstone is read first (an existing one is kept), then written only if still absent.
  record: { s3: ["s3:PutObject", ...READ_S3], kms: [...WRITE_KMS, ...READ_KMS], keyPrefix: ERASURES_PREFIX },
  isErased: { s3: READ_S3, kms: READ_KMS, keyPrefix: ERASURES_PREFIX },
  // The ids are the keys: listing is enough, no object is read.
  erasedIds: { s3: ["s3:ListBucket"], kms: [], keyPrefix: ERASURES_PREFIX },
} as const satisfies Record<keyof ErasureLedger, S3Use>;
