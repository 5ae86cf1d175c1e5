/**
 * `executions`: a stepped job's runs in AWS, read through Step Functions' API (mocked here), and the state
 * of a failed run written for a new execution to carry it on.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { run } from "../main.js";
import { capturedIo } from "../testing/captured-io.js";

const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:snapshot-and-reconcile";
const EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:snapshot-and-reconcile:nightly-9";
const STATE = { job: "snapshot-and-reconcile", phase: "reconcile", snapshot: { partitions: [] } };
const sfn = mockClient(SFNClient);

/** A stack whose outputs name the machines, as `pulumi stack output --json` does. */
function withOutputs() {
  const captured = capturedIo();
  writeFileSync(
    join(captured.io.cwd, "prod.json"),
    JSON.stringify({
      region: "eu-west-1",
      userPoolId: "eu-west-1_AbC123",
      stateMachineArns: { "snapshot-and-reconcile": MACHINE },
    }),
  );
  return captured;
}

beforeEach(() => {
  sfn.reset();
  sfn.on(ListExecutionsCommand).resolves({
    executions: [
      {
        executionArn: EXECUTION,
        stateMachineArn: MACHINE,
        name: "nightly-9",
        status: "FAILED",
        startDate: new Date(),
      },
    ],
  });
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: EXECUTION,
    stateMachineArn: MACHINE,
    name: "nightly-9",
    status: "FAILED",
    startDate: new Date("2026-06-10T02:00:00Z"),
    error: "LifecycleError",
    cause: "DynamoDB could not be reached",
  });
  sfn.on(GetExecutionHistoryCommand).resolves({
    events: [
      {
        id: 1,
        type: "TaskScheduled",
        timestamp: new Date(),
        taskScheduledEventDetails: {
          resourceType: "lambda",
          resource: "invoke",
          region: "eu-west-1",
          parameters: JSON.stringify({ Payload: { execution: "nightly-9", input: {}, state: STATE } }),
        },
      },
    ],
  });
});

describe("user-lifecycle executions", () => {
  it("lists the job's executions from the machine the outputs name, each with where it stands", async () => {
    const { io, stdout } = withOutputs();
    const code = await run(
      ["executions", "--job", "snapshot-and-reconcile", "--outputs", "prod.json", "--json"],
      io,
    );
    expect(code).toBe(0);
    const document = JSON.parse(stdout()) as { executions: unknown[]; stateMachineArn: string };
    expect(document.stateMachineArn).toBe(MACHINE);
    expect(document.executions).toEqual([
      expect.objectContaining({
        name: "nightly-9",
        status: "FAILED",
        stepsInvoked: 1,
        where: "reconcile",
        error: "LifecycleError",
      }),
    ]);
    expect(sfn.commandCalls(ListExecutionsCommand)[0]!.args[0].input).toMatchObject({
      stateMachineArn: MACHINE,
    });
  });

  it("writes a failed execution's last state as a new execution's input (mode 0600), and says how to start it", async () => {
    const { io, stdout } = withOutputs();
    const code = await run(
      [
        "executions",
        "--job",
        "snapshot-and-reconcile",
        "--outputs",
        "prod.json",
        "--execution",
        "nightly-9",
        "--state-file",
        "resume.json",
      ],
      io,
    );
    expect(code).toBe(0);
    const file = join(io.cwd, "resume.json");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ resumeFrom: STATE });
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(stdout()).toContain(
      `aws stepfunctions start-execution --state-machine-arn ${MACHINE} --input file://resume.json`,
    );
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: EXECUTION });
  });

  it.each([
    [["--job", "restore", "--state-machine-arn", MACHINE], "--job"],
    [["--job", "snapshot-and-reconcile"], "--state-machine-arn"],
    [
      ["--job", "snapshot-and-reconcile", "--state-machine-arn", MACHINE, "--state-file", "x.json"],
      "--execution",
    ],
    [["--job", "snapshot-and-reconcile", "--state-machine-arn", "not-an-arn"], "--state-machine-arn"],
  ])("refuses %j as a usage error naming %s, calling nothing", async (args, named) => {
    const { io, stderr } = capturedIo();
    const code = await run(["executions", ...args], io);
    expect(code).toBe(2);
    expect(stderr()).toContain(named);
    expect(sfn.calls()).toEqual([]);
  });
});
