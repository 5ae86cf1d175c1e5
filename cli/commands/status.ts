/** `status`: what exists — the pool, the snapshots, the accounts table and the unfinished restores. */
import { type Command, InvalidArgumentError } from "commander";
import * as z from "zod/mini";
import "../../core/validation.js";
import { formatDuration, purgeCutoff } from "../../core/purge/index.js";
import { listUnfinishedRestores } from "../../core/use-cases/restore-users.js";
import {
  type CliRuntime,
  commonOptions,
  type Context,
  describeFailure,
  EXIT_FAILURE,
  EXIT_OK,
  formatAge,
  lifecycleCommand,
  type Outcome,
  SERVICE,
} from "../command.js";

const optionsSchema = z.strictObject({
  ...commonOptions,
  snapshots: z.number().check(z.int(), z.minimum(1)),
});

export function statusCommand(runtime: CliRuntime): Command {
  return lifecycleCommand(runtime, {
    name: "status",
    description:
      "Show what exists: the pool's estimated user count, the snapshots (ids, user counts, newest age), and " +
      "the accounts table (rows, rows eligible for purge).",
    examples: [
      `  $ ${SERVICE} status --local`,
      `  $ ${SERVICE} status --outputs prod.json --profile ops --json`,
    ],
    options: optionsSchema,
    configure: (command) =>
      command.option("--snapshots <n>", "show the newest n snapshots", parsePositiveInteger, 5),
    run: status,
  });
}

function parsePositiveInteger(value: string): number {
  const parsed = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError("must be a whole number of at least 1");
  }
  return parsed;
}

type Section<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

async function section<T>(ctx: Context, work: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: describeFailure(error, ctx.target).message };
  }
}

async function status(ctx: Context, options: z.infer<typeof optionsSchema>): Promise<Outcome> {
  const now = ctx.conn.clock.now();
  ctx.progress.start("reading status");
  const pool = await section(ctx, async () => ({
    userPoolId: ctx.conn.userPoolId(),
    estimatedUsers: await ctx.conn.directory().estimatedUserCount(),
  }));
  const snapshots = await section(ctx, async () => {
    const backups = ctx.conn.backups();
    const ids = await backups.listSnapshots();
    const newest = ids.slice(-options.snapshots).reverse();
    const shown = [];
    for (const id of newest) {
      const manifest = await backups.getSnapshotManifest(id);
      shown.push({
        snapshotId: id,
        users: manifest.userCount,
        groups: manifest.groups.length,
        completedAt: manifest.completedAt,
        userPoolId: manifest.userPoolId,
      });
      ctx.progress.add("snapshots read");
    }
    const latest = shown[0];
    return {
      count: ids.length,
      newest: shown,
      newestAgeMs: latest ? Math.max(0, now.getTime() - latest.completedAt.getTime()) : undefined,
    };
  });
  const accounts = await section(ctx, async () => {
    const policy = ctx.conn.purgePolicy();
    const store = await ctx.conn.accounts({ refreshCredentials: false });
    return {
      rows: await store.countAll(),
      eligibleForPurge: await store.countExpiredUnconfirmed(purgeCutoff(now, policy.minAgeMs)),
      minAge: formatDuration(policy.minAgeMs),
    };
  });
  const restores = await section(ctx, async () =>
    (await listUnfinishedRestores(ctx.conn.restores())).map((unfinished) => ({
      planId: unfinished.plan.planId,
      ...(unfinished.targetUserPoolId === undefined ? {} : { targetUserPoolId: unfinished.targetUserPoolId }),
      strategy: unfinished.plan.strategy,
      planned: unfinished.plan.users.length,
      progress: unfinished.progress,
    })),
  );
  ctx.progress.done();

  const lines = [`Status of ${ctx.target.description}`];
  lines.push(
    pool.ok
      ? `  pool ${pool.value.userPoolId}: about ${pool.value.estimatedUsers} users`
      : `  pool: unavailable — ${pool.error}`,
  );
  if (snapshots.ok) {
    const s = snapshots.value;
    lines.push(
      `  snapshots: ${s.count}${s.newestAgeMs !== undefined ? `, newest ${formatAge(s.newestAgeMs)} old` : " (none yet)"}`,
      ...s.newest.map(
        (snap) =>
          `    ${snap.snapshotId}  ${snap.users} users, ${snap.groups} groups, completed ${snap.completedAt.toISOString()}`,
      ),
    );
  } else {
    lines.push(`  snapshots: unavailable — ${snapshots.error}`);
  }
  lines.push(
    accounts.ok
      ? `  accounts table: ${accounts.value.rows} rows, ${accounts.value.eligibleForPurge} unconfirmed for more than ${accounts.value.minAge}`
      : `  accounts table: unavailable — ${accounts.error}`,
  );
  if (restores.ok) {
    lines.push(`  unfinished restores: ${restores.value.length === 0 ? "none" : restores.value.length}`);
    for (const r of restores.value) {
      lines.push(
        `    ${r.planId}  ${r.planned} users (${r.strategy}), chunks ${r.progress.chunksDone}/${r.progress.chunks}, ` +
          `finalized ${r.progress.usersFinalized}/${r.planned}; carry it on: restore --plan-id ${r.planId}`,
      );
    }
  } else {
    lines.push(`  unfinished restores: unavailable — ${restores.error}`);
  }
  const failed = !pool.ok || !snapshots.ok || !accounts.ok || !restores.ok;
  return {
    code: failed ? EXIT_FAILURE : EXIT_OK,
    data: { pool, snapshots, accounts, unfinishedRestores: restores },
    human: lines,
  };
}
