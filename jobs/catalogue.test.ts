import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { JOB_NAMES, JOBS, type JobEntry, jobEntry, scheduledJobs } from "./catalogue.js";

describe("the job catalogue", () => {
  it("names each job once, with a handler file of that name", () => {
    expect(new Set(JOB_NAMES).size).toBe(JOBS.length);
    for (const name of JOB_NAMES) {
      expect(existsSync(path.resolve(__dirname, "..", "handlers", `${name}.ts`)), name).toBe(true);
    }
  });

  it.each(JOBS.map((job) => [job.name, job] as const))("%s fits Lambda's and Cognito's limits", (_, job) => {
    expect(job.timeoutSeconds).toBeGreaterThan(0);
    expect(job.timeoutSeconds).toBeLessThanOrEqual(job.start === "trigger" ? 5 : 900);
    expect(job.memoryMb).toBeGreaterThanOrEqual(128);
    expect(job.memoryMb).toBeLessThanOrEqual(10_240);
    expect(job.description.length).toBeLessThanOrEqual(256);
  });

  it("gives a schedule key to scheduled jobs and to no other", () => {
    const keys = JOBS.map((job) => [job.name, jobEntry(job.name).scheduleKey !== undefined] as const);
    expect(keys.filter(([, has]) => has).map(([name]) => name)).toEqual(
      scheduledJobs().map((job) => job.name),
    );
    expect(scheduledJobs().every((job) => job.start === "scheduled")).toBe(true);
    expect(new Set(scheduledJobs().map((job) => job.scheduleKey)).size).toBe(scheduledJobs().length);
  });

  it("runs as a state machine only a job that is started by a schedule or an operator", () => {
    for (const job of JOBS as readonly JobEntry[]) {
      if (job.stateMachine) expect(["scheduled", "manual"], job.name).toContain(job.start);
    }
  });
});
