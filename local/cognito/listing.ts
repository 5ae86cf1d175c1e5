/**
 * ListUsers' filter and the pages of every listing, as Cognito's API reference describes them.
 *
 * Filter (ListUsers): `AttributeName Filter-Type "AttributeValue"`, one attribute, `=` (exact) or `^=` (prefix),
 * quotes inside the value escaped with a backslash; an empty filter lists everyone. Only these standard
 * attributes are searchable: username (case-sensitive), email, phone_number, name, given_name, family_name,
 * preferred_username, cognito:user_status (case-insensitive), status (Enabled/Disabled, case-sensitive) and sub;
 * custom attributes are not. A filter is at most 256 characters. A filter that does not parse is refused with InvalidParameterException "Error while
 * parsing filter.", as Cognito answers it.
 *
 * Pages: `Limit` 0–60 (0 or none: 60); above 60 is refused with Cognito's validation message. A token is issued
 * only when more items follow, and is accepted only by the same operation on the same pool with the same filter
 * (or group, or user), within an hour of being issued (Cognito's tokens expire). Anything else is refused with
 * InvalidParameterException, the way Cognito refuses a stale paging marker.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { cognitoError, type StoredUser } from "./cognito-local.js";

/** The most a page holds: Cognito's Limit maximum for ListUsers, ListGroups, ListUsersInGroup and AdminListGroupsForUser. */
export const MAX_PAGE_SIZE = 60;
/** The longest ListUsers filter (API reference: Filter, maximum length 256). */
export const MAX_FILTER_LENGTH = 256;
/** How long Cognito accepts a pagination token. */
export const DEFAULT_TOKEN_TTL_MS = 60 * 60_000;

type Match = (user: StoredUser) => boolean;

const attributeOf = (name: string) => (user: StoredUser) =>
  user.Attributes?.find((attribute) => attribute.Name === name)?.Value;

/** Searchable attributes, each with how a user's value is read and whether case matters. */
const SEARCHABLE: Readonly<
  Record<string, { read: (user: StoredUser) => string | undefined; caseSensitive: boolean }>
> = {
  username: { read: (user) => user.Username, caseSensitive: true },
  email: { read: attributeOf("email"), caseSensitive: true },
  phone_number: { read: attributeOf("phone_number"), caseSensitive: true },
  name: { read: attributeOf("name"), caseSensitive: true },
  given_name: { read: attributeOf("given_name"), caseSensitive: true },
  family_name: { read: attributeOf("family_name"), caseSensitive: true },
  preferred_username: { read: attributeOf("preferred_username"), caseSensitive: true },
  "cognito:user_status": { read: (user) => user.UserStatus, caseSensitive: false },
  status: { read: (user) => (user.Enabled ? "Enabled" : "Disabled"), caseSensitive: true },
  sub: { read: attributeOf("sub"), caseSensitive: true },
};

const FILTER = /^\s*([A-Za-z_:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$/s;

/**
 * Parses a ListUsers filter into a predicate.
 * @throws Cognito's InvalidParameterException: "Error while parsing filter." for bad syntax; naming the attribute
 *   when it is not one Cognito can search (custom attributes included).
 */
export function parseUserFilter(filter: string | undefined): Match {
  if (filter !== undefined && filter.length > MAX_FILTER_LENGTH) {
    throw cognitoError(
      "InvalidParameterException",
      `1 validation error detected: Value at 'filter' failed to satisfy constraint: Member must have length less than or equal to ${MAX_FILTER_LENGTH}`,
    );
  }
  if (filter === undefined || filter.trim() === "") return () => true;
  const parsed = FILTER.exec(filter);
  if (!parsed) throw cognitoError("InvalidParameterException", "Error while parsing filter.");
  const [, name = "", operator, rawValue = ""] = parsed;
  // An own property only: `__proto__` or `constructor` is no searchable attribute.
  const searchable = Object.hasOwn(SEARCHABLE, name) ? SEARCHABLE[name] : undefined;
  if (!searchable) throw cognitoError("InvalidParameterException", `Invalid search attribute: ${name}`);
  const fold = (text: string) => (searchable.caseSensitive ? text : text.toLowerCase());
  const wanted = fold(rawValue.replace(/\\(.)/gs, "$1"));
  return (user) => {
    const value = searchable.read(user);
    if (value === undefined) return false;
    return operator === "=" ? fold(value) === wanted : fold(value).startsWith(wanted);
  };
}

/**
 * A request's `Limit` as a page size.
 * @throws Cognito's InvalidParameterException validation message for a value outside 0–60.
 */
export function pageSizeOf(limit: unknown): number {
  if (limit === undefined || limit === null || limit === 0) return MAX_PAGE_SIZE;
  if (typeof limit !== "number" || !Number.isInteger(limit)) {
    throw cognitoError(
      "InvalidParameterException",
      "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must be a number",
    );
  }
  if (limit > MAX_PAGE_SIZE) {
    throw cognitoError(
      "InvalidParameterException",
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${MAX_PAGE_SIZE}`,
    );
  }
  if (limit < 0) {
    throw cognitoError(
      "InvalidParameterException",
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 0`,
    );
  }
  return limit;
}

interface TokenBody {
  /** What the token continues: operation, pool and the filter/group/user of the listing. */
  readonly scope: string;
  /** The key of the last item given (items are ordered by key). */
  readonly after: string;
  /** When it was issued (ms since the epoch). */
  readonly at: number;
}

/** Issues and checks the tokens of one server (a key of its own: a token from another server is foreign). */
export class PageTokens {
  private readonly key = randomBytes(32);

  constructor(
    private readonly ttlMs: number = DEFAULT_TOKEN_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** One page of `items` (sorted by `keyOf`, unique keys) after the token's position, and the next token. */
  page<T>(
    items: readonly T[],
    keyOf: (item: T) => string,
    request: { scope: string; limit: unknown; token: unknown },
  ): { items: T[]; nextToken?: string } {
    const size = pageSizeOf(request.limit);
    const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    let start = 0;
    if (request.token !== undefined && request.token !== null) {
      const after = this.read(request.token, request.scope);
      start = sorted.findIndex((item) => keyOf(item) > after);
      if (start < 0) start = sorted.length;
    }
    const pageItems = sorted.slice(start, start + size);
    const last = pageItems.at(-1);
    const more = start + size < sorted.length;
    return more && last !== undefined
      ? {
          items: pageItems,
          nextToken: this.issue({ scope: request.scope, after: keyOf(last), at: this.now() }),
        }
      : { items: pageItems };
  }

  private issue(body: TokenBody): string {
    const payload = Buffer.from(JSON.stringify(body)).toString("base64url");
    return `${payload}.${this.sign(payload)}`;
  }

  private sign(payload: string): string {
    return createHmac("sha256", this.key).update(payload).digest("base64url");
  }

  /** @throws Cognito's InvalidParameterException for a token that is forged, foreign, for another listing or expired. */
  private read(token: unknown, scope: string): string {
    const refuse = () =>
      cognitoError(
        "InvalidParameterException",
        `Paging marker ${typeof token === "string" ? token : ""} is invalid for request ${randomUUID()}`,
      );
    if (typeof token !== "string") throw refuse();
    const [payload = "", signature = ""] = token.split(".");
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw refuse();
    let body: TokenBody;
    try {
      body = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenBody;
    } catch {
      throw refuse();
    }
    if (body.scope !== scope || this.now() - body.at > this.ttlMs || typeof body.after !== "string")
      throw refuse();
    return body.after;
  }
}
