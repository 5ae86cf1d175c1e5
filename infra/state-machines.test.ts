/**
 * The state machines of stepped jobs, as the program declares them, with the catalogue made to flag a
 * scheduled job (the snapshot) as stepped: whatever the catalogue flags today, the wiring is proven. Each
 * machine exists with its generated (and valid) definition, the schedule starts it instead of invoking the
 * function, its failures alarm, and its role — evaluated by the IAM policy simulator — may invoke exactly
 * the job's function and list exactly its own executions.
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { STATE_MACHINE_FAILURE_METRICS } from "./components/alarms.js";
import { START_EXECUTION_TARGET } from "./components/schedules.js";
import { stateMachineDefinition, type SteppedJob } from "../jobs/state-machine.js";
import { aslErrors } from "../jobs/testing/asl.js";
import { STATE_MACHINE_LOG_DELIVERY_ACTIONS } from "./permissions.js";
import { iamNoWildcards } from "../policy/policies.js";
import { ACCOUNT_ID, type ProgramRun, runProgram } from "./testing/program.js";

const STEPPED = "snapshot-and-reconcile";

// Hoisted above the imports: it names the job itself.
vi.mock("../jobs/catalogue.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../jobs/catalogue.js")>();
  const JOBS = original.JOBS.map((job) =>
    job.name === "snapshot-and-reconcile" ? { ...job, stateMachine: true } : job,
  );
  return {
    ...original,
    JOBS,
    jobEntry: (name: string) => JOBS.find((job) => job.name === name),
    scheduledJobs: () => JOBS.filter((job) => job.start === "scheduled" && "scheduleKey" in job),
  };
});

type Json = Record<string, unknown>;
let run: ProgramRun;

beforeAll(async () => {
  run = await runProgram("prod");
}, 60_000);

const machineOf = () => run.named("aws:sfn/stateMachine:StateMachine", `${STEPPED}-state-machine`);
const functionArn = (name: string) => String(run.named("aws:lambda/function:Function", name).state.arn);

describe("a stepped job in the program", () => {
  it("has one Standard state machine running the definition generated from the catalogue, valid by asl-validator", () => {
    expect(run.ofType("aws:sfn/stateMachine:StateMachine").map((m) => m.name)).toEqual([
      `${STEPPED}-state-machine`,
    ]);
    const machine = machineOf();
    expect(machine.inputs.type).toBe("STANDARD");
    const definition = JSON.parse(String(machine.inputs.definition)) as unknown;
    const job = { name: STEPPED, timeoutSeconds: 900, stateMachine: true } as SteppedJob;
    expect(definition).toEqual(stateMachineDefinition(job, functionArn(STEPPED)));
    expect(aslErrors(definition)).toEqual([]);
  });

  it("logs errors, without execution data, to its own encrypted log group with a retention", () => {
    const group = run.named("aws:cloudwatch/logGroup:LogGroup", `${STEPPED}-state-machine-logs`);
    expect(group.inputs.retentionInDays).toBeGreaterThan(0);
    expect(String(group.inputs.name)).toMatch(/^\/aws\/vendedlogs\/states\//);
    const key = run.named("aws:kms/key:Key", "state-machines-logs-key");
    expect(group.inputs.kmsKeyId).toBe(key.state.arn);
    expect(machineOf().inputs.loggingConfiguration).toEqual({
      level: "ERROR",
      includeExecutionData: false,
      logDestination: `${String(group.state.arn)}:*`,
    });
    const statements = (JSON.parse(String(key.inputs.policy)) as { Statement: Json[] }).Statement;
    expect(statements.find((s) => s.Sid === "CloudWatchLogsEncryptsStateMachineLogs")).toMatchObject({
      Principal: { Service: `logs.${run.region}.amazonaws.com` },
    });
  });

  it("is started by its schedule (StartExecution, named by the scheduler's attempt, never retried); the function is not invoked by it", () => {
    const schedule = run.named("aws:scheduler/schedule:Schedule", `schedules-${STEPPED}`);
    const target = schedule.inputs.target as Json;
    expect(target.arn).toBe(START_EXECUTION_TARGET);
    expect(JSON.parse(String(target.input))).toEqual({
      StateMachineArn: machineOf().state.arn,
      Name: "<aws.scheduler.execution-id>",
      Input: "{}",
    });
    expect(target.retryPolicy).toMatchObject({ maximumRetryAttempts: 0 });
    const policy = JSON.parse(
      String(run.named("aws:iam/rolePolicy:RolePolicy", "schedules-invoke").inputs.policy),
    ) as { Statement: Json[] };
    const byId = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    expect(byId.StartScheduledStateMachines).toEqual({
      Sid: "StartScheduledStateMachines",
      Effect: "Allow",
      Action: ["states:StartExecution"],
      Resource: [machineOf().state.arn],
    });
    expect(byId.InvokeScheduledFunctions!.Resource).not.toContain(functionArn(STEPPED));
    // The other scheduled jobs are still invoked directly.
    expect(byId.InvokeScheduledFunctions!.Resource).toContain(functionArn("purge-unconfirmed-identities"));
  });

  it("alarms on a failed, timed-out or aborted execution, to the stack's alarm topic", () => {
    const topic = run.named("aws:sns/topic:Topic", "alarms-topic").state.arn;
    for (const metric of STATE_MACHINE_FAILURE_METRICS) {
      const alarm = run.named(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        `alarms-${STEPPED}-state-machine-${metric}`,
      );
      expect(alarm.inputs).toMatchObject({
        namespace: "AWS/States",
        metricName: metric,
        dimensions: { StateMachineArn: machineOf().state.arn },
        threshold: 1,
        alarmActions: [topic],
      });
    }
  });

  it("gives the machine a role only Step Functions of this account may assume, with exactly its policies", () => {
    const role = run.named("aws:iam/role:Role", `${STEPPED}-state-machine-role`);
    expect(JSON.parse(String(role.inputs.assumeRolePolicy))).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "states.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT_ID } },
        },
      ],
    });
    const fn = functionArn(STEPPED);
    expect(
      JSON.parse(
        String(run.named("aws:iam/rolePolicy:RolePolicy", `${STEPPED}-state-machine-policy`).inputs.policy),
      ),
    ).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "InvokeJobFunction",
          Effect: "Allow",
          Action: ["lambda:InvokeFunction"],
          Resource: [fn, `${fn}:*`],
        },
        {
          Sid: "LogDelivery",
          Effect: "Allow",
          Action: [...STATE_MACHINE_LOG_DELIVERY_ACTIONS],
          Resource: ["*"],
        },
      ],
    });
    expect(
      JSON.parse(
        String(run.named("aws:iam/rolePolicy:RolePolicy", `${STEPPED}-state-machine-guard`).inputs.policy),
      ),
    ).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ListOwnExecutions",
          Effect: "Allow",
          Action: ["states:ListExecutions"],
          Resource: [machineOf().state.arn],
        },
      ],
    });
  });

  it("passes the policy pack's IAM rule (the only `*` resource is the log delivery AWS requires)", async () => {
    const found: string[] = [];
    const validate = iamNoWildcards.validateResource as (
      args: { type: string; props: Json; urn: string },
      report: (message: string) => void,
    ) => void | Promise<void>;
    for (const declared of run.ofType("aws:iam/rolePolicy:RolePolicy")) {
      await validate({ type: declared.type, props: declared.inputs, urn: declared.name }, (message) =>
        found.push(`${declared.name}: ${message}`),
      );
    }
    expect(run.ofType("aws:iam/rolePolicy:RolePolicy").map((p) => p.name)).toContain(
      `${STEPPED}-state-machine-policy`,
    );
    expect(found).toEqual([]);
  });

  describe("its role, evaluated by the IAM policy simulator", () => {
    const decide = async (action: string, resource: string) => {
      const policies = ["policy", "guard"].map((suffix) => ({
        name: suffix,
        policy: JSON.parse(
          String(
            run.named("aws:iam/rolePolicy:RolePolicy", `${STEPPED}-state-machine-${suffix}`).inputs.policy,
          ),
        ) as Json,
      }));
      const simulation: Simulation = {
        request: {
          principal: String(run.named("aws:iam/role:Role", `${STEPPED}-state-machine-role`).state.arn),
          action,
          resource: { resource, accountId: ACCOUNT_ID },
          contextVariables: { "aws:SecureTransport": "true", "aws:PrincipalAccount": ACCOUNT_ID },
        },
        identityPolicies: policies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      };
      const result = await runSimulation(simulation, {});
      if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
      return result.overallResult;
    };

    it("may invoke its job's function (and its versions) and list its own executions", async () => {
      const fn = functionArn(STEPPED);
      expect(await decide("lambda:InvokeFunction", fn)).toBe("Allowed");
      expect(await decide("lambda:InvokeFunction", `${fn}:1`)).toBe("Allowed");
      expect(await decide("states:ListExecutions", String(machineOf().state.arn))).toBe("Allowed");
    });

    it("may not invoke another function, list another machine, start or stop executions", async () => {
      const machine = String(machineOf().state.arn);
      const other = machine.replace(/[^:]+$/, "another-machine");
      expect(await decide("lambda:InvokeFunction", functionArn("erase"))).not.toBe("Allowed");
      expect(await decide("lambda:InvokeFunction", functionArn("purge-unconfirmed-identities"))).not.toBe(
        "Allowed",
      );
      expect(await decide("states:ListExecutions", other)).not.toBe("Allowed");
      expect(await decide("states:StartExecution", machine)).not.toBe("Allowed");
      expect(
        await decide("states:StopExecution", `${machine.replace(":stateMachine:", ":execution:")}:x`),
      ).not.toBe("Allowed");
      expect(await decide("lambda:UpdateFunctionCode", functionArn(STEPPED))).not.toBe("Allowed");
    });
  });
});
