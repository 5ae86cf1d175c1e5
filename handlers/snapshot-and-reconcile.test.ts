/**
 * The snapshot-and-reconcile function as its state machine drives it: one step per invocation, the state
 * carried between invocations by the execution, the snapshot's steps first and reconcile as a last step;
 * a step that fails, run again with the same event (Step Functions' retry, a redrive), loses and doubles
 * nothing; the run's metrics are counted once, at its end, never per step.
 */
import { describe, expect, it } from "vitest";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../adapters/in-memory/user-directory.js";
import { forEachSnapshotRecord } from "../core/backup/snapshot.js";
import { LifecycleError } from "../core/errors.js";
import type { UserDirectory } from "../core/ports/user-directory.js";
import { DEFAULT_STEP_MARGIN_MS } from "../core/steps/step.js";
import { rejectionOf } from "../core/testing/errors.js";
import { aUser } from "../core/testing/builders.js";
import { RunFailedError } from "../runtime/invocation.js";
import {
  type SnapshotAndReconcileReport,
  snapshotAndReconcileHandler,
  type SnapshotAndReconcileState,
} from "./snapshot-and-reconcile.js";
import type { StepAnswer } from "../runtime/stepped.js";
import { RecordingObservability } from "../runtime/testing/recording-observability.js";

const POOL = "eu-west-1_AbC123";
type Answer = StepAnswer<SnapshotAndReconcileState> & { report?: SnapshotAndReconcileReport | null };

/** A pool of `count` users (in the sixteen partitions) whose ListUsers calls take 30 s each (virtual): a snapshot longer than a step. */
function world(count: number) {
  const clock = new ManualClock("2026-06-10T02:00:00.000Z");
  const directory = new InMemoryUserDirectory({ clock });
  directory.seed(
    ...Array.from({ length: count }, (_, i) =>
      aUser({
        // Spread over the sixteen `sub` partitions.
        sub: `${(i % 16).toString(16)}${String(i).padStart(7, "0")}-0000-4000-8000-000000000000`,
        groups: i % 3 === 0 ? ["admins"] : [],
      }),
    ),
  );
  const slow: UserDirectory = Object.create(directory) as UserDirectory;
  slow.listUsers = async (query) => {
    clock.advance(30_000);
    return directory.listUsers(query);
  };
  const backups = new InMemoryBackupStore();
  const profiles = new InMemoryProfileStore();
  const observability = new RecordingObservability();
  const deps = {
    directory: slow,
    profiles,
    backups,
    erasures: new InMemoryErasureLedger(),
    clock,
    observability,
    userPoolId: POOL,
  };
  return { clock, directory, backups, profiles, observability, deps };
}

/** A Lambda context with `ms` left, counted on the clock. */
function contextWith(clock: ManualClock, ms: number) {
  const end = clock.now().getTime() + ms;
  return { awsRequestId: "req-1", getRemainingTimeInMillis: () => end - clock.now().getTime() };
}

/** The state machine's loop: Step until done, each invocation with `ms`. */
async function drive(
  handler: ReturnType<typeof snapshotAndReconcileHandler>,
  clock: ManualClock,
  ms: number,
  execution = "nightly-1",
  first: unknown = null,
) {
  const answers: Answer[] = [];
  let state: unknown = first;
  for (let i = 0; i < 200; i++) {
    const answer = (await handler(
      { execution, input: {}, state },
      contextWith(clock, ms),
    )) as unknown as Answer;
    answers.push(answer);
    if (answer.done) return answers;
    state = answer.state;
  }
  throw new Error("the run did not finish in 200 steps");
}

