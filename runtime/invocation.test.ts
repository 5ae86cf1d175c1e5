import { describe, expect, it } from "vitest";
import { callDeadline } from "../adapters/shared/call-deadline.js";
import { systemClock } from "../adapters/shared/time.js";
import { runJob } from "./invocation.js";
import { RecordingObservability } from "./testing/recording-observability.js";

describe("runJob", () => {
  it("makes the invocation's end the deadline of every call the job makes", async () => {
    const before = systemClock.now().getTime();
    const deadline = await runJob(
      new RecordingObservability(),
      "Job",
      { awsRequestId: "req-1", getRemainingTimeInMillis: () => 120_000 },
      async () => callDeadline(),
      () => false,
    );
    const after = systemClock.now().getTime();
    expect(deadline?.getTime()).toBeGreaterThanOrEqual(before + 120_000);
    expect(deadline?.getTime()).toBeLessThanOrEqual(after + 120_000);
  });

  it("gives no deadline without a Lambda context (the CLI, tests)", async () => {
    const deadline = await runJob(
      new RecordingObservability(),
      "Job",
      undefined,
      async () => callDeadline(),
      () => false,
    );
    expect(deadline).toBeUndefined();
  });
});
