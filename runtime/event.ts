import * as z from "zod/mini";
import "../core/validation.js";
import { issuePath, ValidationError } from "../core/errors.js";

/**
 * Parses a manual-invoke event strictly: unknown keys and wrong types are refused with an `EVENT.INVALID`
 * error naming the first bad field (as a path, e.g. `usernames[2]`), so nothing runs on a mistyped request.
 */
export function parseEvent<S extends z.ZodMiniType>(schema: S, event: unknown, name: string): z.infer<S> {
  const result = schema.safeParse(event ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issuePath(issue?.path ?? []);
  const unknownKeys = issue?.code === "unrecognized_keys" ? ` (unknown: ${issue.keys.join(", ")})` : "";
  throw new ValidationError(
    "EVENT.INVALID",
    path === "" ? name : `${name}.${path}`,
    `${issue?.message ?? "is invalid"}${unknownKeys}`,
  );
}

/**
 * What a scheduled purge accepts (EventBridge Scheduler sends `{}`): `dryRun: true` makes the run report what
 * it would delete and delete nothing, whatever the stack's policy says. Any other field is refused.
 */
export const purgeEventSchema = z.strictObject({ dryRun: z.optional(z.boolean()) });

/** The snapshot-and-reconcile function takes no option: any field (a `dryRun` too) is refused, naming it. */
export const noOptionsEventSchema = z.strictObject({});
