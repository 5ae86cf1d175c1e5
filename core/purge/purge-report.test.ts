import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { anAccountPlan, aPurgeCandidate, aPurgePolicy, hoursAgo, PURGE_NOW } from "../testing/purge.js";
import { planPurge } from "./identity-plan.js";
import { DEFAULT_PURGE_POLICY } from "./purge-policy.js";
import {
  finishPurgeReport,
  newPurgeReport,
  recordDeleted,
  recordFailure,
  recordSkipped,
} from "./purge-report.js";

const BIG_POOL = 1_000_000;

function identityPlan(overrides: { dryRun?: boolean; maxDeletionsPerRun?: number; poolSize?: number } = {}) {
  return planPurge({
    candidates: [
      aPurgeCandidate({ id: "user-id-a" }),
      aPurgeCandidate({ id: "b" }),
      aPurgeCandidate({ id: "c" }),
      aPurgeCandidate({ id: "confirmed", confirmed: true }),
      aPurgeCandidate({ id: "young", confirmationSentAt: hoursAgo(1) }),
    ],
    poolSize: overrides.poolSize ?? BIG_POOL,
    policy: aPurgePolicy({
      dryRun: overrides.dryRun ?? false,
      maxDeletionsPerRun: overrides.maxDeletionsPerRun ?? 1000,
    }),
    now: PURGE_NOW,
  });
}

describe("purge report", () => {
  it("summarises a completed run with counts only, never user ids", () => {
    let draft = newPurgeReport(identityPlan(), "identities");
    draft = recordDeleted(draft);
    draft = recordSkipped(draft, "NO_LONGER_ELIGIBLE");
    draft = recordFailure(draft, "DIRECTORY.THROTTLED");
    const report = finishPurgeReport(draft, { durationMs: 1234.4 });
    expect(report).toEqual({
      target: "identities",
      dryRun: false,
      cutoff: hoursAgo(24).toISOString(),
      candidates: 5,
      eligible: 3,
      deleted: 1,
      deferred: 0,
      skippedByReason: { CONFIRMED: 1, TOO_YOUNG: 1, NO_LONGER_ELIGIBLE: 1 },
      failed: 1,
      failureCodes: { "DIRECTORY.THROTTLED": 1 },
      stoppedBy: "completed",
      durationMs: 1234,
    });
    expect(JSON.stringify(report)).not.toContain("user-id-a");
  });

  it("adds up repeated reasons and failure codes", () => {
    let draft = newPurgeReport(identityPlan(), "identities");
    draft = recordFailure(draft, "UserNotFoundException");
    draft = recordFailure(draft, "UserNotFoundException", 2);
    draft = recordSkipped(draft, "TOO_YOUNG");
    const report = finishPurgeReport(draft, { durationMs: 5 });
    expect(report.failed).toBe(3);
    expect(report.failureCodes).toEqual({ UserNotFoundException: 3 });
    expect(report.skippedByReason.TOO_YOUNG).toBe(2);
  });

  it("leaves earlier drafts unchanged", () => {
    const first = newPurgeReport(identityPlan(), "identities");
    const second = recordFailure(recordDeleted(first), "X");
    expect(first.deleted).toBe(0);
    expect(first.failureCodes).toEqual({});
    expect(second.deleted).toBe(1);
  });

  it("defers the planned users a time budget did not reach", () => {
    let draft = newPurgeReport(identityPlan({ maxDeletionsPerRun: 2 }), "identities");
    draft = recordDeleted(draft);
    const report = finishPurgeReport(draft, { durationMs: 10, timedOut: true });
    expect(report.stoppedBy).toBe("time-budget");
    // One beyond the cap, plus one planned but not reached.
    expect(report.deferred).toBe(2);
  });

  it("does not defer anything extra when a time budget ends after every planned user", () => {
    let draft = newPurgeReport(identityPlan(), "identities");
    draft = recordDeleted(draft, 2);
    draft = recordFailure(draft, "X");
    expect(finishPurgeReport(draft, { durationMs: 10, timedOut: true }).deferred).toBe(0);
  });

  it("reports a dry run as such", () => {
    const report = finishPurgeReport(newPurgeReport(identityPlan({ dryRun: true }), "identities"), {
      durationMs: 3,
    });
    expect(report).toMatchObject({ dryRun: true, stoppedBy: "dry-run", deleted: 0, eligible: 3 });
  });

  it("reports a refused plan with its message", () => {
    // Three of ten users eligible, none older than a day before the newest sign-up: over 5% by the clock alone.
    const plan = planPurge({
      candidates: ["a", "b", "c"].map((id) => aPurgeCandidate({ id })),
      poolSize: 10,
      policy: DEFAULT_PURGE_POLICY,
      now: PURGE_NOW,
    });
    expect(plan.refused).toBeDefined();
    const report = finishPurgeReport(newPurgeReport(plan, "identities"), { durationMs: 1, timedOut: true });
    expect(report.stoppedBy).toBe("refused");
    expect(report.refused).toBe(plan.refused?.message);
    expect(report.deleted).toBe(0);
    expect(report.deferred).toBe(0);
  });

  it("reports an account purge, counting batch deletions against its limit", () => {
    const plan = anAccountPlan({
      expired: 50,
      total: 100_000,
      policy: aPurgePolicy({ maxDeletionsPerRun: 30 }),
    });
    let draft = newPurgeReport(plan, "accounts");
    draft = recordDeleted(draft, 10);
    const report = finishPurgeReport(draft, { durationMs: 100, timedOut: true });
    expect(report).toMatchObject({ target: "accounts", deleted: 10, deferred: 40, skippedByReason: {} });
  });

  it("omits `refused` when the plan was not refused", () => {
    const report = finishPurgeReport(newPurgeReport(anAccountPlan({ expired: 0 }), "accounts"), {
      durationMs: 0,
    });
    expect("refused" in report).toBe(false);
    expect(report.stoppedBy).toBe("completed");
  });

  it.each([
    () => recordDeleted(newPurgeReport(identityPlan(), "identities"), -1),
    () => recordDeleted(newPurgeReport(identityPlan(), "identities"), 1.5),
    () => recordSkipped(newPurgeReport(identityPlan(), "identities"), " "),
    () => recordFailure(newPurgeReport(identityPlan(), "identities"), ""),
    () => finishPurgeReport(newPurgeReport(identityPlan(), "identities"), { durationMs: -1 }),
    () => finishPurgeReport(newPurgeReport(identityPlan(), "identities"), { durationMs: Number.NaN }),
  ])("rejects bad input (%#)", (fn) => {
    expect(fn).toThrow(ValidationError);
  });
});
