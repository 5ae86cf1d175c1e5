/**
 * `purge-unconfirmed`: deletes users who never confirmed, from the pool (the identity purge's steps, run here
 * one after another) and the accounts table (jobs/purge-accounts), following the purge policy. Without
 * `--yes` a preview comes first, and the run then carries out exactly the previewed plans.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import * as z from "zod/mini";
import "../../core/validation.js";
import { ValidationError } from "../../core/errors.js";
import {
  type AccountPurgePlan,
  formatDuration,
  parsePurgePolicy,
  type PurgePlan,
  type PurgePolicy,
  type PurgeReport,
} from "../../core/purge/index.js";
import { runSteps } from "../../core/steps/step.js";
import { nameAccountPurge } from "../../core/use-cases/purge-unconfirmed-accounts.js";
import {
  identityPurgeReport,
  identityPurgeStep,
  type PurgeStepOptions,
  type StartPurgeOptions,
  startIdentityPurge,
} from "../../core/use-cases/purge-unconfirmed-identities.js";
import { maskIdentifier } from "../../core/user/mask.js";
import { runPurgeAccounts } from "../../jobs/purge-accounts/index.js";
import {
  type CliRuntime,
  commonOptions,
  destructiveOptions,
  confirm,
  type Context,
  countsText,
  describeFailure,
  EXIT_FAILURE,
  EXIT_OK,
  lifecycleCommand,
  NotConfirmedError,
  type Outcome,
  requireConsentPossible,
  SERVICE,
} from "../command.js";
import { watchedAccounts, watchedDirectory } from "../watch.js";

const optionsSchema = z.strictObject({
  ...commonOptions,
  target: z.enum(["identities", "accounts", "both"]),
  minAge: z.optional(z.number()),
  maxDeletions: z.optional(z.number()),
  maxShare: z.optional(z.number()),
  ...destructiveOptions,
});

type PurgeOptions = z.infer<typeof optionsSchema>;

export function purgeUnconfirmedCommand(runtime: CliRuntime): Command {
  return lifecycleCommand(runtime, {
    name: "purge-unconfirmed",
    description:
      "Delete users who never confirmed their sign-up: from the pool (identities), the MySQL users table " +
      "(accounts), or both. Follows the purge policy: minimum age, a cap per run, and a refusal when too " +
      "large a share would go.",
    examples: [
      `  $ ${SERVICE} purge-unconfirmed --local --dry-run`,
      `  $ ${SERVICE} purge-unconfirmed --local --target identities --min-age 48h --max-deletions 200 --yes`,
      `  $ ${SERVICE} purge-unconfirmed --outputs prod.json --region eu-west-1 --profile ops --json --yes`,
    ],
    options: optionsSchema,
    configure: (command) =>
      command
        .addOption(
          new Option(
            "--target <what>",
            "what to purge: identities (the pool), accounts (the MySQL table), or both",
          )
            .choices(["identities", "accounts", "both"])
            .default("both"),
        )
        .option(
          "--min-age <duration>",
          "how long a user may stay unconfirmed, e.g. 24h, 2d, 1d12h, PT36H (default: the stack's PURGE_POLICY, else 24h)",
          parseMinAge,
        )
        .option(
          "--max-deletions <n>",
          "at most this many deletions per target in this run; the rest waits (default: policy, else 1000)",
          parseMaxDeletions,
        )
        .option(
          "--max-share <ratio>",
          "refuse the whole run when too many users are eligible (for the pool: those created within max(minAge, 1 day) of its newest sign-up) — this share of the pool: 0.05 or 5% (default: policy, else 5%)",
          parseMaxShare,
        )
        .option("--dry-run", "report what would be deleted; delete nothing")
        .option("--yes", "do not ask for confirmation (needed when no terminal is attached)"),
    run: purge,
  });
}

// ---- argument parsers (commander reports their errors naming the flag) ----

function validationProblem(error: unknown): string {
  if (error instanceof ValidationError) return error.message.slice(error.field.length + 2);
  throw error;
}

function parseMinAge(value: string): number {
  try {
    return parsePurgePolicy({ minAge: value }, "--min-age").minAgeMs;
  } catch (error) {
    throw new InvalidArgumentError(validationProblem(error));
  }
}

function parseMaxDeletions(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("must be a whole number");
  try {
    return parsePurgePolicy({ maxDeletionsPerRun: value.trim() }, "--max-deletions").maxDeletionsPerRun;
  } catch (error) {
    throw new InvalidArgumentError(validationProblem(error));
  }
}

function parseMaxShare(value: string): number {
  const text = value.trim();
  const ratio = text.endsWith("%") ? String(Number(text.slice(0, -1)) / 100) : text;
  if (ratio === "" || Number.isNaN(Number(ratio))) {
    throw new InvalidArgumentError("must be a ratio above 0 and at most 1 (0.05) or a percentage (5%)");
  }
  try {
    return parsePurgePolicy({ maxShareOfPool: ratio }, "--max-share").maxShareOfPool;
  } catch (error) {
    throw new InvalidArgumentError(validationProblem(error));
  }
}

type PurgeTargetName = "identities" | "accounts";

type PurgeResult =
  | {
      readonly target: PurgeTargetName;
      readonly report: PurgeReport;
      /**
       * Who the run deletes (a preview: would delete), masked. Accounts are deleted by query: a preview names
       * the oldest rows by email (at most 20, `more` counting the rest); a run names none.
       */
      readonly users?: readonly string[];
      readonly more?: number;
    }
  | { readonly target: PurgeTargetName; readonly error: { code: string; message: string } };

