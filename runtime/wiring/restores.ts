/** Restores' state, in the backup bucket (see `backups.ts`): only the restore function wires it. */
import { S3RestoreStateStore } from "../../adapters/s3/restore-state-store.js";
import type { RestoreStateStore } from "../../core/ports/restore-state-store.js";
import type { Container } from "../container.js";
import { backupBucket } from "./backups.js";

export function restoreStateStore(container: Container): RestoreStateStore {
  return container.once("restores", () => {
    const { client, bucket, kmsKeyId } = backupBucket(container);
    return new S3RestoreStateStore(client, bucket, kmsKeyId ? { kmsKeyId } : {});
  });
}
