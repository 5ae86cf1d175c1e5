import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { LifecycleError } from "../../core/errors.js";
import { asUnreachable } from "../shared/network-errors.js";
import type { ProfileStore } from "../../core/ports/profile-store.js";
import type { Profile } from "../../core/user/profile.js";

/** BatchGetItem reads at most 100 keys per call. */
const BATCH_GET_MAX_KEYS = 100;
/** Rounds of retrying keys DynamoDB left unprocessed (throttled) before giving up. */
const MAX_UNPROCESSED_ROUNDS = 8;

/**
 * Profiles in a DynamoDB table keyed by `id` (string). The item is `{id, username, email?, createdAt,
 * backupDigest?}` with
 * `createdAt` as ISO 8601; creation is a conditional put (`attribute_not_exists(id)`), so a repeated or
 * retried event never overwrites a profile.
 */
export class DynamoProfileStore implements ProfileStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async createIfAbsent(profile: Profile): Promise<{ created: boolean }> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(profile),
          ConditionExpression: "attribute_not_exists(id)",
        }),
      );
      return { created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { created: false };
      throw unreachableOr(error, "PutItem");
    }
  }

  async get(id: string): Promise<Profile | undefined> {
    const { Item } = await this.client
      .send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }))
      .catch((error: unknown) => Promise.reject(unreachableOr(error, "GetItem")));
    return Item ? fromItem(Item) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, Profile>> {
    const found = new Map<string, Profile>();
    const unique = [...new Set(ids)];
    for (let start = 0; start < unique.length; start += BATCH_GET_MAX_KEYS) {
      let keys: Record<string, unknown>[] = unique
        .slice(start, start + BATCH_GET_MAX_KEYS)
        .map((id) => ({ id }));
      for (let round = 0; keys.length > 0; round++) {
        if (round === MAX_UNPROCESSED_ROUNDS) {
          throw new LifecycleError("DIRECTORY.THROTTLED", "The profile table kept throttling a batch read", {
            details: { unprocessedKeys: keys.length },
          });
        }
        if (round > 0) await this.sleep(Math.min(2_000, 50 * 2 ** round) * (0.5 + Math.random() / 2));
        const result = await this.client
          .send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
          )
          .catch((error: unknown) => Promise.reject(unreachableOr(error, "BatchGetItem")));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const profile = fromItem(item);
          found.set(profile.id, profile);
        }
        keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  /**
   * UpdateItem `SET backupDigest` under `attribute_exists(id) AND username = :username`: the comparison and
   * the write are one conditional write, so a digest never lands on another username's profile. When the
   * condition fails, a consistent read tells which of the two it was.
   */
  async recordBackupDigest(
    id: string,
    username: string,
    digest: string,
  ): Promise<"recorded" | "no-profile" | "identity-conflict"> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: "SET backupDigest = :digest",
          ConditionExpression: "attribute_exists(id) AND username = :username",
          ExpressionAttributeValues: { ":digest": digest, ":username": username },
        }),
      );
      return "recorded";
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw unreachableOr(error, "UpdateItem");
    }
    return (await this.get(id)) === undefined ? "no-profile" : "identity-conflict";
  }

  async delete(id: string): Promise<boolean> {
    const { Attributes } = await this.client
      .send(new DeleteCommand({ TableName: this.tableName, Key: { id }, ReturnValues: "ALL_OLD" }))
      .catch((error: unknown) => Promise.reject(unreachableOr(error, "DeleteItem")));
    return Attributes !== undefined;
  }
}

/** A network failure as one `SERVICE.UNREACHABLE` error; anything else unchanged. */
function unreachableOr(error: unknown, operation: string): unknown {
  return asUnreachable("DynamoDB", operation, error) ?? error;
}

function toItem(profile: Profile): Record<string, string> {
  return {
    id: profile.id,
    username: profile.username,
    ...(profile.email !== undefined ? { email: profile.email } : {}),
    createdAt: profile.createdAt.toISOString(),
    ...(profile.backupDigest !== undefined ? { backupDigest: profile.backupDigest } : {}),
  };
}

/** Reads an item strictly; the error names the field, never its value. */
function fromItem(item: Record<string, unknown>): Profile {
  const text = (field: string): string => {
    const value = item[field];
    if (typeof value !== "string" || value === "") {
      throw new LifecycleError(
        "PROFILE.MALFORMED",
        `Profile item field ${field} is missing or not a string`,
        {
          details: { field },
        },
      );
    }
    return value;
  };
  const createdAt = new Date(text("createdAt"));
  if (Number.isNaN(createdAt.getTime())) {
    throw new LifecycleError("PROFILE.MALFORMED", "Profile item field createdAt is not an ISO 8601 date", {
      details: { field: "createdAt" },
    });
  }
  return {
    id: text("id"),
    username: text("username"),
    ...(item.email !== undefined ? { email: text("email") } : {}),
    createdAt,
    ...(item.backupDigest !== undefined ? { backupDigest: text("backupDigest") } : {}),
  };
}
