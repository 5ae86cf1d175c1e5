/**
 * Where a job's cloud runs stand: the executions of its state machine (ListExecutions), each described
 * (DescribeExecution: status, error, output) and read from its history (GetExecutionHistory: the steps
 * invoked, with retries, and the state the last one was given). What the CLI's `executions` command prints,
 * and where an operator finds the state to carry on a failed run from (`{"resumeFrom": <state>}`).
 *
 * The state is never printed (it may hold usernames): `where` says where the run stood in words and counts.
 */
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";

/** What the watcher needs of a Step Functions client. */
export type StepFunctionsCalls = Pick<SFNClient, "send">;

export interface ExecutionView {
  readonly name: string;
  readonly arn: string;
  readonly status: ExecutionStatus | string;
  readonly startDate?: string;
  readonly stopDate?: string;
  /** Step invocations scheduled (retries included), and those that answered. */
  readonly stepsInvoked: number;
  readonly stepsAnswered: number;
  /** Where the run stood at its last step (the phase, counts): never the state itself. */
  readonly where?: string;
  /** A failed, timed-out or aborted execution's error and cause. */
  readonly error?: string;
  readonly cause?: string;
  /** Times it was redriven. */
  readonly redriveCount?: number;
  /** A finished run's report (the execution's output), or the execution that continues it. */
  readonly report?: unknown;
  readonly continuedAs?: string;
}

export interface ExecutionDetail extends ExecutionView {
  /** The state the last step was given: what `{"resumeFrom": …}` carries on from (null: the first step). */
  readonly lastState: unknown;
}

export interface ListOptions {
  /** Newest first, at most this many (default 10). */
  readonly max?: number;
  readonly status?: ExecutionStatus;
}

/** The executions of the machine, newest first, each with where it stands. */
export async function listJobExecutions(
  client: StepFunctionsCalls,
  stateMachineArn: string,
  options: ListOptions = {},
): Promise<ExecutionView[]> {
  const max = options.max ?? 10;
  const listed: { executionArn: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListExecutionsCommand({
        stateMachineArn,
        maxResults: Math.min(max - listed.length, 100),
        ...(options.status ? { statusFilter: options.status } : {}),
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const execution of page.executions ?? []) {
      if (execution.executionArn) listed.push({ executionArn: execution.executionArn });
    }
    nextToken = page.nextToken;
  } while (nextToken && listed.length < max);
  const views: ExecutionView[] = [];
  for (const { executionArn } of listed.slice(0, max)) {
    const { lastState: _, ...view } = await describeJobExecution(client, executionArn);
    views.push(view);
  }
  return views;
}

/** One execution, with the state its last step was given. */
export async function describeJobExecution(
  client: StepFunctionsCalls,
  executionArn: string,
): Promise<ExecutionDetail> {
  const described = await client.send(new DescribeExecutionCommand({ executionArn }));
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        includeExecutionData: true,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const steps = events.filter(
    (event) => event.type === "TaskScheduled" && event.taskScheduledEventDetails?.resourceType === "lambda",
  );
  const answered = events.filter(
    (event) => event.type === "TaskSucceeded" && event.taskSucceededEventDetails?.resourceType === "lambda",
  );
  const last = steps.at(-1)?.taskScheduledEventDetails?.parameters;
  const lastState =
    last === undefined
      ? null
      : ((JSON.parse(last) as { Payload?: { state?: unknown } }).Payload?.state ?? null);
  const output =
    described.output === undefined ? undefined : (JSON.parse(described.output) as Record<string, unknown>);
  return {
    name: described.name ?? executionArn.split(":").pop() ?? executionArn,
    arn: executionArn,
    status: described.status ?? "UNKNOWN",
    ...(described.startDate ? { startDate: described.startDate.toISOString() } : {}),
    ...(described.stopDate ? { stopDate: described.stopDate.toISOString() } : {}),
    stepsInvoked: steps.length,
    stepsAnswered: answered.length,
    ...(lastState === null ? {} : { where: whereOf(lastState) }),
    ...(described.error ? { error: described.error } : {}),
    ...(described.cause ? { cause: described.cause } : {}),
    ...(described.redriveCount ? { redriveCount: described.redriveCount } : {}),
    ...(output && "report" in output && output.report !== null ? { report: output.report } : {}),
    ...(output && typeof output.continuedAs === "string" ? { continuedAs: output.continuedAs } : {}),
    lastState,
  };
}

/** Where a stepped job's state stands, in words and counts (no usernames, no tokens). */
export function whereOf(state: unknown): string {
  if (typeof state !== "object" || state === null) return "starting";
  const s = state as Record<string, unknown>;
  if (s.job === "snapshot-and-reconcile") {
    const snapshot = (s.snapshot ?? {}) as {
      phase?: string;
      partitions?: { done?: boolean; parts?: unknown[] }[];
    };
    const partitions = snapshot.partitions ?? [];
    const done = partitions.filter((p) => p.done).length;
    const parts = partitions.reduce((n, p) => n + (p.parts?.length ?? 0), 0);
    if (s.phase === "snapshot") {
      return `snapshot: ${snapshot.phase ?? "?"} (${done}/${partitions.length} partitions, ${parts} parts written)`;
    }
    return String(s.phase);
  }
  if (s.version === 1 && typeof s.next === "number") {
    // The identity purge (core/use-cases/purge-unconfirmed-identities.ts).
    const plan = s.plan as { toDelete?: unknown[] } | undefined;
    if (plan) return `purge: deleting (${s.next}/${plan.toDelete?.length ?? 0} done)`;
    const listing = s.listing as { pages?: number } | undefined;
    return `purge: listing (${listing?.pages ?? 0} pages read)`;
  }
  return "a state of another job";
}
