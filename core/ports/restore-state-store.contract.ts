import { describe, expect, it } from "vitest";
import {
  RESTORE_PLAN_VERSION,
  type RestoreProgress,
  type StoredRestorePlan,
} from "../backup/restore-state.js";
import { parseImportHeader } from "../csv/index.js";
import { aUser } from "../testing/builders.js";
import { aPlannedImportUser } from "../testing/csv.js";
import { withFixture as runWithFixture } from "./contract-support.js";
import type { RestoreStateStore } from "./restore-state-store.js";

/** A fresh, empty store per fixture. */
export interface RestoreStateStoreFixture {
  readonly store: RestoreStateStore;
  /** Plants an unreadable object where the progress of restore `planId` would be. */
  plantMalformedRestoreProgress(planId: string): Promise<void>;
  close?(): Promise<void>;
}

/** A started restore's plan: two users (one in a group, one disabled), a skipped one, two chunks. */
function aStoredRestorePlan(planId: string): StoredRestorePlan {
  const csvHeader = [
    "cognito:username",
    "email",
    "email_verified",
    "custom:legacy_sub",
    "cognito:mfa_enabled",
  ];
  const header = parseImportHeader(csvHeader);
  const alice = aPlannedImportUser(aUser({ groups: ["admins", "staff"], mfaEnabled: true }), header);
  const bob = aPlannedImportUser(aUser({ enabled: false }), header);
  return {
    version: RESTORE_PLAN_VERSION,
    plan: {
      planId,
      createdAt: new Date("2026-06-10T12:00:00.000Z"),
      strategy: "import-job",
      source: { kind: "latest", snapshotId: "20260610T020000Z", userBackupsUsed: 1 },
      groups: [{ name: "admins", precedence: 1, description: "Admins" }, { name: "staff" }],
      users: [alice, bob],
      existing: ["carol@example.com"],
      skipped: [{ username: "dave@example.com", reason: "UNCONFIRMED", detail: "never confirmed" }],
      malformedBackups: ["users/broken.json"],
      notFound: ["erin@example.com"],
    },
    targetUserPoolId: "eu-west-1_Target1",
    chunks: [
      { index: 1, users: 1 },
      { index: 2, users: 1 },
    ],
    csvHeader,
    importFileLimits: { maxUsersPerFile: 1 },
  };
}

function aRestoreProgress(planId: string, usersDone = 0): RestoreProgress {
  return {
    version: 1,
    planId,
    updatedAt: new Date("2026-06-10T12:05:00.000Z"),
    chunks: [
      {
        index: 1,
        status: "done",
        job: {
          jobId: "import-1",
          jobName: `${planId}-1`,
          status: "Succeeded",
          imported: 1,
          skipped: 0,
          failed: 0,
          completionMessage: "Import Job Completed Successfully.",
        },
        jobCreatedAt: new Date("2026-06-10T12:01:00.000Z"),
        abandonedJobIds: ["import-0"],
        created: 0,
        failureCodes: {},
      },
      { index: 2, status: "pending", created: 0, failureCodes: {} },
    ],
    finalization: {
      groupsDone: usersDone > 0,
      usersDone,
      restored: usersDone,
      missing: [],
      groupsCreated: usersDone > 0 ? 2 : 0,
      membershipsAdded: 0,
      disabled: 0,
      membershipsInPlace: 0,
      disabledInPlace: 0,
      subMapping: [],
      failed: 0,
      failureCodes: {},
    },
  };
}

/**
 * What every RestoreStateStore adapter must do. Run by the in-memory adapter's unit tests and by the S3
 * adapter's integration tests against s3rver.
 */
export interface RestoreStateStoreCapabilities {
  /** The store checks a write's condition (S3: If-Match / If-None-Match on PutObject). */
  readonly conditionalWrites: boolean;
  /** Why the cases that need it are skipped, when they are. */
  readonly conditionalWritesGap?: string;
}

