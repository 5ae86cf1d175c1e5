/** The backup bucket (`BACKUP_BUCKET`, encrypted with `BACKUP_KMS_KEY_ID` when set), and restores' state in it. */
import { S3Client } from "@aws-sdk/client-s3";
import { S3BackupReader, S3BackupStore } from "../../adapters/s3/backup-store.js";
import type { BackupReader, BackupStore } from "../../core/ports/backup-store.js";
import type { Container } from "../container.js";

export function backupStore(container: Container): BackupStore {
  return container.once("backups", () => {
    const { client, bucket, kmsKeyId } = backupBucket(container);
    return new S3BackupStore(client, bucket, {
      ...(kmsKeyId ? { kmsKeyId } : {}),
      // Off only for the local stack's s3rver, which implements no versioning.
      versionListing: container.env.flag("S3_VERSION_LISTING", true),
    });
  });
}

/**
 * The backups, read only: all the restore needs of them. Its bundle then carries none of the store's writing
 * and erasing code.
 */
export function backupReader(container: Container): BackupReader {
  return container.once("backupReader", () => {
    const { client, bucket } = backupBucket(container);
    return new S3BackupReader(client, bucket);
  });
}

/** The bucket's client and settings, shared by the stores that live in it. */
export function backupBucket(container: Container): {
  client: S3Client;
  bucket: string;
  kmsKeyId: string | undefined;
} {
  return container.once("backupBucket", () => ({
    client: new S3Client({
      ...container.clientOptions("S3_ENDPOINT", 10_000),
      forcePathStyle: container.env.flag("S3_FORCE_PATH_STYLE", false),
    }),
    bucket: container.env.text("BACKUP_BUCKET"),
    kmsKeyId: container.env.optionalText("BACKUP_KMS_KEY_ID"),
  }));
}
