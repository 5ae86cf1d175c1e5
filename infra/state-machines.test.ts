/**
 * The state machines of the stepped jobs (the catalogue flags the snapshot and the identity purge), as the
 * program declares them with each stack's config: each machine exists with its generated (and valid)
 * definition, its schedule starts it instead of invoking the function, its failures alarm, and — evaluated
 * by the IAM policy simulator over every role the stack declares — its role alone may invoke the job's
 * function, and may do nothing else but list its own executions and deliver its logs.
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { beforeAll, describe, expect, it } from "vitest";
import { STATE_MACHINE_FAILURE_METRICS } from "./components/alarms.js";
import { START_EXECUTION_TARGET } from "./components/schedules.js";
import { JOBS, type JobEntry } from "../jobs/catalogue.js";
import { isSteppedJob, stateMachineDefinition } from "../jobs/state-machine.js";
import { aslErrors } from "../jobs/testing/asl.js";
import { STATE_MACHINE_LOG_DELIVERY_ACTIONS } from "./permissions.js";
import { iamNoWildcards } from "../policy/policies.js";
import { ACCOUNT_ID, type ProgramRun, runProgram, stackNames } from "./testing/program.js";

const STEPPED = (JOBS as readonly JobEntry[]).filter(isSteppedJob);

type Json = Record<string, unknown>;

it("flags the snapshot and the identity purge as stepped jobs", () => {
  expect(STEPPED.map((job) => job.name).sort()).toEqual([
    "purge-unconfirmed-identities",
    "snapshot-and-reconcile",
  ]);
});

describe.each(stackNames())("the stepped jobs' state machines, with Pulumi.%s.yaml", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(stack);
  }, 60_000);

  const machineOf = (job: string) => run.named("aws:sfn/stateMachine:StateMachine", `${job}-state-machine`);
  const functionArn = (name: string) => String(run.named("aws:lambda/function:Function", name).state.arn);

  it("deploys one Standard state machine per stepped job, and no other", () => {
    expect(
      run
        .ofType("aws:sfn/stateMachine:StateMachine")
        .map((m) => m.name)
        .sort(),
    ).toEqual(STEPPED.map((job) => `${job.name}-state-machine`).sort());
  });

  /**
   * Who may invoke `fn`: every role the stack declares, each with every inline policy attached to it,
   * evaluated by the simulator. Lambda takes no resource policy for these functions (only the trigger's).
   */
  const invokers = async (fn: string) => {
    const allowed: string[] = [];
    for (const role of run.ofType("aws:iam/role:Role")) {
      const policies = run
        .ofType("aws:iam/rolePolicy:RolePolicy")
        .filter((policy) => policy.inputs.role === role.id)
        .map((policy) => ({ name: policy.name, policy: JSON.parse(String(policy.inputs.policy)) as Json }));
      if (policies.length === 0) continue;
      const result = await runSimulation(
        {
          request: {
            principal: String(role.state.arn),
            action: "lambda:InvokeFunction",
            resource: { resource: fn, accountId: ACCOUNT_ID },
            contextVariables: { "aws:SecureTransport": "true", "aws:PrincipalAccount": ACCOUNT_ID },
          },
          identityPolicies: policies,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
      if (result.overallResult === "Allowed") allowed.push(role.name);
    }
    return allowed;
  };

  describe.each(STEPPED.map((job) => [job.name, job] as const))("%s", (name, job) => {
    it("runs the definition generated from the catalogue, valid by asl-validator", () => {
      const machine = machineOf(name);
      expect(machine.inputs.type).toBe("STANDARD");
      const definition = JSON.parse(String(machine.inputs.definition)) as unknown;
      expect(definition).toEqual(stateMachineDefinition(job, functionArn(name)));
      expect(aslErrors(definition)).toEqual([]);
    });

    it("logs errors, without execution data, to its own encrypted log group with a retention", () => {
      const group = run.named("aws:cloudwatch/logGroup:LogGroup", `${name}-state-machine-logs`);
      expect(group.inputs.retentionInDays).toBeGreaterThan(0);
      expect(String(group.inputs.name)).toMatch(/^\/aws\/vendedlogs\/states\//);
      const key = run.named("aws:kms/key:Key", "state-machines-logs-key");
      expect(group.inputs.kmsKeyId).toBe(key.state.arn);
      expect(machineOf(name).inputs.loggingConfiguration).toEqual({
        level: "ERROR",
        includeExecutionData: false,
        logDestination: `${String(group.state.arn)}:*`,
      });
      const statements = (JSON.parse(String(key.inputs.policy)) as { Statement: Json[] }).Statement;
      expect(statements.find((s) => s.Sid === "CloudWatchLogsEncryptsStateMachineLogs")).toMatchObject({
        Principal: { Service: `logs.${run.region}.amazonaws.com` },
      });
    });

    it("is started by its schedule (StartExecution, named by the scheduler's attempt, never retried), which may not invoke the function", async () => {
      const schedule = run.named("aws:scheduler/schedule:Schedule", `schedules-${name}`);
      const target = schedule.inputs.target as Json;
      expect(target.arn).toBe(START_EXECUTION_TARGET);
      expect(JSON.parse(String(target.input))).toEqual({
        StateMachineArn: machineOf(name).state.arn,
        Name: "<aws.scheduler.execution-id>",
        Input: "{}",
      });
      expect(target.retryPolicy).toMatchObject({ maximumRetryAttempts: 0 });
      expect(target.deadLetterConfig).toEqual({
        arn: run.named("aws:sqs/queue:Queue", "failed-runs-queue").state.arn,
      });
      const policy = JSON.parse(
        String(run.named("aws:iam/rolePolicy:RolePolicy", "schedules-invoke").inputs.policy),
      ) as { Statement: Json[] };
      const byId = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
      expect(byId.StartScheduledStateMachines!.Resource).toContain(machineOf(name).state.arn);
      expect(JSON.stringify(byId.InvokeScheduledFunctions ?? {})).not.toContain(functionArn(name));
    });

    it("alarms on a failed, timed-out or aborted execution (a refused second start included), to the stack's alarm topic", () => {
      const topic = run.named("aws:sns/topic:Topic", "alarms-topic").state.arn;
      for (const metric of STATE_MACHINE_FAILURE_METRICS) {
        const alarm = run.named(
          "aws:cloudwatch/metricAlarm:MetricAlarm",
          `alarms-${name}-state-machine-${metric}`,
        );
        expect(alarm.inputs).toMatchObject({
          namespace: "AWS/States",
          metricName: metric,
          dimensions: { StateMachineArn: machineOf(name).state.arn },
          threshold: 1,
          alarmActions: [topic],
        });
      }
    });

    it("gives the machine a role only Step Functions of this account may assume, with exactly its policies", () => {
      const role = run.named("aws:iam/role:Role", `${name}-state-machine-role`);
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
      const fn = functionArn(name);
      const policy = (suffix: string) =>
        JSON.parse(
          String(run.named("aws:iam/rolePolicy:RolePolicy", `${name}-state-machine-${suffix}`).inputs.policy),
        ) as unknown;
      expect(policy("policy")).toEqual({
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
      expect(policy("guard")).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ListOwnExecutions",
            Effect: "Allow",
            Action: ["states:ListExecutions"],
            Resource: [machineOf(name).state.arn],
          },
          {
            Sid: "ContinueOwnRuns",
            Effect: "Allow",
            Action: ["states:StartExecution"],
            Resource: [machineOf(name).state.arn],
          },
        ],
      });
    });

    it("lets the machine's role alone, of every role in the stack, invoke the job's function", async () => {
      expect(await invokers(functionArn(name))).toEqual([`${name}-state-machine-role`]);
    });

    describe("its role, evaluated by the IAM policy simulator", () => {
      const decide = async (action: string, resource: string) => {
        const policies = ["policy", "guard"].map((suffix) => ({
          name: suffix,
          policy: JSON.parse(
            String(
              run.named("aws:iam/rolePolicy:RolePolicy", `${name}-state-machine-${suffix}`).inputs.policy,
            ),
          ) as Json,
        }));
        const simulation: Simulation = {
          request: {
            principal: String(run.named("aws:iam/role:Role", `${name}-state-machine-role`).state.arn),
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

      it("may invoke its job's function (and its versions), list its own executions and start one to continue a run", async () => {
        const fn = functionArn(name);
        expect(await decide("lambda:InvokeFunction", fn)).toBe("Allowed");
        expect(await decide("lambda:InvokeFunction", `${fn}:1`)).toBe("Allowed");
        expect(await decide("states:ListExecutions", String(machineOf(name).state.arn))).toBe("Allowed");
        expect(await decide("states:StartExecution", String(machineOf(name).state.arn))).toBe("Allowed");
      });

      it("may not invoke another function, list or start another machine, stop or redrive executions", async () => {
        const machine = String(machineOf(name).state.arn);
        const others = STEPPED.filter((other) => other.name !== name);
        for (const other of others) {
          expect(await decide("lambda:InvokeFunction", functionArn(other.name))).not.toBe("Allowed");
          for (const action of ["states:ListExecutions", "states:StartExecution"]) {
            expect(await decide(action, String(machineOf(other.name).state.arn))).not.toBe("Allowed");
          }
        }
        expect(await decide("lambda:InvokeFunction", functionArn("erase"))).not.toBe("Allowed");
        expect(await decide("lambda:InvokeFunction", functionArn("restore"))).not.toBe("Allowed");
        const execution = `${machine.replace(":stateMachine:", ":execution:")}:x`;
        expect(await decide("states:StopExecution", execution)).not.toBe("Allowed");
        expect(await decide("states:RedriveExecution", execution)).not.toBe("Allowed");
        expect(await decide("lambda:UpdateFunctionCode", functionArn(name))).not.toBe("Allowed");
      });
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
    for (const job of STEPPED) {
      expect(run.ofType("aws:iam/rolePolicy:RolePolicy").map((p) => p.name)).toContain(
        `${job.name}-state-machine-policy`,
      );
    }
    expect(found).toEqual([]);
  });
});
