/** Readable test data for the user import CSV. Used by tests only. */
import { type ImportHeader, type ImportHeaderOptions, parseImportHeader } from "../csv/import-header.js";

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
