/**
 * The catalogue of the system's jobs: one entry per job, written once. The build bundles each entry's
 * handler, the Pulumi program deploys it with these limits and schedules it, and the local stack serves it
 * with the same time limit — none of them keeps a list of its own.
 *
 * Plain data with no imports, so the Pulumi program can read it without loading any job's code.
 */

/** How a job is started. */
export type JobStart =
  /** By Cognito, inside a user's request (Post Confirmation): Cognito waits at most five seconds. */
  | "trigger"
  /** By EventBridge Scheduler: one run at a time, never retried; a failed run goes to the failed-runs queue. */
  | "scheduled"
  /** By an operator (the CLI or a direct invocation). */
  | "manual"
  /** By the deployment itself (`pulumi up` invokes it once per revision). */
  | "deployment";

export interface JobEntry<N extends string = string> {
  /** The job's name: its handler file, its bundle folder and its Lambda function's name suffix. */
  readonly name: N;
  readonly description: string;
  readonly start: JobStart;
  /** The function's time limit in seconds (Lambda allows 900; a Cognito trigger gets five from Cognito). */
  readonly timeoutSeconds: number;
  /** The function's memory in MB. */
  readonly memoryMb: number;
  /** For scheduled jobs: the key under the stack config's `schedules` that holds its expression. */
  readonly scheduleKey?: "purgeIdentities" | "purgeAccounts" | "snapshot";
  /**
   * Runs next to the accounts database, inside its VPC (only when the stack has one); such a job has no
   * route to Cognito or S3 and is not served by the local Lambda endpoint.
   */
  readonly accountsDatabase?: boolean;
  /**
   * Runs in durable steps (core/steps/step.ts) as a Step Functions state machine generated from this entry
   * (jobs/state-machine.ts): its function takes one step per invocation (runtime/stepped.ts), and
   * EventBridge Scheduler starts the machine rather than invoking the function.
   */
  readonly stateMachine?: true;
}

export const JOBS = [
  {
    name: "post-confirmation",
    description: "Cognito Post Confirmation: writes the profile and the backup of a confirmed user",
    start: "trigger",
    timeoutSeconds: 5,
    memoryMb: 512,
  },
  {
    name: "purge-unconfirmed-identities",
    description: "Scheduled: deletes users still unconfirmed after the configured age from the pool",
    start: "scheduled",
    timeoutSeconds: 900,
    memoryMb: 256,
    scheduleKey: "purgeIdentities",
    stateMachine: true,
  },
  {
    name: "purge-unconfirmed-accounts",
    description: "Scheduled: deletes never-confirmed rows of the users table, in batches",
    start: "scheduled",
    timeoutSeconds: 300,
    memoryMb: 256,
    scheduleKey: "purgeAccounts",
    accountsDatabase: true,
  },
  {
    name: "snapshot-and-reconcile",
    description: "Scheduled: snapshots the pool to S3 and writes missing profiles and backups",
    start: "scheduled",
    timeoutSeconds: 900,
    memoryMb: 1024,
    scheduleKey: "snapshot",
    stateMachine: true,
  },
  {
    name: "restore",
    description: "Manual: plans or runs a restore of users from backups into this or another pool",
    start: "manual",
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
  {
    name: "erase",
    description: "Manual: erases one user from the pool, the profile table and every backup version",
    start: "manual",
    timeoutSeconds: 120,
    memoryMb: 256,
  },
  {
    name: "setup-accounts-database",
    description: "Deployment: applies the accounts table's migrations and the purge's least-privilege login",
    start: "deployment",
    timeoutSeconds: 120,
    memoryMb: 256,
    accountsDatabase: true,
  },
] as const satisfies readonly JobEntry[];

/** A job's name. */
export type JobName = (typeof JOBS)[number]["name"];

/** Every job's name, in catalogue order. */
export const JOB_NAMES: readonly JobName[] = JOBS.map((job) => job.name);

/** The catalogue entry of `name`. */
export function jobEntry(name: JobName): JobEntry<JobName> {
  return JOBS.find((job) => job.name === name) as JobEntry<JobName>;
}

/** A job EventBridge Scheduler starts. */
/**
 * The module of a job's function, relative to the repository: its entry point exports `handler` (the Lambda
 * entry point) and `build` (the function on a given container). The build bundles it; the local stack loads it.
 */
export function handlerModule(name: JobName): string {
  return `handlers/${name}.ts`;
}

/** The jobs the local Lambda endpoint serves: every one but the deployment's (the local stack runs that at start). */
export function locallyServedJobs(): readonly JobEntry<JobName>[] {
  return JOBS.filter((job) => job.start !== "deployment");
}

export type ScheduledJob = JobEntry<JobName> & { readonly scheduleKey: NonNullable<JobEntry["scheduleKey"]> };

/** The jobs EventBridge Scheduler starts, in catalogue order. */
export function scheduledJobs(): readonly ScheduledJob[] {
  return (JOBS as readonly JobEntry<JobName>[]).filter(
    (job): job is ScheduledJob => job.start === "scheduled" && job.scheduleKey !== undefined,
  );
}
