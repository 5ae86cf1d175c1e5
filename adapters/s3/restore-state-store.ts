import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  parseRestorePlan,
  parseRestoreProgress,
  type RestoreProgress,
  type StoredRestorePlan,
  restorePlanLines,
  serializeRestoreProgress,
} from "../../core/backup/restore-state.js";
import { LifecycleError } from "../../core/errors.js";
import {
  type ProgressCondition,
  type RestoreStateStore,
  restoreConflict,
  type VersionedRestoreProgress,
} from "../../core/ports/restore-state-store.js";
import { gzipLines } from "../shared/gzip.js";
import { S3BucketObjects } from "./bucket-objects.js";
import { isConditionFailed } from "./errors.js";
import { BACKUP_KEY_PREFIXES } from "./permissions.js";

const gzipAsync = promisify(gzip);
const { restores: RESTORES_PREFIX } = BACKUP_KEY_PREFIXES;

/**
 * Where a restore's plan lives: `restores/<planId>/plan.jsonl.gz`, a gzip JSON Lines file (a header line, then
 * one line per user: 500,000 users make about 9 MB), written once.
 */
export function restorePlanKey(planId: string): string {
  return `${RESTORES_PREFIX}${planId}/plan.jsonl.gz`;
}

/** Where a restore's progress lives: `restores/<planId>/progress.json.gz`, replaced after every step. */
export function restoreProgressKey(planId: string): string {
  return `${RESTORES_PREFIX}${planId}/progress.json.gz`;
}

/**
 * Restores' state in the backup bucket: `restores/<planId>/plan.jsonl.gz` and `progress.json.gz`, gzip files,
 * both replaced in place (older versions deleted), encrypted with the KMS key when one is given (as the
 * backups are). A lifecycle rule of the bucket expires them.
 */
export class S3RestoreStateStore extends S3BucketObjects implements RestoreStateStore {
  constructor(client: S3Client, bucket: string, options: { readonly kmsKeyId?: string } = {}) {
    super(client, bucket, options.kmsKeyId);
  }

  async putRestorePlan(stored: StoredRestorePlan): Promise<void> {
    // Serialized (and so checked) line by line into the gzip file before anything is sent.
    const body = await gzipLines(restorePlanLines(stored));
    await this.putReplacing(restorePlanKey(stored.plan.planId), body, "application/gzip");
  }

  async getRestorePlan(planId: string): Promise<StoredRestorePlan> {
    const key = restorePlanKey(planId);
    return parseRestorePlan(await this.getRestoreText(key, planId), key);
  }

  /** A condition becomes S3's `If-Match` (the ETag) or `If-None-Match: *`; S3 checks it atomically. */
  async putRestoreProgress(progress: RestoreProgress, condition?: ProgressCondition): Promise<string> {
    const body = await gzipAsync(Buffer.from(serializeRestoreProgress(progress), "utf8"));
    let etag: string | undefined;
    try {
      etag = await this.putReplacing(
        restoreProgressKey(progress.planId),
        body,
        "application/gzip",
        condition === undefined
          ? {}
          : "ifVersion" in condition
            ? { ifMatch: condition.ifVersion }
            : { ifNoneMatch: "*" },
      );
    } catch (error) {
      if (condition !== undefined && isConditionFailed(error)) throw restoreConflict(progress.planId, error);
      throw error;
    }
    if (etag === undefined) throw new Error("PutObject answered without an ETag");
    return etag;
  }

  async getRestoreProgress(planId: string): Promise<RestoreProgress> {
    return (await this.getVersionedRestoreProgress(planId)).progress;
  }

  async getVersionedRestoreProgress(planId: string): Promise<VersionedRestoreProgress> {
    const key = restoreProgressKey(planId);
    const object = await this.getGzipTextAndTag(key, "RESTORE.STATE_MALFORMED");
    if (object === undefined) throw notFound(planId);
    if (object.etag === undefined) throw new Error("GetObject answered without an ETag");
    return { progress: parseRestoreProgress(object.text, key), version: object.etag };
  }

  async listRestores(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const object of this.listObjects(RESTORES_PREFIX)) {
      const id = object.key.slice(RESTORES_PREFIX.length).split("/")[0];
      if (id) ids.add(id);
    }
    return [...ids].sort();
  }

  /** The unzipped text of a restore object; `RESTORE.NOT_FOUND` when absent. */
  private async getRestoreText(key: string, planId: string): Promise<string> {
    const text = await this.getGzipText(key, "RESTORE.STATE_MALFORMED");
    if (text === undefined) throw notFound(planId);
    return text;
  }
}

function notFound(planId: string): LifecycleError {
  return new LifecycleError("RESTORE.NOT_FOUND", `No restore ${planId}`, { details: { planId } });
}