export function describeRestoreStateStoreContract(
  name: string,
  makeFixture: () => Promise<RestoreStateStoreFixture>,
  capabilities: RestoreStateStoreCapabilities = { conditionalWrites: true },
): void {
  describe(`RestoreStateStore contract: ${name}`, () => {
    const withFixture = (test: (fixture: RestoreStateStoreFixture) => Promise<void>) =>
      runWithFixture(makeFixture, test);

    it("stores a restore's plan once and its progress, replaced at every write", () =>
      withFixture(async ({ store }) => {
        const planId = "restore-2026-06-10T12-00-00-000Z";
        const stored = aStoredRestorePlan(planId);
        await store.putRestorePlan(stored);
        await store.putRestoreProgress(aRestoreProgress(planId));
        expect(await store.getRestorePlan(planId)).toEqual(stored);
        expect(await store.getRestoreProgress(planId)).toEqual(aRestoreProgress(planId));
        const later = { ...aRestoreProgress(planId, 2), finishedAt: new Date("2026-06-10T12:09:00.000Z") };
        await store.putRestoreProgress(later);
        expect(await store.getRestoreProgress(planId)).toEqual(later);
        expect(await store.getRestorePlan(planId)).toEqual(stored);
      }));

    it("gives a version with each progress, a new one at every write, and lists every stored restore", () =>
      withFixture(async ({ store }) => {
        const [a, b] = ["restore-2026-06-10T12-00-00-000Z", "restore-2026-06-10T12-00-00-000Z-2"];
        expect(await store.listRestores()).toEqual([]);
        await store.putRestorePlan(aStoredRestorePlan(b));
        const v1 = await store.putRestoreProgress(aRestoreProgress(b));
        await store.putRestorePlan(aStoredRestorePlan(a));
        expect(await store.listRestores()).toEqual([a, b]);
        const read = await store.getVersionedRestoreProgress(b);
        expect(read).toEqual({ progress: aRestoreProgress(b), version: v1 });
        const v2 = await store.putRestoreProgress(aRestoreProgress(b, 2));
        expect(v2).not.toEqual(v1);
        expect((await store.getVersionedRestoreProgress(b)).version).toEqual(v2);
      }));

    it.skipIf(!capabilities.conditionalWrites)(
      `writes a progress only under its condition: of two writers from one version, one wins${capabilities.conditionalWritesGap ? ` (skipped: ${capabilities.conditionalWritesGap})` : ""}`,
      () =>
        withFixture(async ({ store }) => {
          const planId = "restore-2026-06-10T12-00-00-000Z";
          await store.putRestorePlan(aStoredRestorePlan(planId));
          const first = await store.putRestoreProgress(aRestoreProgress(planId), { ifAbsent: true });
          await expect(
            store.putRestoreProgress(aRestoreProgress(planId, 1), { ifAbsent: true }),
          ).rejects.toMatchObject({ code: "RESTORE.CONFLICT", message: expect.stringContaining(planId) });
          const second = await store.putRestoreProgress(aRestoreProgress(planId, 1), { ifVersion: first });
          await expect(
            store.putRestoreProgress(aRestoreProgress(planId, 2), { ifVersion: first }),
          ).rejects.toMatchObject({ code: "RESTORE.CONFLICT" });
          expect(await store.getVersionedRestoreProgress(planId)).toEqual({
            progress: aRestoreProgress(planId, 1),
            version: second,
          });
        }),
    );

    it("refuses an unknown restore with RESTORE.NOT_FOUND naming the plan id", () =>
      withFixture(async ({ store }) => {
        const planId = "restore-no-such-plan";
        await expect(store.getRestorePlan(planId)).rejects.toMatchObject({
          code: "RESTORE.NOT_FOUND",
          message: expect.stringContaining(planId),
        });
        await expect(store.getRestoreProgress(planId)).rejects.toMatchObject({
          code: "RESTORE.NOT_FOUND",
          message: expect.stringContaining(planId),
        });
      }));

    it("refuses unreadable restore state with RESTORE.STATE_MALFORMED, and writes none", () =>
      withFixture(async ({ store, plantMalformedRestoreProgress }) => {
        const planId = "restore-broken";
        await plantMalformedRestoreProgress(planId);
        await expect(store.getRestoreProgress(planId)).rejects.toMatchObject({
          code: "RESTORE.STATE_MALFORMED",
        });
        const bad = { ...aRestoreProgress("restore-bad"), updatedAt: new Date(Number.NaN) };
        await expect(store.putRestoreProgress(bad)).rejects.toMatchObject({
          code: "RESTORE.STATE_MALFORMED",
        });
        await expect(store.getRestoreProgress("restore-bad")).rejects.toMatchObject({
          code: "RESTORE.NOT_FOUND",
        });
      }));
  });
}
