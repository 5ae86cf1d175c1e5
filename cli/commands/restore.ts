/**
 * `restore`: the restore job (jobs/restore) run in this process, step after step as the Lambda function runs
 * it across invocations, printing where it is between two steps. An interrupted restore is carried on by
 * `--plan-id`, or by the same command again.
 */
import { type Command, Option } from "commander";
import * as z from "zod/mini";
import "../../core/validation.js";
import { findUnfinishedRestore } from "../../core/use-cases/restore-users.js";
import { maskIdentifier } from "../../core/user/mask.js";
import {
  type RestoreInput,
  restoreInputSchema,
  type RestoreSummary,
  runRestore,
  toSource,
} from "../../jobs/restore/index.js";
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
  formatAge,
  lifecycleCommand,
  type Outcome,
  requireConsentPossible,
  SERVICE,
  UsageError,
} from "../command.js";
import { watchedBackups, watchedDirectory } from "../watch.js";

const optionsSchema = z.strictObject({
  ...commonOptions,
  source: z.string(),
  strategy: z.enum(["import-job", "admin-create"]),
  user: z.optional(z.array(z.string())),
  targetPool: z.optional(z.string()),
  planId: z.optional(z.string()),
  ...destructiveOptions,
});

type RestoreOptions = z.infer<typeof optionsSchema>;

export function restoreCommand(runtime: CliRuntime): Command {
  return lifecycleCommand(runtime, {
    name: "restore",
    description:
      "Restore users from backups into the stack's pool or another one. Shows the plan first; users already " +
      "in the target pool are left untouched. Import jobs send no email and no SMS.",
    examples: [
      `  $ ${SERVICE} restore --local --dry-run`,
      `  $ ${SERVICE} restore --local --source user-backups --user alice bob --strategy admin-create --yes`,
      `  $ ${SERVICE} restore --source 20260610T020000Z --target-pool eu-west-1_NewPool1 --outputs prod.json`,
      `  $ ${SERVICE} restore --outputs prod.json --plan-id restore-2026-06-10T12-00-00-000Z --dry-run  # where is it?`,
      `  $ ${SERVICE} restore --outputs prod.json --plan-id restore-2026-06-10T12-00-00-000Z --yes      # carry it on`,
    ],
    options: optionsSchema,
    configure: (command) =>
      command
        .option(
          "--source <source>",
          "latest (the newest snapshot plus newer per-user backups), user-backups, or a snapshot id (see status)",
          "latest",
        )
        .addOption(
          new Option(
            "--strategy <strategy>",
            "import-job (Cognito user import; no messages) or admin-create (AdminCreateUser, messages suppressed)",
          )
            .choices(["import-job", "admin-create"])
            .default("import-job"),
        )
        .option("--user <username...>", "restore only these usernames")
        .option(
          "--target-pool <id>",
          "restore into this pool instead of the stack's (e.g. eu-west-1_AbC123xyz)",
        )
        .addOption(
          new Option(
            "--plan-id <id>",
            "an existing restore (its id is printed when it starts): carry it on to the end, or with --dry-run " +
              "show where it is",
          ).conflicts(["source", "strategy", "user", "targetPool"]),
        )
        .option(
          "--dry-run",
          "work out and show the plan (with --plan-id: the restore's status) only; change nothing",
        )
        .option("--yes", "do not ask for confirmation (needed when no terminal is attached)"),
    run: restore,
  });
}

/**
 * How long each restore step the CLI runs may advance before it reports progress. The CLI runs the restore
 * in-process, step after step as the Lambda function would across invocations, and prints where it is
 * between two steps.
 */
const RESTORE_STEP_MS = 60_000;

const RESTORE_FLAGS: Readonly<Record<string, string>> = {
  planId: "--plan-id",
  source: "--source",
  strategy: "--strategy",
  usernames: "--user",
  targetUserPoolId: "--target-pool",
};

/** The job's request from the flags, checked by the job's own schema; a bad value names its flag. */
function requestOf(options: RestoreOptions): RestoreInput {
  const fields = {
    source:
      options.source === "latest" || options.source === "user-backups"
        ? options.source
        : { snapshotId: options.source },
    strategy: options.strategy,
    ...(options.user ? { usernames: options.user } : {}),
    ...(options.targetPool !== undefined ? { targetUserPoolId: options.targetPool } : {}),
  };
  const parsed = restoreInputSchema.safeParse(
    options.planId === undefined
      ? { action: "plan", ...fields }
      : { action: "status", planId: options.planId },
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = RESTORE_FLAGS[String(issue?.path[0])] ?? "restore";
    throw new UsageError(`${flag}: ${issue?.message ?? "is invalid"}`);
  }
  return parsed.data;
}

