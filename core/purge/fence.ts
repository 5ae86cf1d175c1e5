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
 *   A trigger that finds the user gone (deleted after the commit) fails too.
 *
 * A crash between the disable and the delete leaves the user disabled until the deletion runs again; a
 * confirmation meanwhile is held by the trigger, and the deletion run again, finding a user the plan says was
 * enabled when listed now disabled and confirmed, enables it again (`fencedDelete` in the identity purge).
 *
 * The trigger's half is `checkConfirmationFence` (core/use-cases/confirmation-fence.ts), run by the Post
 * Confirmation handler before it writes anything; its read of the pool is granted by a policy declared after
 * the pool. One gap is chosen, not missed: when that read fails (Cognito throttled or unreachable), the handler
 * lets the confirmation through unless the stack runs with `SYNC_FAILURE_MODE=fail`, and alarms; the fence then
 * holds only if the purge's re-read came after the commit.
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
