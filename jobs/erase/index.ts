/**
 * The erase job: erases one person — a tombstone in the erasure ledger first, then the pool, the profile
 * table, every backup version and every snapshot part. The Lambda function (handlers/erase.ts) runs it
 * outside the VPC, without the application's accounts table; the CLI (`erase`) runs the same use case with it.
 */
import * as z from "zod/mini";
import "../../core/validation.js";
import { type EraseDeps, type EraseReport, eraseUser } from "../../core/use-cases/erase-user.js";

/** Who to erase: a username, a stable user id, or both (of one person). Any other field is refused. */
export const eraseInputSchema = z
  .strictObject({
    username: z.optional(z.string().check(z.minLength(1))),
    userId: z.optional(z.string().check(z.minLength(1))),
  })
  .check(
    z.refine((event) => event.username !== undefined || event.userId !== undefined, {
      message: "give a username, a userId, or both",
    }),
  );

export type EraseInput = z.infer<typeof eraseInputSchema>;

/** The erase's dependencies without the accounts table, which the function cannot reach. */
export type EraseJobDeps = Omit<EraseDeps, "accounts">;

export type { EraseReport };

/** Erases the person, without the accounts table (its report says the row was not checked). */
export function runErase(deps: EraseJobDeps, input: EraseInput): Promise<EraseReport> {
  return eraseUser(
    // Exactly these: no accounts table, whatever else the caller's object holds.
    {
      directory: deps.directory,
      profiles: deps.profiles,
      backups: deps.backups,
      erasures: deps.erasures,
      restores: deps.restores,
      clock: deps.clock,
    },
    input,
  );
}

/** An erasure that left parts it could not scrub has not finished. */
export function eraseFailed(report: EraseReport): boolean {
  return !report.complete;
}