describe("snapshot-and-reconcile under its state machine", () => {
  it("takes one step per invocation, carries on from the state, reconciles on the snapshot's pages, counts the run once", async () => {
    const w = world(200);
    const handler = snapshotAndReconcileHandler(w.deps);
    // 3 minutes per invocation, 1 of them the margin: a handful of 30 s ListUsers calls per step.
    const answers = await drive(handler, w.clock, 3 * 60_000);
    expect(answers.length).toBeGreaterThan(3);
    const last = answers.at(-1)!;
    expect(last.state.phase).toBe("done");
    // No trailing reconcile step: the step that finishes the snapshot ends the run.
    expect(answers.at(-2)!.state.phase).toBe("snapshot");
    const [snapshotId] = await w.backups.listSnapshots();
    const manifest = await w.backups.getSnapshotManifest(snapshotId!);
    expect(manifest.userCount).toBe(200);
    expect(last.report).toMatchObject({
      snapshot: { ok: true, snapshotId, users: 200, skipped: 0 },
      reconcile: { checked: 200, profilesCreated: 200, backupsWritten: 200, failed: 0 },
    });
    // Counted once per run, at its end, whatever the number of steps.
    expect(w.observability.counters.get("SnapshotUsers")).toBe(200);
    expect(w.observability.counters.get("ReconcileProfilesCreated")).toBe(200);
    expect(w.observability.counters.get("SnapshotAndReconcileSucceeded")).toBe(1);
    expect(w.observability.published).toBe(answers.length);
    // Never the state in the logs (it holds cursors, and may hold usernames).
    expect(w.observability.text()).not.toContain("pageToken");
  });

  it("stops each step a margin before the invocation's end", async () => {
    const w = world(120);
    const handler = snapshotAndReconcileHandler(w.deps);
    const budget = DEFAULT_STEP_MARGIN_MS + 90_000;
    let state: unknown = null;
    for (let i = 0; i < 6; i++) {
      const started = w.clock.now().getTime();
      const answer = (await handler(
        { execution: "margin", input: {}, state },
        contextWith(w.clock, budget),
      )) as unknown as Answer;
      // The last unit of work begins before the margin and takes 30 s: never past the deadline.
      expect(w.clock.now().getTime() - started).toBeLessThanOrEqual(budget - DEFAULT_STEP_MARGIN_MS + 30_000);
      if (answer.done) break;
      state = answer.state;
    }
  });

  it("fails a step S3 refuses; the same event again (a retry, a redrive) carries on: every user once", async () => {
    const w = world(150);
    const handler = snapshotAndReconcileHandler(w.deps);
    const put = w.backups.putSnapshotFile.bind(w.backups);
    let writes = 0;
    // The sixth file: a user partition's part or index, with files written before it.
    w.backups.putSnapshotFile = async (...args: Parameters<typeof put>) => {
      writes += 1;
      if (writes === 6) throw new LifecycleError("SERVICE.UNREACHABLE", "S3 is unreachable");
      return put(...args);
    };
    let state: unknown = null;
    let failures = 0;
    let answer: Answer | undefined;
    for (let i = 0; i < 200 && !answer?.done; i++) {
      const event = { execution: "interrupted", input: {}, state };
      try {
        answer = (await handler(event, contextWith(w.clock, 3 * 60_000))) as unknown as Answer;
        state = answer.state;
      } catch (error) {
        expect(error).toMatchObject({ code: "SERVICE.UNREACHABLE" });
        failures += 1;
      }
    }
    expect(failures).toBe(1);
    expect(answer?.done).toBe(true);
    const [snapshotId] = await w.backups.listSnapshots();
    const manifest = await w.backups.getSnapshotManifest(snapshotId!);
    expect(manifest.userCount).toBe(150);
    const usernames: string[] = [];
    for (const part of manifest.parts) {
      const text = await w.backups.getSnapshotPart(snapshotId!, part.name);
      forEachSnapshotRecord(text, part.name, (record) => usernames.push(record.user.username));
    }
    expect(new Set(usernames).size).toBe(150);
    expect(usernames).toHaveLength(150);
    expect(w.observability.counters.get("SnapshotUsers")).toBe(150);
  });

  it("refuses a state of another pool or another job with a typed error, touching nothing", async () => {
    const w = world(3);
    const handler = snapshotAndReconcileHandler(w.deps);
    const first = (await handler(
      { execution: "a", input: {}, state: null },
      contextWith(w.clock, 60_000 + 31_000),
    )) as unknown as Answer;
    const otherPool = {
      ...first.state,
      snapshot: { ...first.state.snapshot, userPoolId: "eu-west-1_Other" },
    };
    const before = await w.backups.listSnapshotIds();
    for (const state of [
      otherPool,
      { run: "x", next: 0, total: 3, dryRun: false },
      { ...first.state, extra: 1 },
    ]) {
      const error = await rejectionOf(
        handler({ execution: "a", input: {}, state }, contextWith(w.clock, 900_000)),
      );
      expect(error).toMatchObject({ name: "ValidationError", code: "STEP.STATE_INVALID" });
    }
    expect(await w.backups.listSnapshotIds()).toEqual(before);
    expect(await w.backups.listSnapshots()).toEqual([]);
  });

  it("fails the last step when reconcile counted failures, so the execution fails and alarms", async () => {
    const w = world(2);
    w.profiles.createIfAbsent = async () => {
      throw new LifecycleError("SERVICE.UNREACHABLE", "DynamoDB is unreachable");
    };
    const handler = snapshotAndReconcileHandler(w.deps);
    let state: unknown = null;
    let error: unknown;
    for (let i = 0; i < 50 && error === undefined; i++) {
      try {
        state = (
          (await handler(
            { execution: "r", input: {}, state },
            contextWith(w.clock, 900_000),
          )) as unknown as Answer
        ).state;
      } catch (thrown) {
        error = thrown;
      }
    }
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).report).toMatchObject({
      snapshot: { ok: true, users: 2 },
      reconcile: { failed: 2 },
    });
    expect(w.observability.counters.get("SnapshotAndReconcileFailed")).toBe(1);
  });
});
