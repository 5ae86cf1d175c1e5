import { describe, expect, it } from "vitest";
import { parseImportHeader } from "../csv/index.js";
import { aUser } from "../testing/builders.js";
import { aPlannedImportUser, A_POOL_CSV_HEADER } from "../testing/csv.js";
import {
  parseRestorePlan,
  RESTORE_PLAN_VERSION,
  restorePlanLines,
  serializeRestorePlan,
  type StoredRestorePlan,
} from "./restore-state.js";

function aPlan(overrides: Partial<StoredRestorePlan["plan"]> = {}): StoredRestorePlan {
  const header = parseImportHeader([...A_POOL_CSV_HEADER]);
  const users = [aUser({ groups: ["staff"] }), aUser({ enabled: false })].map((u) =>
    aPlannedImportUser(u, header),
  );
  return {
    version: RESTORE_PLAN_VERSION,
    plan: {
      planId: "restore-1",
      createdAt: new Date("2026-06-10T12:00:00.000Z"),
      strategy: "import-job",
      source: { kind: "latest", userBackupsUsed: 0 },
      groups: [{ name: "staff" }],
      users,
      existing: [],
      skipped: [],
      malformedBackups: [],
      notFound: [],
      ...overrides,
    },
    chunks: [{ index: 1, users: 2 }],
    csvHeader: [...A_POOL_CSV_HEADER],
  };
}

describe("restore plan document", () => {
  it("is a header line, then one line per user, and reads back as written", () => {
    const stored = aPlan();
    const lines = [...restorePlanLines(stored)];
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => line.endsWith("\n") && line.indexOf("\n") === line.length - 1)).toBe(true);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ version: RESTORE_PLAN_VERSION, users: 2 });
    expect(parseRestorePlan(lines.join(""))).toEqual(stored);
  });

  it("keeps admin-create users' records, and reads them back", () => {
    const user = aUser({ groups: ["staff"], mfaEnabled: true, createdAt: undefined, modifiedAt: undefined });
    const stored: StoredRestorePlan = {
      ...aPlan({
        strategy: "admin-create",
        users: [{ username: user.username, sub: user.sub, groups: user.groups, enabled: true, user }],
      }),
      chunks: [{ index: 1, users: 1 }],
    };
    expect(parseRestorePlan(serializeRestorePlan(stored))).toEqual(stored);
  });

  it("refuses, while writing, a user without what its strategy needs: nothing a resume would refuse", () => {
    const stored = aPlan();
    const [first, second] = stored.plan.users;
    const broken = aPlan({ users: [first!, { ...second!, row: undefined }] });
    expect(() => serializeRestorePlan(broken)).toThrow(
      expect.objectContaining({ code: "RESTORE.STATE_MALFORMED", field: "users[1].row" }),
    );
  });

  it("refuses a document whose user lines are fewer than its header says, naming the field", () => {
    const text = serializeRestorePlan(aPlan());
    const cut = text.slice(0, text.lastIndexOf("\n", text.length - 2) + 1);
    expect(() => parseRestorePlan(cut, "restores/restore-1/plan.jsonl.gz")).toThrow(
      expect.objectContaining({
        code: "RESTORE.STATE_MALFORMED",
        field: "restores/restore-1/plan.jsonl.gz: users",
      }),
    );
  });

  it("refuses a plan written by an earlier release with a message that says what to do", () => {
    const text = JSON.stringify({ format: "cognito-user-lifecycle/restore-plan", version: 1, users: [] });
    expect(() => parseRestorePlan(text)).toThrow(
      expect.objectContaining({
        code: "RESTORE.STATE_MALFORMED",
        field: "version",
        message: expect.stringContaining("start the restore again"),
      }),
    );
  });

  it("names a bad user line by its index, never quoting its values", () => {
    const lines = [...restorePlanLines(aPlan())];
    lines[2] = `${JSON.stringify({ ...JSON.parse(lines[2] ?? ""), enabled: "yes" })}\n`;
    const error = (() => {
      try {
        parseRestorePlan(lines.join(""));
      } catch (caught) {
        return caught as Error & { field?: string };
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: "RESTORE.STATE_MALFORMED", field: "users[1].enabled" });
    expect(error?.message).not.toContain("@example.com");
  });
});
