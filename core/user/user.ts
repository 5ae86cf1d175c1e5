import { ValidationError } from "../errors.js";

/**
 * The user as this system sees it: what Cognito's ListUsers/AdminGetUser tell about one user of a pool,
 * plus the groups the user belongs to. Adapters map to and from the wire shapes; the core works on this.
 */

/** Every status Cognito reports in `UserStatus`. */
export const USER_STATUSES = [
  "UNCONFIRMED",
  "CONFIRMED",
  "ARCHIVED",
  "COMPROMISED",
  "UNKNOWN",
  "RESET_REQUIRED",
  "FORCE_CHANGE_PASSWORD",
  "EXTERNAL_PROVIDER",
] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export function isUserStatus(value: unknown): value is UserStatus {
  return typeof value === "string" && (USER_STATUSES as readonly string[]).includes(value);
}

/** The custom attribute that carries a user's original `sub` through a restore. */
export const LEGACY_SUB_ATTRIBUTE = "custom:legacy_sub";

export interface User {
  /** `cognito:username`: unique in the pool, immutable. With email sign-in it is often the sub itself. */
  readonly username: string;
  /** Cognito's `sub` in this pool. It changes when the user is restored into a pool. */
  readonly sub: string;
  /**
   * Standard and custom attributes by Cognito name (`email`, `email_verified`, `custom:legacy_sub`),
   * values as Cognito returns them: strings, booleans as "true"/"false". `sub` is kept here too.
   */
  readonly attributes: Readonly<Record<string, string>>;
  readonly status: UserStatus;
  readonly enabled: boolean;
  /** Whether the user has MFA turned on (the import CSV's `cognito:mfa_enabled`). */
  readonly mfaEnabled: boolean;
  readonly createdAt?: Date;
  readonly modifiedAt?: Date;
  /** Names of the groups the user belongs to, sorted, no duplicates. */
  readonly groups: readonly string[];
}

/** A group of a pool, as much as is needed to recreate it in another pool. */
export interface Group {
  readonly name: string;
  readonly description?: string;
  readonly precedence?: number;
  readonly roleArn?: string;
}

/**
 * The id that identifies a person across restores: `custom:legacy_sub` when present (the sub the user
 * had before a restore), else `sub`. Profiles and backups are keyed on it, so a restore — which gives
 * every user a new sub — does not orphan them.
 */
export function stableUserId(user: Pick<User, "sub" | "attributes">): string {
  const legacy = Object.hasOwn(user.attributes, LEGACY_SUB_ATTRIBUTE)
    ? user.attributes[LEGACY_SUB_ATTRIBUTE]
    : undefined;
  const [field, id] =
    legacy !== undefined && legacy !== "" ? [LEGACY_SUB_ATTRIBUTE, legacy] : ["sub", user.sub];
  return requireStableUserId(id, field);
}

/**
 * A stable user id as Cognito writes a `sub`: a UUID in lowercase hexadecimal, 8-4-4-4-12. Ids become object
 * keys (`users/<id>.json`) and table keys, so nothing else is ever taken for one: not `../../x`, not
 * `__proto__`, not 2,049 characters, not the same UUID in capitals (which would be a second key).
 */
const STABLE_USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isStableUserId(value: unknown): value is string {
  return typeof value === "string" && STABLE_USER_ID.test(value);
}

/**
 * `value` when it is a stable user id (see {@link isStableUserId}).
 *
 * @param field where the value came from (`custom:legacy_sub`, `sub`, `userId`), named by the error.
 * @throws ValidationError `USER.INVALID_ID` naming `field`, never echoing the value (it may be hostile, or PII).
 */
export function requireStableUserId(value: unknown, field: string): string {
  if (!isStableUserId(value)) {
    throw new ValidationError(
      "USER.INVALID_ID",
      field,
      "is not a user id (a lowercase UUID, as Cognito's sub)",
    );
  }
  return value;
}

/** Normalises a group list: sorted, unique. */
export function normalizeGroups(groups: Iterable<string>): string[] {
  return [...new Set(groups)].sort();
}

/** A user with defaults for what tests and callers rarely care about. */
export function makeUser(fields: Pick<User, "username" | "sub"> & Partial<User>): User {
  const attributes = { ...(fields.attributes ?? {}), sub: fields.sub };
  return {
    username: fields.username,
    sub: fields.sub,
    attributes,
    status: fields.status ?? "CONFIRMED",
    enabled: fields.enabled ?? true,
    mfaEnabled: fields.mfaEnabled ?? false,
    ...(fields.createdAt ? { createdAt: fields.createdAt } : {}),
    ...(fields.modifiedAt ? { modifiedAt: fields.modifiedAt } : {}),
    groups: normalizeGroups(fields.groups ?? []),
  };
}