/** The plans a preview showed, carried out as they are after the confirmation. */
type PreviewedPlans = Partial<Record<PurgeTargetName, PurgePlan>>;

async function purge(ctx: Context, options: PurgeOptions): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  if (!dryRun) requireConsentPossible(ctx, options.yes, "purge-unconfirmed");
  const base = ctx.conn.purgePolicy();
  const policy: PurgePolicy = {
    minAgeMs: options.minAge ?? base.minAgeMs,
    maxDeletionsPerRun: options.maxDeletions ?? base.maxDeletionsPerRun,
    maxShareOfPool: options.maxShare ?? base.maxShareOfPool,
    dryRun,
  };
  const targets: PurgeTargetName[] =
    options.target === "both" ? ["identities", "accounts"] : [options.target];

  let previewed: PreviewedPlans | undefined;
  if (!dryRun && !options.yes) {
    previewed = {};
    const preview = await purgeAll(ctx, targets, { ...policy, dryRun: true }, undefined, previewed);
    for (const line of purgeLines(ctx, preview, policy, "preview")) ctx.note(line);
    if (preview.some((result) => "error" in result)) {
      throw new NotConfirmedError("The preview failed: nothing was deleted.", EXIT_FAILURE);
    }
    await confirm(ctx, options.yes, `Delete exactly these unconfirmed ${targets.join(" and ")} now?`);
  }
  // After a confirmation, the run carries out the plans the preview showed (their cutoff, their users), never
  // a new listing.
  const results = await purgeAll(ctx, targets, policy, previewed);
  const failed = results.some(
    (result) =>
      "error" in result || result.report.failed > 0 || (!dryRun && result.report.refused !== undefined),
  );
  return {
    code: failed ? EXIT_FAILURE : EXIT_OK,
    data: {
      dryRun,
      policy: { ...policy, minAge: formatDuration(policy.minAgeMs) },
      results,
    },
    human: purgeLines(ctx, results, policy, dryRun ? "dry-run" : "run"),
  };
}

/** The largest step of a purge run from here: what one Lambda invocation of it may take. */
const PURGE_STEP_MS = 14 * 60_000;

/**
 * Runs each target's purge. `previewed`: the plans a preview showed, carried out as they are. `keep`: where a
 * preview keeps its plans.
 */
