/**
 * The IAM actions each method of `DynamoProfileStore` calls, declared once next to it (plain data: the
 * Pulumi program builds least-privilege policies from it).
 */
import type { ProfileStore } from "../../core/ports/profile-store.js";

/** The DynamoDB actions each use of the store needs, for least-privilege policies built next to it. */
export const DYNAMO_PROFILE_STORE_ACTIONS = {
  createIfAbsent: ["dynamodb:PutItem"],
  get: ["dynamodb:GetItem"],
  getMany: ["dynamodb:BatchGetItem"],
  // A failed condition is told apart by a GetItem.
  recordBackupDigest: ["dynamodb:UpdateItem", "dynamodb:GetItem"],
  delete: ["dynamodb:DeleteItem"],
} as const satisfies Record<keyof ProfileStore, readonly string[]>;
