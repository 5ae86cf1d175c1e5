/**
 * What the application's app client may read and write of a user: one definition for the deployed app client
 * (its `ReadAttributes`/`WriteAttributes`) and for the local Cognito, which applies the same lists.
 *
 * Cognito applies an app client's write list to SignUp and UpdateUserAttributes (a non-writable attribute is
 * refused with NotAuthorizedException "A client attempted to write unauthorized attribute"), and its read list to
 * what GetUser and the ID token give that client. Admin calls, authorized by IAM (AdminCreateUser, ListUsers,
 * AdminGetUser, import jobs), are not bound by them.
 *
 * `custom:legacy_sub` is readable, so an application keyed on it finds it in the ID token, but never writable:
 * only a restore (AdminCreateUser or an import CSV) sets it. Were users able to write it, anyone could sign up
 * under another person's stable id. The verified flags are not writable either: only a confirmation code or an
 * administrator sets them.
 */
import { LEGACY_SUB_ATTRIBUTE } from "./user.js";

/**
 * Cognito's standard attributes (OpenID Connect claims) that users may set about themselves. `sub` is not among
 * them: Cognito assigns it.
 */
export const APP_CLIENT_WRITE_ATTRIBUTES: readonly string[] = Object.freeze([
  "address",
  "birthdate",
  "email",
  "family_name",
  "gender",
  "given_name",
  "locale",
  "middle_name",
  "name",
  "nickname",
  "phone_number",
  "picture",
  "preferred_username",
  "profile",
  "updated_at",
  "website",
  "zoneinfo",
]);

/** Everything users may write, plus the verified flags and the stable id a restore keeps. */
export const APP_CLIENT_READ_ATTRIBUTES: readonly string[] = Object.freeze([
  ...APP_CLIENT_WRITE_ATTRIBUTES,
  "email_verified",
  "phone_number_verified",
  LEGACY_SUB_ATTRIBUTE,
]);