async function restore(ctx: Context, options: RestoreOptions): Promise<Outcome> {
  const dryRun = options.dryRun === true;
  const request = requestOf(options);
  if (!dryRun) requireConsentPossible(ctx, options.yes, "restore");
  const stored = ctx.conn.restores();
  /** The restore being run, once known: named on stderr the moment its plan is stored, and on any failure. */
  let planId = options.planId;
  const deps = {
    backups: watchedBackups(ctx.conn.backups(), ctx.progress),
    restores: stored,
    erasures: ctx.conn.erasures(),
    target: (userPoolId: string | undefined) => ({
      directory: watchedDirectory(ctx.conn.directory(userPoolId), ctx.progress),
      importer: ctx.conn.importer(userPoolId),
    }),
    clock: ctx.conn.clock,
    sleeper: ctx.conn.sleeper,
  };
  /** One step of the job: it advances until the step's deadline and says where it is. */
  const step = (input: RestoreInput): Promise<RestoreSummary> =>
    runRestore(deps, input, {
      deadline: new Date(ctx.conn.clock.now().getTime() + RESTORE_STEP_MS),
      onPlanStored: (id) => {
        planId = id;
        ctx.progress.done();
        ctx.note(`restore ${id}: plan stored (if interrupted, carry it on with --plan-id ${id})`);
      },
    });
  const poolOf = (summary: RestoreSummary) =>
    summary.targetUserPoolId ?? options.targetPool ?? ctx.conn.userPoolId();
  const eta = new RestoreEta(ctx.conn.clock);
  try {
    return await runRestoreSteps();
  } catch (error) {
    if (planId !== undefined) {
      ctx.progress.done();
      ctx.note(
        `restore ${planId} stopped (${describeFailure(error, ctx.target).code}): nothing done is lost; ` +
          `carry it on with --plan-id ${planId}`,
      );
    }
    throw error;
  }

  async function runRestoreSteps(): Promise<Outcome> {
    let summary: RestoreSummary;
    // The same request run again after an interruption carries the unfinished restore on: a new plan would take
    // the users it brought back as already there, and leave their groups and disabled flags undone.
    const unfinished =
      request.action === "plan" && !dryRun
        ? await findUnfinishedRestore(stored, {
            source: toSource(request.source),
            strategy: request.strategy,
            ...(request.usernames ? { usernames: request.usernames } : {}),
            ...(request.targetUserPoolId === undefined ? {} : { targetUserPoolId: request.targetUserPoolId }),
          })
        : undefined;
    if (unfinished) {
      planId = unfinished.stored.plan.planId;
      ctx.note(`restore ${planId} of the same request is unfinished: carrying it on (--plan-id ${planId})`);
    }
    if (planId === undefined && request.action === "plan") {
      ctx.progress.start("planning the restore");
      const plan = await step(request);
      ctx.progress.done();
      const pool = poolOf(plan);
      if (dryRun) {
        return {
          code: EXIT_OK,
          data: { dryRun, targetUserPoolId: pool, ...plan },
          human: restoreLines(plan, pool),
        };
      }
      if (!options.yes) {
        for (const line of restoreLines(plan, pool)) ctx.note(line);
        await confirm(ctx, options.yes, `Restore ${plan.planned} users into ${pool}?`);
      }
      ctx.progress.start(`restoring into ${pool}`);
      eta.begin();
      summary = await step({ ...request, action: "start" });
    } else {
      const id = planId ?? "";
      ctx.progress.start(`reading restore ${id}`);
      summary = await step({ action: "status", planId: id });
      ctx.progress.done();
      const pool = poolOf(summary);
      if (dryRun || summary.state === "finished") {
        return {
          code: dryRun || summary.complete ? EXIT_OK : EXIT_FAILURE,
          data: { dryRun, targetUserPoolId: pool, ...summary },
          human: restoreLines(summary, pool),
        };
      }
      if (!options.yes) {
        for (const line of restoreLines(summary, pool)) ctx.note(line);
        await confirm(ctx, options.yes, `Carry on restore ${summary.planId} into ${pool}?`);
      }
      ctx.progress.start(`restoring into ${pool}`);
      eta.begin(summary);
      summary = await step({ action: "resume", planId: summary.planId });
    }
    while (summary.state === "running") {
      ctx.progress.done();
      ctx.note(progressLine(summary, eta.left(summary)));
      ctx.progress.start(`restoring into ${poolOf(summary)}`);
      summary = await step({ action: "resume", planId: summary.planId });
    }
    ctx.progress.done();
    const pool = poolOf(summary);
    return {
      code: summary.complete ? EXIT_OK : EXIT_FAILURE,
      data: { dryRun, targetUserPoolId: pool, ...summary },
      human: restoreLines(summary, pool),
    };
  }
}

