/**
 * The snapshot and the identity purge on the local stack, each run by its state machine (the generated
 * definition the Pulumi program deploys, executed by aws-local-stepfunctions), its steps invoking the real
 * function on the local Lambda endpoint. The snapshot's function gets a time limit of the step margin and a
 * fraction of a second, so a small pool takes several steps, as a large one does in AWS.
 *
 * - a run goes through to the end; its output is the run's report;
 * - a second start while one runs is refused (`Job.AlreadyRunning`) before any step;
 * - a run interrupted mid-way (S3 stopped between two steps: the next step fails, so does the execution) and
 *   carried on by a new execution from the failed one's last state completes, every user once in the
 *   snapshot, the manifest written once.
 */
import {
  AdminCreateUserCommand,
  type CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forEachSnapshotRecord } from "../core/backup/snapshot.js";
import { DEFAULT_STEP_MARGIN_MS } from "../core/steps/step.js";
import { Container } from "../runtime/composition-root.js";
import { ALREADY_RUNNING_ERROR } from "../jobs/state-machine.js";
import { cognitoClientFor } from "../local/demo.js";
import type { LocalFunction } from "../local/lambda-endpoint.js";
import { FUNCTION_NAMES, type LocalStack, startLocalStack } from "../local/stack.js";
import { confirm, signUp } from "./local-users.js";

const SNAPSHOT = FUNCTION_NAMES.snapshotAndReconcile;
const PURGE = FUNCTION_NAMES.purgeUnconfirmedIdentities;
const POOL_SIZE = 24;

let stack: LocalStack;
let cognito: CognitoIdentityProviderClient;
let container: Container;
/** Runs between two steps of the snapshot's function (after one answered): a test's fault or gate. */
let afterSnapshotStep: () => Promise<void> = async () => undefined;
/** Runs before each step of the snapshot's function. */
let beforeSnapshotStep: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  const wrapFunction = (name: string, fn: LocalFunction): LocalFunction =>
    name !== SNAPSHOT
      ? fn
      : async (event, context) => {
          await beforeSnapshotStep();
          const answer = await fn(event, context);
          await afterSnapshotStep();
          return answer;
        };
  stack = await startLocalStack({
    stateFile: false,
    stepRetryIntervalMs: 0,
    // 300 ms of work per step past the margin: the clean, groups and sixteen partitions take several.
    functionTimeoutsMs: { [SNAPSHOT]: DEFAULT_STEP_MARGIN_MS + 300 },
    wrapFunction,
  });
  cognito = cognitoClientFor(stack);
  container = new Container(stack.env);
  for (let i = 0; i < POOL_SIZE; i++) {
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: stack.userPoolId,
        Username: `member-${i}`,
        UserAttributes: [{ Name: "email", Value: `member-${i}@example.com` }],
        MessageAction: "SUPPRESS",
      }),
    );
  }
}, 90_000);

afterAll(async () => {
  cognito?.destroy();
  await container?.close();
  await stack?.stop();
}, 30_000);

/** Every username of a stored snapshot's parts, read as a restore reads them. */
async function usernamesIn(snapshotId: string): Promise<string[]> {
  const manifest = await container.backups.getSnapshotManifest(snapshotId);
  const usernames: string[] = [];
  for (const part of manifest.parts) {
    const text = await container.backups.getSnapshotPart(snapshotId, part.name);
    forEachSnapshotRecord(text, part.name, (record) => usernames.push(record.user.username));
  }
  return usernames;
}