async function purgeAll(
  ctx: Context,
  targets: readonly PurgeTargetName[],
  policy: PurgePolicy,
  previewed?: PreviewedPlans,
  keep?: PreviewedPlans,
): Promise<PurgeResult[]> {
  const results: PurgeResult[] = [];
  for (const target of targets) {
    ctx.progress.start(`purge ${target}${policy.dryRun ? " (preview)" : ""}`);
    let plan: PurgePlan | undefined;
    const deleted: string[] = [];
    const given = previewed?.[target];
    const run = {
      ...(given ? { previewed: given } : {}),
      onPlan: (made: PurgePlan) => {
        plan = made;
        if (keep) keep[target] = made;
      },
      onDeleted: (id: string) => deleted.push(id),
    };
    try {
      if (target === "identities") {
        const report = await purgeIdentities(ctx, policy, run);
        const names = (policy.dryRun ? (plan?.toDelete ?? []) : deleted).map(maskIdentifier);
        results.push({ target, report, users: names });
        continue;
      }
      const report = await runPurgeAccounts(
        {
          accounts: async (options) => watchedAccounts(await ctx.conn.accounts(options), ctx.progress),
          clock: ctx.conn.clock,
          policy,
          ...ctx.conn.accountsPurgeSizes(),
        },
        {},
        {
          deadline: new Date(ctx.conn.clock.now().getTime() + PURGE_STEP_MS),
          ...(given ? { previewed: given } : {}),
          onPlan: run.onPlan,
        },
      );
      if (policy.dryRun && plan && "limit" in plan) {
        // A preview names the rows it would delete (masked); the emails never leave this process unmasked.
        const named = await nameAccountPurge(
          await ctx.conn.accounts({ refreshCredentials: false }),
          plan as AccountPurgePlan,
        );
        results.push({ target, report, users: named.masked, more: named.more });
      } else {
        results.push({ target, report });
      }
    } catch (error) {
      const failure = describeFailure(error, ctx.target);
      results.push({ target, error: { code: failure.code, message: failure.message } });
    } finally {
      ctx.progress.done();
    }
  }
  return results;
}

/**
 * The identity purge in this process, its steps one after another with `runSteps` (the same steps the
 * function runs), until its plan is carried out, refused or previewed.
 */
async function purgeIdentities(
  ctx: Context,
  policy: PurgePolicy,
  run: Pick<StartPurgeOptions, "previewed"> & Pick<PurgeStepOptions, "onPlan" | "onDeleted">,
): Promise<PurgeReport> {
  const deps = { directory: watchedDirectory(ctx.conn.directory(), ctx.progress), clock: ctx.conn.clock };
  const initial = startIdentityPurge(deps.clock, {
    policy,
    ...(run.previewed ? { previewed: run.previewed } : {}),
  });
  if (run.previewed) run.onPlan?.(run.previewed);
  const { state } = await runSteps(
    identityPurgeStep(deps, {
      ...(run.onPlan ? { onPlan: run.onPlan } : {}),
      ...(run.onDeleted ? { onDeleted: run.onDeleted } : {}),
    }),
    initial,
    { clock: deps.clock, stepBudgetMs: PURGE_STEP_MS },
  );
  return identityPurgeReport(deps.clock, state);
}

function purgeLines(
  ctx: Context,
  results: readonly PurgeResult[],
  policy: PurgePolicy,
  mode: "preview" | "dry-run" | "run",
): string[] {
  const title = {
    preview: " — PREVIEW: nothing has been deleted yet; confirming deletes exactly these",
    "dry-run": " — dry run, nothing deleted",
    run: "",
  }[mode];
  const lines = [
    `Purge of unconfirmed users on ${ctx.target.description}${title}`,
    `  policy: older than ${formatDuration(policy.minAgeMs)}, at most ${policy.maxDeletionsPerRun} per target, ` +
      `refused above ${(policy.maxShareOfPool * 100).toFixed(2).replace(/\.?0+$/, "")}% of the pool`,
  ];
  for (const result of results) {
    if ("error" in result) {
      lines.push(`  ${result.target}: FAILED — ${result.error.message}`);
      continue;
    }
    const r = result.report;
    const planned = r.refused !== undefined ? 0 : Math.max(0, r.eligible - r.deferred);
    const skipped = countsText(r.skippedByReason);
    lines.push(
      `  ${r.target}: ${mode === "run" ? `deleted ${r.deleted}` : `would delete ${planned}`} of ${r.eligible} eligible ` +
        `(${r.candidates} candidates, cutoff ${r.cutoff})`,
      result.users === undefined
        ? `    who: rows of the accounts table, at most ${mode === "run" ? r.deleted : planned}, unconfirmed and sent before the cutoff, oldest first`
        : `    who${mode === "run" ? " (deleted)" : ""}: ${result.users.length ? result.users.join(", ") : "nobody"}` +
            (result.more ? ` and ${result.more} more` : ""),
      `    deferred to a later run: ${r.deferred}; skipped: ${skipped || "none"}; failed: ${r.failed}` +
        (r.failed > 0 ? ` (${countsText(r.failureCodes)})` : ""),
      `    stopped by: ${r.stoppedBy}${r.refused ? ` — REFUSED: ${r.refused}` : ""}`,
    );
  }
  return lines;
}
