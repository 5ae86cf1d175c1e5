import { describe, expect, it as base } from "vitest";
import { collectImportFiles, parseImportHeader } from "../csv/index.js";
import { aUser } from "../testing/builders.js";
import { withFixture as runWithFixture } from "./contract-support.js";
import type { UserDirectory } from "./user-directory.js";
import { type ImportJob, TERMINAL_IMPORT_JOB_STATUSES, type UserImportService } from "./user-import.js";

/** A fresh, empty pool with the custom attribute `legacy_sub`, per fixture. */
export interface UserImportFixture {
  readonly importer: UserImportService;
  /** The same pool, to check what the import created. */
  readonly directory: UserDirectory;
  /** Waits between two looks at a running job. */
  sleep(ms: number): Promise<void>;
  close?(): Promise<void>;
}

export interface UserImportCapabilities {
  /** The service runs import jobs (a stand-in may have none at all). */
  readonly importJobs: boolean;
  /** Why the import cases are skipped, when they are. */
  readonly importJobsGap?: string;
}

/** What every UserImportService adapter must do. */
export function describeUserImportContract(
  name: string,
  makeFixture: () => Promise<UserImportFixture>,
  capabilities: UserImportCapabilities = { importJobs: true },
): void {
  describe(`UserImportService contract: ${name}`, () => {
    const withFixture = (test: (fixture: UserImportFixture) => Promise<void>) =>
      runWithFixture(makeFixture, test);
    const skipNote = capabilities.importJobsGap ? ` (skipped: ${capabilities.importJobsGap})` : "";
    const it = base.skipIf(!capabilities.importJobs);

    async function untilDone(fixture: UserImportFixture, job: ImportJob): Promise<ImportJob> {
      let current = job;
      for (let look = 0; look < 100 && !TERMINAL_IMPORT_JOB_STATUSES.includes(current.status); look++) {
        await fixture.sleep(1000);
        current = await fixture.importer.describeImportJob(current.jobId);
      }
      return current;
    }

    it(`gives the pool's CSV header with the columns every import needs${skipNote}`, () =>
      withFixture(async ({ importer }) => {
        const header = await importer.getCsvHeader();
        expect(header).toEqual(
          expect.arrayContaining(["cognito:username", "cognito:mfa_enabled", "email", "email_verified"]),
        );
        expect(header).toContain("custom:legacy_sub");
      }));

    it(`imports a CSV: users arrive as RESET_REQUIRED with a new sub and their legacy sub${skipNote}`, () =>
      withFixture(async (fixture) => {
        const { importer, directory } = fixture;
        const users = [aUser(), aUser({ attributes: { name: "Ann, the first" } })];
        const header = parseImportHeader(await importer.getCsvHeader());
        const { files } = await collectImportFiles(header, users);
        const created = await importer.createImportJob("contract-import");
        expect(created.status).toBe("Created");
        await importer.uploadCsv(created.jobId, files[0]?.text ?? "");
        const started = await importer.startImportJob(created.jobId);
        expect(["Pending", "InProgress", "Succeeded"]).toContain(started.status);
        const done = await untilDone(fixture, started);
        expect(done).toMatchObject({ status: "Succeeded", imported: 2, failed: 0 });
        for (const user of users) {
          const imported = await directory.getUser(user.username);
          expect(imported?.status).toBe("RESET_REQUIRED");
          expect(imported?.sub).not.toBe(user.sub);
          expect(imported?.attributes["custom:legacy_sub"]).toBe(user.sub);
          expect(imported?.attributes.email).toBe(user.attributes.email);
        }
      }));

    it(`lets one job run at a time${skipNote}`, () =>
      withFixture(async (fixture) => {
        const { importer } = fixture;
        const header = parseImportHeader(await importer.getCsvHeader());
        const first = await importer.createImportJob("first");
        const second = await importer.createImportJob("second");
        await importer.uploadCsv(
          first.jobId,
          (await collectImportFiles(header, [aUser()])).files[0]?.text ?? "",
        );
        await importer.uploadCsv(
          second.jobId,
          (await collectImportFiles(header, [aUser()])).files[0]?.text ?? "",
        );
        await importer.startImportJob(first.jobId);
        await expect(importer.startImportJob(second.jobId)).rejects.toMatchObject({
          code: "IMPORT.JOB_ALREADY_ACTIVE",
        });
      }));

    it(`names an unknown job${skipNote}`, () =>
      withFixture(async ({ importer }) => {
        await expect(importer.describeImportJob("import-does-not-exist")).rejects.toMatchObject({
          code: "IMPORT.JOB_NOT_FOUND",
        });
      }));
  });
}
