/**
 * The fence around each deletion of the identity purge. Cognito has no conditional delete: between the
 * purge's last look at a user and its AdminDeleteUser, the person may confirm. So the purge disables the user
 * first, reads it again, deletes it only if it is still UNCONFIRMED, and enables it again otherwise.
 *
 * What a disabled user's own ConfirmSignUp does is not documented by AWS (AdminDisableUser only says a
 * deactivated user "can't sign in"). The fence holds either way:
 *
 * - refused: no confirmation can commit after the disable, so the re-read is final.
 * - allowed: a confirmation may commit after the re-read, and the user is then deleted. But its Post
 *   Confirmation trigger runs inside that ConfirmSignUp, after the commit, and finds the user disabled
 *   ({@link confirmationHeldByFence}): it fails, so ConfirmSignUp answers with an error and the person is
 *   never told they are confirmed. A confirmation that answered success had its trigger see the user
 *   enabled; the trigger ran after the commit, so the commit came before the disable or after the purge
 *   enabled the user again — and in both cases the purge's re-read (after the disable) saw CONFIRMED.
 */
import type { User } from "../user/user.js";

/**
 * Whether a user who is confirming right now must be told the confirmation failed: the user is disabled, so
 * an identity purge may be about to delete it (or an operator disabled it). Used by the Post Confirmation
 * trigger of a ConfirmSignUp.
 */
export function confirmationHeldByFence(user: Pick<User, "enabled">): boolean {
  return !user.enabled;
}
