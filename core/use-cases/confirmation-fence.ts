import type { UserDirectory } from "../ports/user-directory.js";
import { confirmationHeldByFence } from "../purge/fence.js";
import type { ConfirmationEvent } from "../user/post-confirmation.js";

/**
 * What the trigger half of the purge's fence (`core/purge/fence.ts`) says about one confirmation:
 *
 * - `clear`: the user is enabled, so no identity purge holds it; the confirmation may answer success.
 * - `held`: the confirmation must fail (nothing recorded): the user is disabled (`DISABLED`: an identity purge
 *   may be about to delete it, or an operator disabled it), or is no longer the user that confirmed (`GONE`:
 *   deleted since the commit, or its username now belongs to another user).
 * - `not-fenced`: a forgot-password confirmation, which no purge can race (see {@link checkConfirmationFence}).
 */
export type ConfirmationFenceVerdict =
  | { readonly kind: "clear" }
  | { readonly kind: "held"; readonly reason: "DISABLED" | "GONE" }
  | { readonly kind: "not-fenced" };

/**
 * Reads the confirming user (one AdminGetUser, without groups) and tells whether its confirmation is held by
 * the fence. Runs inside the confirmation, after Cognito committed it.
 *
 * Only sign-up confirmations are fenced: the identity purge deletes UNCONFIRMED users only, and such a user
 * cannot start a password reset (ForgotPassword answers InvalidParameterException when the user has no verified
 * email or phone number, and confirming the sign-up is what verifies it: Cognito API reference, ForgotPassword).
 * So a ConfirmForgotPassword is never for a user a purge may delete, and it is not read. Failing it for a
 * disabled user would gain nothing either: its new password is already committed, and Cognito refuses a
 * disabled user's ForgotPassword ("User is disabled.", NotAuthorizedException) before any code is sent.
 *
 * @throws whatever the directory throws (unreachable, throttled): the caller decides what an unknown means.
 */
export async function checkConfirmationFence(
  event: ConfirmationEvent,
  directory: UserDirectory,
): Promise<ConfirmationFenceVerdict> {
  if (event.trigger !== "ConfirmSignUp") return { kind: "not-fenced" };
  const current = await directory.getUser(event.user.username);
  // Another sub under the same username is another person: the one who confirmed is gone.
  if (!current || current.sub !== event.user.sub) return { kind: "held", reason: "GONE" };
  return confirmationHeldByFence(current) ? { kind: "held", reason: "DISABLED" } : { kind: "clear" };
}
