/**
 * A tombstone as stored: `{"format":"cognito-user-lifecycle/erasure","version":1,"userId":"<uuid>",
 * "erasedAt":"<ISO 8601>"}`. No email, no username: the stable id and the time only.
 */
import { ValidationError } from "../errors.js";
import type { Tombstone } from "../ports/erasure-ledger.js";
import { requireStableUserId } from "../user/user.js";

export const TOMBSTONE_FORMAT = "cognito-user-lifecycle/erasure";

const KEYS = ["format", "version", "userId", "erasedAt"];

/** The tombstone as one line of JSON. @throws ValidationError `USER.INVALID_ID` / `ERASURE.MALFORMED`. */
export function serializeTombstone(tombstone: Tombstone): string {
  requireStableUserId(tombstone.userId, "userId");
  if (!(tombstone.erasedAt instanceof Date) || Number.isNaN(tombstone.erasedAt.getTime())) {
    throw new ValidationError("ERASURE.MALFORMED", "erasedAt", "not a valid date");
  }
  return JSON.stringify({
    format: TOMBSTONE_FORMAT,
    version: 1,
    userId: tombstone.userId,
    erasedAt: tombstone.erasedAt.toISOString(),
  });
}

/**
 * Reads a stored tombstone.
 *
 * @param location where it was read (an object key), named by errors.
 * @throws ValidationError `ERASURE.MALFORMED` naming the first bad field.
 */
export function parseTombstone(text: string, location: string): Tombstone {
  const bad = (field: string, problem: string) =>
    new ValidationError("ERASURE.MALFORMED", `${location}: ${field}`, problem);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("$", "not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("$", "not an object");
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) if (!KEYS.includes(key)) throw bad(key, "unknown field");
  if (object.format !== TOMBSTONE_FORMAT) throw bad("format", `expected "${TOMBSTONE_FORMAT}"`);
  if (object.version !== 1) throw bad("version", "this reader supports version 1 only");
  if (typeof object.userId !== "string" || !/^[0-9a-f-]{36}$/.test(object.userId)) {
    throw bad("userId", "is not a user id");
  }
  const erasedAt = typeof object.erasedAt === "string" ? new Date(object.erasedAt) : undefined;
  if (erasedAt === undefined || Number.isNaN(erasedAt.getTime())) throw bad("erasedAt", "not a valid date");
  return { userId: requireStableUserId(object.userId, `${location}: userId`), erasedAt };
}
