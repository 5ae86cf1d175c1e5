import { describe, expect, it } from "vitest";
import { withFixture as runWithFixture } from "./contract-support.js";
import type { RestoreProgress, StoredRestorePlan } from "../backup/restore-state.js";
import { type SnapshotManifest, SnapshotPartWriter, snapshotIdFor } from "../backup/snapshot.js";
import { aBackupRecord } from "../testing/backup.js";
import { aUser } from "../testing/builders.js";
import { stableUserId } from "../user/user.js";
import type { BackupEntry, BackupStore } from "./backup-store.js";

/** A fresh, empty store per fixture. */
export interface BackupStoreFixture {
  readonly store: BackupStore;
  /** Plants an unreadable object where the backup of `userId` would be. */
  plantMalformed(userId: string, text: string): Promise<void>;
  /** Plants an unreadable object where the progress of restore `planId` would be. */
  plantMalformedRestoreProgress(planId: string): Promise<void>;
  close?(): Promise<void>;
}

export interface BackupStoreCapabilities {
  /** The store keeps versions of an object and lists them, which erasing every version depends on. */
  readonly versionListing: boolean;
  /** Why the cases that need version listing are skipped, when they are. */
  readonly versionListingGap?: string;
}

/** A started restore's plan: two users (one in a group, one disabled), a skipped one, two chunks. */
function aStoredRestorePlan(planId: string): StoredRestorePlan {
  const alice = aUser({ groups: ["admins", "staff"], mfaEnabled: true });
  const bob = aUser({ enabled: false });
  return {
    version: 1,
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
    csvHeader: ["cognito:username", "email", "email_verified", "cognito:mfa_enabled"],
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
      subMapping: [],
      failed: 0,
      failureCodes: {},
    },
  };
}

async function collect(entries: AsyncIterable<BackupEntry>): Promise<BackupEntry[]> {
  const all: BackupEntry[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

/**
 * What every BackupStore adapter must do. Run by the in-memory adapter's unit tests and by the S3 adapter's
 * integration tests against s3rver.
 */
export function describeBackupStoreContract(
  name: string,
  makeFixture: () => Promise<BackupStoreFixture>,
  capabilities: BackupStoreCapabilities = { versionListing: true },
): void {
  describe(`BackupStore contract: ${name}`, () => {
    const withFixture = (test: (fixture: BackupStoreFixture) => Promise<void>) =>
      runWithFixture(makeFixture, test);

    it("writes and reads back a user's backup", () =>
      withFixture(async ({ store }) => {
        const record = aBackupRecord({ user: aUser({ groups: ["admins", "staff"], enabled: false }) });
        await store.putUserBackup(record);
        expect(await store.getUserBackup(stableUserId(record.user))).toEqual(record);
        expect(await store.getUserBackup("no-such-user")).toBeUndefined();
      }));

    it("keys backups by the stable id: a repeat overwrites, a restored user keeps its backup", () =>
      withFixture(async ({ store }) => {
        const user = aUser();
        await store.putUserBackup(aBackupRecord({ user }));
        const restored = aUser({
          username: user.username,
          sub: "99999999-9999-4999-8999-999999999999",
          attributes: { ...user.attributes, "custom:legacy_sub": user.sub },
        });
        const later = aBackupRecord({ user: restored, capturedAt: new Date("2026-03-01T00:00:00.000Z") });
        await store.putUserBackup(later);
        expect(await store.getUserBackup(user.sub)).toEqual(later);
        const listed = await collect(store.listUserBackups());
        expect(listed.filter((e) => e.kind === "record" && e.userId === user.sub)).toHaveLength(1);
      }));

    it("lists every current backup and reports malformed ones without stopping", () =>
      withFixture(async ({ store, plantMalformed }) => {
        const records = [aBackupRecord(), aBackupRecord(), aBackupRecord()];
        for (const record of records) await store.putUserBackup(record);
        await plantMalformed("broken-user", '{"format":"cognito-user-lifecycle/backup","version":1');
        const listed = await collect(store.listUserBackups());
        const ids = listed.flatMap((e) => (e.kind === "record" ? [e.userId] : []));
        expect(ids.sort()).toEqual(records.map((r) => stableUserId(r.user)).sort());
        const malformed = listed.filter((e) => e.kind === "malformed");
        expect(malformed).toHaveLength(1);
        expect(malformed[0]).toMatchObject({
          kind: "malformed",
          location: expect.stringContaining("broken-user"),
        });
      }));

    it.skipIf(!capabilities.versionListing)(
      `erases every version of a user's backup${capabilities.versionListingGap ? ` (skipped: ${capabilities.versionListingGap})` : ""}`,
      () =>
        withFixture(async ({ store }) => {
          const record = aBackupRecord();
          const id = stableUserId(record.user);
          await store.putUserBackup(record);
          await store.putUserBackup({ ...record, capturedAt: new Date("2026-02-02T00:00:00.000Z") });
          expect(await store.eraseUserBackups(id)).toBeGreaterThanOrEqual(2);
          expect(await store.getUserBackup(id)).toBeUndefined();
          expect(await store.eraseUserBackups(id)).toBe(0);
          const listed = await collect(store.listUserBackups());
          expect(listed.some((e) => e.kind === "record" && e.userId === id)).toBe(false);
        }),
    );

    it("stores snapshots part by part and lists only those with a manifest", () =>
      withFixture(async ({ store }) => {
        const startedAt = new Date("2026-04-01T00:00:00.000Z");
        const snapshotId = snapshotIdFor(startedAt);
        const writer = new SnapshotPartWriter({ maxRecordsPerPart: 2 });
        const parts = [];
        for (let i = 0; i < 3; i++) {
          const closed = writer.add(
            aBackupRecord({ source: { kind: "snapshot", userPoolId: "eu-west-1_Test" } }),
          );
          if (closed) parts.push(closed);
        }
        const last = writer.finish();
        if (last) parts.push(last);
        for (const part of parts) await store.putSnapshotPart(snapshotId, part);
        expect(await store.listSnapshots()).toEqual([]);
        const manifest: SnapshotManifest = {
          version: 1,
          snapshotId,
          userPoolId: "eu-west-1_Test",
          startedAt,
          completedAt: new Date("2026-04-01T00:01:00.000Z"),
          userCount: 3,
          groups: [{ name: "admins", precedence: 1 }],
          parts: writer.parts,
        };
        await store.putSnapshotManifest(manifest);
        expect(await store.listSnapshots()).toEqual([snapshotId]);
        expect(await store.getSnapshotManifest(snapshotId)).toEqual(manifest);
        for (const part of parts) expect(await store.getSnapshotPart(snapshotId, part.name)).toBe(part.text);
        await expect(store.getSnapshotManifest("no-such-snapshot")).rejects.toMatchObject({
          code: "SNAPSHOT.MALFORMED",
        });
      }));

    it("lists snapshots oldest first", () =>
      withFixture(async ({ store }) => {
        const ids = ["2026-05-02T00:00:00.000Z", "2026-05-01T00:00:00.000Z"].map((at) => {
          const startedAt = new Date(at);
          return { startedAt, snapshotId: snapshotIdFor(startedAt) };
        });
        for (const { startedAt, snapshotId } of ids) {
          await store.putSnapshotManifest({
            version: 1,
            snapshotId,
            userPoolId: "eu-west-1_Test",
            startedAt,
            completedAt: startedAt,
            userCount: 0,
            groups: [],
            parts: [],
          });
        }
        expect(await store.listSnapshots()).toEqual(ids.map((i) => i.snapshotId).sort());
      }));

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
