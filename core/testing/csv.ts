/** Readable test data for the user import CSV. Used by tests only. */
import type { PlannedUser } from "../backup/restore-state.js";
import { type ImportHeader, type ImportHeaderOptions, parseImportHeader } from "../csv/import-header.js";
import { importRowOf } from "../csv/map-user.js";
import { stableUserId, type User } from "../user/user.js";

/** What GetCSVHeader answers for a pool with the standard attributes and the custom attribute `legacy_sub`. */
export const A_POOL_CSV_HEADER: readonly string[] = [
  "name",
  "given_name",
  "family_name",
  "middle_name",
  "nickname",
  "preferred_username",
  "profile",
  "picture",
  "website",
  "email",
  "email_verified",
  "gender",
  "birthdate",
  "zoneinfo",
  "locale",
  "phone_number",
  "phone_number_verified",
  "address",
  "updated_at",
  "custom:legacy_sub",
  "cognito:mfa_enabled",
  "cognito:username",
];

/** A checked header: {@link A_POOL_CSV_HEADER} plus `extraColumns`, with the given pool settings. */
export function anImportHeader(
  options: ImportHeaderOptions & { extraColumns?: readonly string[] } = {},
): ImportHeader {
  const { extraColumns = [], ...headerOptions } = options;
  return parseImportHeader([...A_POOL_CSV_HEADER, ...extraColumns], headerOptions);
}

/**
 * A user as an import-job plan holds it: its row for `header` (default {@link anImportHeader}()).
 *
 * @throws Error when the user cannot be imported with that header: test data that says otherwise is wrong.
 */
export function aPlannedImportUser(user: User, header: ImportHeader = anImportHeader()): PlannedUser {
  const mapped = importRowOf(header, user);
  if (mapped.kind === "skip") throw new Error(`test user cannot be imported: ${mapped.skipped.detail}`);
  return {
    username: user.username,
    sub: stableUserId(user),
    groups: user.groups,
    enabled: user.enabled,
    row: mapped.text,
  };
}
