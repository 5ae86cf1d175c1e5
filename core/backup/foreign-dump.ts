/**
 * Users dumped by other tools, so a pool backed up without this project can still be restored by it.
 */
import type { User } from "../user/user.js";
import { readUserType } from "./backup-record.js";
import { child, expectArray, fail, field, item, parseJsonText, type ReadContext } from "./json-reader.js";

// A ListUsers response with a token is one page of several: `PaginationToken` is what the API and the SDKs
// return while more users follow, `NextToken` what the AWS CLI prints when `--max-items` cut the listing short.
const MORE_PAGES_FIELDS = ["PaginationToken", "NextToken"] as const;

/**
 * Reads the users of a foreign dump, given as JSON text or an already parsed value, in one of the shapes
 * other tools write:
 * - a ListUsers response, `{ "Users": [UserType, ...] }` (the AWS CLI's `aws cognito-idp list-users` output,
 *   in either of its timestamp formats, or an SDK response saved as JSON);
 * - a JSON array of `UserType`;
 * - a single `UserType`.
 *
 * Each user is read as {@link readUserType} reads it: no groups, MFA off (`UserType` carries neither).
 *
 * @param location where the dump came from; prefixed to every error field (`dump.json: Users[3].UserStatus`).
 * @throws ValidationError `BACKUP.MALFORMED` naming the path of the first bad value; for any other shape;
 *   for a duplicate `Username`; and for a ListUsers response that still has a pagination token, because
 *   restoring one page as if it were the pool would silently leave users out.
 */
export function parseForeignDump(input: string | unknown, location?: string): User[] {
  const ctx: ReadContext = { code: "BACKUP.MALFORMED", location };
  const value = parseJsonText(input, ctx);
  if (Array.isArray(value)) return readUsers(value, "", ctx);
  if (typeof value === "object" && value !== null) {
    const object = value as Record<string, unknown>;
    if (Object.hasOwn(object, "Users")) {
      for (const name of MORE_PAGES_FIELDS) {
        const token = field(object, name);
        if (token !== undefined && token !== null && token !== "") {
          fail(ctx, name, "the listing is incomplete (more pages follow); dump every page of the pool");
        }
      }
      return readUsers(expectArray(object.Users, "Users", ctx), "Users", ctx);
    }
    if (Object.hasOwn(object, "Username")) return [readUserType(object, "", ctx)];
  }
  return fail(
    ctx,
    "",
    'expected a ListUsers response ({"Users": [...]}), a JSON array of users, or a single user (UserType)',
  );
}

function readUsers(list: readonly unknown[], path: string, ctx: ReadContext): User[] {
  const usernames = new Set<string>();
  return list.map((entry, index) => {
    const user = readUserType(entry, item(path, index), ctx);
    if (usernames.has(user.username)) fail(ctx, child(item(path, index), "Username"), "duplicate username");
    usernames.add(user.username);
    return user;
  });
}
