/**
 * `executions`: where a stepped job's cloud runs stand — the executions of its Step Functions state machine,
 * newest first, each with its status, the steps it invoked, where its last step stood, its error or report
 * (cli/executions.ts). `--execution <name> --state-file <file>` writes the state the execution's last step
 * was given as `{"resumeFrom": <state>}`, ready for `aws stepfunctions start-execution --input file://<file>`
 * (mode 0600: it may hold usernames). The machine's ARN comes from `--state-machine-arn`, or from the
 * `stateMachineArns` key of the `--outputs` file. The local stack runs its machines inside `npm start`: not
 * reachable from here.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SFNClient } from "@aws-sdk/client-sfn";
import { type Command, InvalidArgumentError } from "commander";
import * as z from "zod/mini";
import "../../core/validation.js";
import { JOBS, type JobEntry } from "../../jobs/catalogue.js";
import { isSteppedJob } from "../../jobs/state-machine.js";
import {
  type CliRuntime,
  commonOptions,
  type Context,
  EXIT_OK,
  lifecycleCommand,
  type Outcome,
  SERVICE,
  UsageError,
} from "../command.js";
import { describeJobExecution, type ExecutionView, listJobExecutions } from "../executions.js";
import { writeOwnerOnlyJson } from "../run-state.js";

const STEPPED = (JOBS as readonly JobEntry[]).filter(isSteppedJob).map((job) => job.name);

const optionsSchema = z.strictObject({
  ...commonOptions,
  job: z.enum(STEPPED as [string, ...string[]]),
  stateMachineArn: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/,
          "is not a state machine ARN",
        ),
      ),
  ),
  max: z.number().check(z.int(), z.minimum(1), z.maximum(100)),
  execution: z.optional(z.string().check(z.minLength(1))),
  stateFile: z.optional(z.string().check(z.minLength(1))),
});

export function executionsCommand(runtime: CliRuntime): Command {
  return lifecycleCommand(runtime, {
    name: "executions",
    description:
      "Show where a stepped job's runs stand in AWS: its state machine's executions, newest first.",
    examples: [
      `  $ ${SERVICE} executions --job snapshot-and-reconcile --outputs prod.json`,
      `  $ ${SERVICE} executions --job snapshot-and-reconcile --outputs prod.json --execution <name> --state-file resume.json`,
    ],
    options: optionsSchema,
    configure: (command) =>
      command
        .requiredOption("--job <name>", `the stepped job (${STEPPED.join(", ")})`)
        .option("--state-machine-arn <arn>", "its state machine (else the outputs' stateMachineArns)")
        .option("--max <n>", "at most this many executions", parseCount, 10)
        .option("--execution <name>", "one execution only")
        .option(
          "--state-file <file>",
          'with --execution: write {"resumeFrom": <its last state>} to this file',
        ),
    run: executions,
  });
}

function parseCount(value: string): number {
  const parsed = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > 100)
    throw new InvalidArgumentError("must be a whole number from 1 to 100");
  return parsed;
}

async function executions(ctx: Context, options: z.infer<typeof optionsSchema>): Promise<Outcome> {
  if (ctx.target.kind === "local") {
    throw new UsageError(
      "the local stack runs its state machines inside `npm start`: executions reads AWS only",
    );
  }
  if (options.stateFile !== undefined && options.execution === undefined) {
    throw new UsageError("--state-file needs --execution: the execution whose last state to write");
  }
  const machine = options.stateMachineArn ?? machineFromOutputs(ctx, options.outputs, options.job);
  const client = new SFNClient({ region: ctx.target.env["AWS_REGION"] });
  try {
    if (options.execution !== undefined) {
      const arn = `${machine.replace(":stateMachine:", ":execution:")}:${options.execution}`;
      const { lastState, ...view } = await describeJobExecution(client, arn);
      if (options.stateFile !== undefined) {
        const file = resolve(ctx.io.cwd, options.stateFile);
        await writeOwnerOnlyJson(file, { resumeFrom: lastState });
      }
      return {
        code: EXIT_OK,
        data: { job: options.job, stateMachineArn: machine, executions: [view] },
        human: [
          line(view),
          ...(options.stateFile === undefined
            ? []
            : [
                `Wrote its last state to ${options.stateFile}. To carry the run on: aws stepfunctions start-execution ` +
                  `--state-machine-arn ${machine} --input file://${options.stateFile}`,
              ]),
        ],
      };
    }
    const views = await listJobExecutions(client, machine, { max: options.max });
    return {
      code: EXIT_OK,
      data: { job: options.job, stateMachineArn: machine, executions: views },
      human: views.length === 0 ? [`No executions of ${options.job}.`] : views.map(line),
    };
  } finally {
    client.destroy();
  }
}

function line(view: ExecutionView): string {
  return [
    `${view.name}  ${view.status}`,
    view.startDate ? `started ${view.startDate}` : undefined,
    view.stopDate ? `ended ${view.stopDate}` : undefined,
    `${view.stepsAnswered}/${view.stepsInvoked} step(s) answered`,
    view.where,
    view.error ? `${view.error}: ${view.cause ?? ""}` : undefined,
    view.continuedAs ? `continued as ${view.continuedAs.split(":").pop()}` : undefined,
    view.report === undefined ? undefined : `report ${JSON.stringify(view.report)}`,
  ]
    .filter((part) => part !== undefined && part !== "")
    .join("  ·  ");
}

/** The job's machine from the `--outputs` file's `stateMachineArns` (what `pulumi stack output --json` shows). */
function machineFromOutputs(ctx: Context, outputs: string | undefined, job: string): string {
  const missing = `give --state-machine-arn, or an --outputs file whose stateMachineArns names ${job}'s machine`;
  if (outputs === undefined) throw new UsageError(missing);
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(resolve(ctx.io.cwd, outputs), "utf8")) as unknown;
  } catch {
    throw new UsageError(`${outputs} cannot be read as JSON: ${missing}`);
  }
  const arns = (document as { stateMachineArns?: Record<string, unknown> } | null)?.stateMachineArns;
  const arn = arns?.[job];
  if (typeof arn !== "string") throw new UsageError(`${outputs} has no stateMachineArns.${job}: ${missing}`);
  return arn;
}
