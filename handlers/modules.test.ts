import path from "node:path";
import { describe, expect, it } from "vitest";
import { handlerModule, JOBS, locallyServedJobs } from "../jobs/catalogue.js";

/**
 * Every job of the catalogue has its function's module where the build and the local stack look for it
 * (`handlerModule`), exporting the Lambda entry point and the function built on a container.
 */
describe("the functions' modules", () => {
  it.each(JOBS.map((job) => job.name))("%s exports handler and build", async (name) => {
    const module = (await import(path.resolve(__dirname, "..", handlerModule(name)))) as Record<
      string,
      unknown
    >;
    expect(typeof module["handler"]).toBe("function");
    expect(typeof module["build"]).toBe("function");
  });

  it("the local endpoint serves every job but the deployment's", () => {
    expect(locallyServedJobs().map((job) => job.name)).toEqual(
      JOBS.filter((job) => job.name !== "setup-accounts-database").map((job) => job.name),
    );
  });
});
