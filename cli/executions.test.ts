import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { describeJobExecution, listJobExecutions, whereOf } from "./executions.js";

const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:snapshot-and-reconcile";
const execution = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:execution:snapshot-and-reconcile:${name}`;
const sfn = mockClient(SFNClient);

/** The state a snapshot step was given: 3 of 16 partitions done, 5 parts, a username in a cursor. */
const MID_STATE = {
  job: "snapshot-and-reconcile",
  phase: "snapshot",
  snapshot: {
    job: "snapshot",
    snapshotId: "2026-06-10T02-00-00-000Z",
    userPoolId: "eu-west-1_AbC",
    phase: "users",
    partitions: Array.from({ length: 16 }, (_, i) => ({
      prefix: i.toString(16),
      done: i < 3,
      pageToken: i === 3 ? "token-of-alice@example.com" : undefined,
      parts: i < 3 ? [{ name: `p-${i}/part-00001.jsonl` }, { name: "x" }].slice(0, i === 0 ? 1 : 2) : [],
    })),
  },
};

const scheduled = (id: number, state: unknown) => ({
  id,
  type: "TaskScheduled" as const,
  timestamp: new Date(),
  taskScheduledEventDetails: {
    resourceType: "lambda",
    resource: "invoke",
    region: "eu-west-1",
    parameters: JSON.stringify({ FunctionName: "arn", Payload: { execution: "x", input: {}, state } }),
  },
});
const succeeded = (id: number) => ({
  id,
  type: "TaskSucceeded" as const,
  timestamp: new Date(),
  taskSucceededEventDetails: { resourceType: "lambda", resource: "invoke", output: "{}" },
});

beforeEach(() => sfn.reset());

describe("a job's executions, as the CLI shows them", () => {
  it("lists the machine's executions newest first, each with its steps, where it stood and its outcome", async () => {
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: execution("failed-1"),
          stateMachineArn: MACHINE,
          name: "failed-1",
          status: "FAILED",
          startDate: new Date(),
        },
        {
          executionArn: execution("done-1"),
          stateMachineArn: MACHINE,
          name: "done-1",
          status: "SUCCEEDED",
          startDate: new Date(),
        },
      ],
    });
    sfn.on(DescribeExecutionCommand, { executionArn: execution("failed-1") }).resolves({
      executionArn: execution("failed-1"),
      name: "failed-1",
      status: "FAILED",
      startDate: new Date("2026-06-10T02:00:00Z"),
      stopDate: new Date("2026-06-10T02:31:00Z"),
      error: "LifecycleError",
      cause: "Amazon S3 could not be reached",
      stateMachineArn: MACHINE,
    });
    sfn.on(DescribeExecutionCommand, { executionArn: execution("done-1") }).resolves({
      executionArn: execution("done-1"),
      name: "done-1",
      status: "SUCCEEDED",
      startDate: new Date("2026-06-09T02:00:00Z"),
      stateMachineArn: MACHINE,
      output: JSON.stringify({
        state: {},
        done: true,
        waitSeconds: 0,
        report: { snapshot: { ok: true, users: 3 } },
        steps: 1,
      }),
    });
    // The failed one's history on two pages: three steps scheduled, two answered.
    sfn
      .on(GetExecutionHistoryCommand, { executionArn: execution("failed-1") })
      .resolvesOnce({
        events: [scheduled(1, null), succeeded(2), scheduled(3, { job: "snapshot-and-reconcile" })],
        nextToken: "t",
      })
      .resolvesOnce({ events: [succeeded(4), scheduled(5, MID_STATE)] });
    sfn
      .on(GetExecutionHistoryCommand, { executionArn: execution("done-1") })
      .resolves({ events: [scheduled(1, null), succeeded(2)] });

    const views = await listJobExecutions(sfn as unknown as SFNClient, MACHINE, { max: 5 });
    expect(views).toEqual([
      {
        name: "failed-1",
        arn: execution("failed-1"),
        status: "FAILED",
        startDate: "2026-06-10T02:00:00.000Z",
        stopDate: "2026-06-10T02:31:00.000Z",
        stepsInvoked: 3,
        stepsAnswered: 2,
        where: "snapshot: users (3/16 partitions, 5 parts written)",
        error: "LifecycleError",
        cause: "Amazon S3 could not be reached",
      },
      {
        name: "done-1",
        arn: execution("done-1"),
        status: "SUCCEEDED",
        startDate: "2026-06-09T02:00:00.000Z",
        stepsInvoked: 1,
        stepsAnswered: 1,
        report: { snapshot: { ok: true, users: 3 } },
      },
    ]);
    // Never the state: no cursor, no username.
    expect(JSON.stringify(views)).not.toContain("alice");
    expect(sfn.commandCalls(ListExecutionsCommand)[0]!.args[0].input).toMatchObject({
      stateMachineArn: MACHINE,
      maxResults: 5,
    });
  });

  it("gives the state the last step was given: what a new execution resumes from", async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: execution("f"),
      name: "f",
      status: "FAILED",
      stateMachineArn: MACHINE,
      startDate: new Date(),
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [scheduled(1, null), succeeded(2), scheduled(3, MID_STATE)] });
    const detail = await describeJobExecution(sfn as unknown as SFNClient, execution("f"));
    expect(detail.lastState).toEqual(MID_STATE);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]!.args[0].input).toMatchObject({
      includeExecutionData: true,
    });
  });

  it("names where a purge stood, and a run that continued as a new execution", async () => {
    expect(whereOf({ version: 1, next: 0, listing: { pages: 12 } })).toBe("purge: listing (12 pages read)");
    expect(whereOf({ version: 1, next: 40, plan: { toDelete: Array(100).fill("u") } })).toBe(
      "purge: deleting (40/100 done)",
    );
    expect(whereOf(null)).toBe("starting");
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: execution("long"),
      name: "long",
      status: "SUCCEEDED",
      stateMachineArn: MACHINE,
      startDate: new Date(),
      output: JSON.stringify({ continuedAs: execution("c0ffee") }),
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    expect(await describeJobExecution(sfn as unknown as SFNClient, execution("long"))).toMatchObject({
      continuedAs: execution("c0ffee"),
      stepsInvoked: 0,
    });
  });
});