/** A restore's work as units: each planned user is brought back, then finalized (groups, flags). */
function restoreWork(summary: RestoreSummary): { done: number; total: number } {
  const p = summary.progress;
  if (!p) return { done: 0, total: 2 * summary.planned };
  const chunkShare = p.chunks === 0 ? 1 : p.chunksDone / p.chunks;
  return {
    done: Math.round(chunkShare * summary.planned) + p.usersFinalized,
    total: 2 * summary.planned,
  };
}

/** The time left, from the pace of this run so far (the clock of the connection). */
class RestoreEta {
  private first?: { at: number; done: number };

  constructor(private readonly clock: { now(): Date }) {}

  /** Where this run starts from: nothing done (a new restore), or what a resumed one had done. */
  begin(summary?: RestoreSummary): void {
    this.first = { at: this.clock.now().getTime(), done: summary ? restoreWork(summary).done : 0 };
  }

  /** Milliseconds left, or `undefined` until this run has made progress to measure. */
  left(summary: RestoreSummary): number | undefined {
    const { done, total } = restoreWork(summary);
    const now = this.clock.now().getTime();
    if (this.first === undefined) {
      this.first = { at: now, done };
      return undefined;
    }
    const rate = (done - this.first.done) / (now - this.first.at);
    if (!(rate > 0)) return undefined;
    return (total - done) / rate;
  }
}

function progressLine(summary: RestoreSummary, leftMs?: number): string {
  const p = summary.progress;
  const { done, total } = restoreWork(summary);
  return (
    `restore ${summary.planId}: ${summary.state}` +
    (p
      ? `; ${done}/${total} done (users brought back, then finalized)` +
        `; chunks ${p.chunksDone}/${p.chunks}, users finalized ${p.usersFinalized}/${summary.planned}` +
        `; ${leftMs === undefined ? "time left: measuring" : `about ${formatAge(Math.max(1000, leftMs))} left`}`
      : "") +
    (summary.state === "running" ? ` (resume: --plan-id ${summary.planId})` : "")
  );
}

function restoreLines(summary: RestoreSummary, pool: string): string[] {
  const masked = (names: readonly string[]) => names.map(maskIdentifier).join(", ");
  const source =
    summary.source.kind === "snapshot" || summary.source.snapshotId
      ? `${summary.source.kind} ${summary.source.snapshotId ?? ""}`.trim()
      : summary.source.kind;
  const lines = [
    `${summary.action === "plan" ? "Restore plan" : "Restore"} ${summary.planId} into ${pool} ` +
      `(source: ${source}, ${summary.source.userBackupsUsed} per-user backups used; strategy ${summary.strategy})`,
    `  users to restore: ${summary.planned}`,
    `  already in the pool (left untouched): ${summary.existing}`,
    `  cannot be restored: ${summary.skipped.length}`,
    ...summary.skipped.map(({ username, reason }) => `    ${maskIdentifier(username)}: ${reason}`),
  ];
  if (summary.notFound.length) lines.push(`  requested but in no backup: ${masked(summary.notFound)}`);
  if (summary.malformedBackups.length) {
    lines.push(`  unreadable backups: ${summary.malformedBackups.join(", ")}`);
  }
  if (summary.state === "running") {
    lines.push(`  ${progressLine(summary)}`);
  } else if (summary.state === "finished") {
    const codes = summary.failureCodes ? countsText(summary.failureCodes) : "";
    lines.push(
      `  restored: ${summary.restored ?? 0}; groups created: ${summary.groupsCreated ?? 0}; ` +
        `memberships added: ${summary.membershipsAdded ?? 0}; disabled again: ${summary.disabled ?? 0}`,
      `  failed: ${summary.failed ?? 0}${codes ? ` (${codes})` : ""}`,
    );
    if (summary.missing?.length) lines.push(`  missing after the restore: ${masked(summary.missing)}`);
    lines.push(summary.complete ? "  complete." : "  INCOMPLETE: see above.");
  } else {
    lines.push("  (plan only: nothing was changed)");
  }
  return lines;
}
