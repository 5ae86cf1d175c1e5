/** The erasure ledger, in the backup bucket (see `backups.ts`) under `erasures/`. */
import { S3ErasureLedger } from "../../adapters/s3/erasure-ledger.js";
import type { ErasureLedger } from "../../core/ports/erasure-ledger.js";
import type { Container } from "../container.js";
import { backupBucket } from "./backups.js";

export function erasureLedger(container: Container): ErasureLedger {
  return container.once("erasures", () => {
    const { client, bucket, kmsKeyId } = backupBucket(container);
    return new S3ErasureLedger(client, bucket, kmsKeyId ? { kmsKeyId } : {});
  });
}
