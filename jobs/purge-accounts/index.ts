/**
 * The accounts purge job: deletes the application's `users` rows never confirmed within the policy's age, in
 * short batches. A refused login is retried once with the secret read again, in case the password was just
 * rotated. The Lambda function (handlers/purge-unconfirmed-accounts.ts) and the CLI (`purge-unconfirmed`)
 * both run it.
 */
import type * as z from "zod/mini";
import { errorCode } from "../../core/errors.js";
import type { AccountStore } from "../../core/ports/account-store.js";
import type { Clock } from "../../core/ports/clock.js";
import type { PurgePolicy, PurgeReport } from "../../core/purge/index.js";
import { purgeUnconfirmedAccounts } from "../../core/use-cases/purge-unconfirmed-accounts.js";
import type { PurgeRunOptions } from "../../core/use-cases/purge-unconfirmed-identities.js";
import { purgeEventSchema } from "../../runtime/event.js";
import type { AccountsPurgeSizes } from "../../runtime/purge-policy.js";

/**
 * What a purge run accepts (EventBridge Scheduler sends `{}`): `dryRun: true` makes the run report what it
 * would delete and delete nothing, whatever the stack's policy says. Any other field is refused. The same
 * input as the identity purge's.
 */
export const purgeAccountsInputSchema = purgeEventSchema;

export type PurgeAccountsInput = z.infer<typeof purgeAccountsInputSchema>;

export interface PurgeAccountsJobDeps extends AccountsPurgeSizes {
  /** Opens the store; `refreshCredentials` asks for the secret to be read again. */
  readonly accounts: (options: { refreshCredentials: boolean }) => Promise<AccountStore>;
  readonly clock: Clock;
  readonly policy: PurgePolicy;
}

export interface PurgeAccountsRunOptions extends Pick<PurgeRunOptions, "previewed" | "onPlan"> {
  /** When the run stops starting new batches. */
  readonly deadline: Date;
  /** Told when the login was refused and the secret is read again. */
  readonly onLoginRefused?: () => void;
}

export type { PurgeReport };

/** Runs the purge; a `dryRun` input deletes nothing whatever the policy says. */
export async function runPurgeAccounts(
  deps: PurgeAccountsJobDeps,
  input: PurgeAccountsInput,
  options: PurgeAccountsRunOptions,
): Promise<PurgeReport> {
  const policy = input.dryRun ? { ...deps.policy, dryRun: input.dryRun } : deps.policy;
  const { deadline, onLoginRefused, ...hooks } = options;
  const run = async (accounts: AccountStore) =>
    purgeUnconfirmedAccounts(
      { accounts, clock: deps.clock },
      { ...hooks, policy, batchSize: deps.batchSize, lanes: deps.lanes, deadline },
    );
  try {
    return await run(await deps.accounts({ refreshCredentials: false }));
  } catch (error) {
    if (errorCode(error) !== "DATABASE.AUTH_FAILED") throw error;
    onLoginRefused?.();
    return run(await deps.accounts({ refreshCredentials: true }));
  }
}

/** A run with a failed batch has failed. */
export function purgeAccountsFailed(report: PurgeReport): boolean {
  return report.failed > 0;
}
