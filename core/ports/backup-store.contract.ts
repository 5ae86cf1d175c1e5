import { describe, expect, it } from "vitest";
import { withFixture as runWithFixture } from "./contract-support.js";
import {
  type SnapshotManifest,
  SnapshotPartWriter,
  serializeSnapshotLine,
  snapshotIdFor,
} from "../backup/snapshot.js";
import { aBackupRecord } from "../testing/backup.js";
import { aUser } from "../testing/builders.js";
import { stableUserId } from "../user/user.js";
import type { BackupEntry, BackupStore } from "./backup-store.js";

/** A fresh, empty store per fixture. */
export interface BackupStoreFixture {
  readonly store: BackupStore;
  /** Plants an unreadable object where the backup of `userId` would be. */
  plantMalformed(userId: string, text: string): Promise<void>;
  close?(): Promise<void>;
}

export interface BackupStoreCapabilities {
  /** The store keeps versions of an object and lists them, which erasing every version depends on. */
  readonly versionListing: boolean;
  /** Why the cases that need version listing are skipped, when they are. */
  readonly versionListingGap?: string;
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

    it("never writes a stable id's backup over for another username (identity binding)", () =>
      withFixture(async ({ store }) => {
        const victim = aUser();
        expect(await store.putUserBackup(aBackupRecord({ user: victim }))).toBe("written");
        const claimer = aUser({ attributes: { "custom:legacy_sub": victim.sub } });
        expect(await store.putUserBackup(aBackupRecord({ user: claimer }))).toBe("identity-conflict");
        expect((await store.getUserBackup(victim.sub))?.user.username).toBe(victim.username);
        // The same username again (a retry, a change of attributes) is written.
        const changed = { ...victim, attributes: { ...victim.attributes, email: "new@example.com" } };
        expect(await store.putUserBackup(aBackupRecord({ user: changed }))).toBe("written");
        expect((await store.getUserBackup(victim.sub))?.user.attributes.email).toBe("new@example.com");
      }));

    it("refuses a record whose stable id is no UUID, writing nothing", () =>
      withFixture(async ({ store }) => {
        for (const legacy of ["../../x", "__proto__", "x".repeat(2049)]) {
          const user = aUser({ attributes: { "custom:legacy_sub": legacy } });
          await expect(store.putUserBackup(aBackupRecord({ user }))).rejects.toMatchObject({
            code: "USER.INVALID_ID",
            field: "custom:legacy_sub",
          });
        }
        const listed = [];
        for await (const entry of store.listUserBackups()) listed.push(entry);
        expect(listed).toEqual([]);
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
        // Parts of a snapshot without its manifest are still found, for an erase to scrub them.
        expect(await store.listSnapshotParts()).toEqual(
          parts.map((part) => ({ snapshotId, partName: part.name })),
        );
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

    it("stores any snapshot file under its name, rewrites it whole, lists, and deletes it", () =>
      withFixture(async ({ store }) => {
        const id = "2026-04-02T00-00-00-000Z";
        const files = {
          "groups/page-00001.json": '{"groups":[],"files":[]}\n',
          "groups/00001-01-00001.jsonl": '"alice@example.com"\n',
          "p-a/part-00001.jsonl": `${serializeSnapshotLine(aBackupRecord())}`,
          "p-a/part-00001.ids": "00000000-0000-4000-8000-000000000001\n",
        };
        for (const [name, text] of Object.entries(files)) await store.putSnapshotFile(id, name, text);
        await store.putSnapshotFile(id, "p-a/part-00001.ids", "00000000-0000-4000-8000-000000000002\n");
        expect(await store.getSnapshotFile(id, "p-a/part-00001.ids")).toBe(
          "00000000-0000-4000-8000-000000000002\n",
        );
        expect(await store.getSnapshotFile(id, "groups/00001-01-00001.jsonl")).toBe('"alice@example.com"\n');
        expect(await store.getSnapshotFile(id, "p-b/part-00001.jsonl")).toBeUndefined();
        expect(await store.listSnapshotFiles(id)).toEqual(Object.keys(files).sort());
        expect(await store.listSnapshotIds()).toEqual([id]);
        // Only files of backup records are parts (for erase): not indexes, not group files.
        expect(await store.listSnapshotParts()).toEqual([
          { snapshotId: id, partName: "p-a/part-00001.jsonl" },
        ]);
        expect(await store.getSnapshotPart(id, "p-a/part-00001.jsonl")).toBe(files["p-a/part-00001.jsonl"]);
        await store.deleteSnapshotFile(id, "p-a/part-00001.jsonl");
        await store.deleteSnapshotFile(id, "p-a/part-00001.jsonl");
        expect(await store.getSnapshotFile(id, "p-a/part-00001.jsonl")).toBeUndefined();
        expect(await store.listSnapshotParts()).toEqual([]);
        expect(await store.listSnapshots()).toEqual([]);
      }));

    it("refuses a snapshot file name that is not one, writing nothing", () =>
      withFixture(async ({ store }) => {
        const id = "2026-04-03T00-00-00-000Z";
        for (const name of ["../users/x.json", "a/b/c.jsonl", "manifest.json", "P-A/part.jsonl", "", "/x"]) {
          await expect(store.putSnapshotFile(id, name, "x\n")).rejects.toMatchObject({
            code: "SNAPSHOT.MALFORMED",
          });
          await expect(store.getSnapshotFile(id, name)).rejects.toMatchObject({ code: "SNAPSHOT.MALFORMED" });
        }
        expect(await store.listSnapshotIds()).toEqual([]);
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
  });
}
