import type { S3Client } from "@aws-sdk/client-s3";
import { parseTombstone, serializeTombstone } from "../../core/erasure/tombstone.js";
import type { ErasureLedger, Tombstone } from "../../core/ports/erasure-ledger.js";
import { isStableUserId, requireStableUserId } from "../../core/user/user.js";
import { decodeUtf8, S3BucketObjects } from "./bucket-objects.js";
import { isConditionFailed } from "./errors.js";
import { BACKUP_KEY_PREFIXES } from "./permissions.js";

const { erasures: ERASURES_PREFIX } = BACKUP_KEY_PREFIXES;
const SUFFIX = ".json";

/** Where the tombstone of `userId` lives: `erasures/<stable id>.json`. */
export function tombstoneKey(userId: string): string {
  return `${ERASURES_PREFIX}${requireStableUserId(userId, "userId")}${SUFFIX}`;
}

export interface S3ErasureLedgerOptions {
  readonly kmsKeyId?: string;
  /** Keys per ListObjectsV2 page (S3's default and maximum: 1,000); smaller in tests. */
  readonly listPageSize?: number;
}

/**
 * The erasure ledger in the backup bucket: one small object per erased person, `erasures/<stable id>.json`,
 * holding the id and when (no PII). No lifecycle rule expires them. Listing the prefix gives every erased id
 * from the keys alone (1,000 per request), so a job over millions of users loads them in a few requests.
 *
 * S3 reads are strongly consistent (read-after-write for every object and listing since December 2020), so a
 * tombstone written before an erase deletes anything is seen by every read that starts afterwards.
 * A tombstone is written with `If-None-Match: *`, so of two erasures at once the first one's stays.
 */
export class S3ErasureLedger extends S3BucketObjects implements ErasureLedger {
  constructor(
    client: S3Client,
    bucket: string,
    private readonly options: S3ErasureLedgerOptions = {},
  ) {
    super(client, bucket, options.kmsKeyId);
  }

  async record(tombstone: Tombstone): Promise<Tombstone> {
    const key = tombstoneKey(tombstone.userId);
    const existing = await this.read(key);
    if (existing) return existing;
    const body = Buffer.from(serializeTombstone(tombstone), "utf8");
    try {
      await this.putObject(key, body, "application/json", { ifNoneMatch: "*" });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Another erasure recorded it meanwhile: theirs stands.
      return (await this.read(key)) ?? tombstone;
    }
    return { ...tombstone };
  }

  async isErased(userId: string): Promise<boolean> {
    // Nothing that is not a stable id can have been tombstoned (and is never turned into a key).
    if (!isStableUserId(userId)) return false;
    return (await this.getObject(tombstoneKey(userId))) !== undefined;
  }

  async erasedIds(): Promise<ReadonlySet<string>> {
    const ids = new Set<string>();
    for await (const { key } of this.listObjects(ERASURES_PREFIX, this.options.listPageSize)) {
      const id = key.slice(ERASURES_PREFIX.length, key.length - SUFFIX.length);
      // Anything else under the prefix is not a tombstone of this ledger.
      if (key.endsWith(SUFFIX) && isStableUserId(id)) ids.add(id);
    }
    return ids;
  }

  private async read(key: string): Promise<Tombstone | undefined> {
    const bytes = await this.getObject(key);
    if (bytes === undefined) return undefined;
    return parseTombstone(decodeUtf8(bytes, key, "ERASURE.MALFORMED"), key);
  }
}