describe("the snapshot through its state machine", () => {
  it("runs in several steps to a complete snapshot, then reconcile; the output is the run's report", async () => {
    const outcome = await stack.startExecution(SNAPSHOT, { name: "nightly-1" }).result;
    expect(outcome).toMatchObject({ status: "SUCCEEDED" });
    expect(outcome.steps).toBeGreaterThan(2);
    const { report } = outcome.output as {
      report: { snapshot: { ok: boolean; snapshotId: string; users: number } };
    };
    expect(report).toMatchObject({ snapshot: { ok: true, users: POOL_SIZE }, reconcile: { failed: 0 } });
    expect(await container.backups.listSnapshots()).toContain(report.snapshot.snapshotId);
    const usernames = await usernamesIn(report.snapshot.snapshotId);
    expect(new Set(usernames).size).toBe(POOL_SIZE);
    expect(usernames).toHaveLength(POOL_SIZE);
    // Every step went through the local Lambda endpoint with the step protocol's event.
    const steps = stack.lambda.received.filter((r) => r.functionName === SNAPSHOT);
    expect(steps[0]!.event).toEqual({ execution: "nightly-1", input: {}, state: null });
  }, 60_000);

  it("refuses a second start while one runs, before any step; the first finishes alone", async () => {
    let open!: () => void;
    const held = new Promise<void>((resolve) => (open = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    beforeSnapshotStep = async () => {
      entered();
      await held;
    };
    try {
      const first = stack.startExecution(SNAPSHOT, { name: "nightly-2" });
      await inside;
      const second = await stack.startExecution(SNAPSHOT, { name: "manual-1" }).result;
      expect(second).toMatchObject({ status: "FAILED", error: ALREADY_RUNNING_ERROR, steps: 0 });
      open();
      expect(await first.result).toMatchObject({ status: "SUCCEEDED" });
    } finally {
      beforeSnapshotStep = async () => undefined;
      open();
    }
    expect(
      stack.lambda.received.filter((r) => (r.event as { execution?: string }).execution === "manual-1"),
    ).toEqual([]);
  }, 60_000);

  it("fails when S3 stops between two steps; a new execution from the failed one's last state completes it, nothing lost or doubled", async () => {
    const before = new Set(await container.backups.listSnapshots());
    let stepsAnswered = 0;
    afterSnapshotStep = async () => {
      stepsAnswered += 1;
      if (stepsAnswered === 2) await stack.stopS3();
    };
    let failed;
    try {
      failed = await stack.startExecution(SNAPSHOT, { name: "interrupted" }).result;
    } finally {
      afterSnapshotStep = async () => undefined;
      await stack.startS3();
    }
    // The step's own error (typed, not one of Lambda's): Step Functions does not retry it; the run fails.
    expect(failed).toMatchObject({ status: "FAILED", error: "LifecycleError" });
    expect(failed.cause).toContain("Amazon S3 could not be reached");
    expect(failed.steps).toBe(3);
    const described = stack.stateMachines.describeExecution(SNAPSHOT, "interrupted");
    expect(described).toMatchObject({ status: "FAILED", steps: 3 });
    const lastState = described.lastState as { phase: string; snapshot: { snapshotId: string } };
    expect(lastState.phase).toBe("snapshot");
    // Nothing complete yet: the interrupted snapshot has no manifest.
    expect((await container.backups.listSnapshots()).filter((id) => !before.has(id))).toEqual([]);

    const resumed = await stack.startExecution(SNAPSHOT, {
      name: "interrupted-resumed",
      input: { resumeFrom: lastState },
    }).result;
    expect(resumed).toMatchObject({ status: "SUCCEEDED" });
    const { report } = resumed.output as { report: { snapshot: { snapshotId: string; users: number } } };
    expect(report.snapshot).toMatchObject({
      ok: true,
      snapshotId: lastState.snapshot.snapshotId,
      users: POOL_SIZE,
    });
    const usernames = await usernamesIn(lastState.snapshot.snapshotId);
    expect(usernames).toHaveLength(POOL_SIZE);
    expect(new Set(usernames).size).toBe(POOL_SIZE);
    expect((await container.backups.listSnapshots()).filter((id) => !before.has(id))).toEqual([
      lastState.snapshot.snapshotId,
    ]);
  }, 90_000);
});

describe("the identity purge through its state machine", () => {
  it("deletes the expired unconfirmed user, never a confirmed one; the output is the run's report", async () => {
    await signUp(cognito, stack, "never-confirms");
    await signUp(cognito, stack, "confirms");
    await confirm(cognito, stack, "confirms");
    // The local policy's minimum age is 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const outcome = await stack.startExecution(PURGE, { name: "purge-1" }).result;
    expect(outcome).toMatchObject({ status: "SUCCEEDED", output: { done: true, report: { deleted: 1 } } });
    const left = (await container.directory().listUsers({})).items.map((user) => user.username);
    expect(left).toContain("confirms");
    expect(left).not.toContain("never-confirms");
    const again = await stack.startExecution(PURGE, { name: "purge-2", input: { dryRun: true } }).result;
    expect(again).toMatchObject({ status: "SUCCEEDED", output: { report: { deleted: 0 } } });
  }, 60_000);
});
