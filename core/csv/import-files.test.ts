import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { aUser } from "../testing/builders.js";
import { A_POOL_CSV_HEADER, anImportHeader } from "../testing/csv.js";
import { makeUser, stableUserId, USER_STATUSES, type User } from "../user/user.js";
import { formatCsvRow, parseCsv } from "./escape.js";
import {
  COGNITO_IMPORT_FILE_LIMITS,
  type CsvFileSink,
  collectImportFiles,
  type ImportFileInfo,
  writeImportFiles,
} from "./import-files.js";

const header = anImportHeader();
const headerLine = `${formatCsvRow(header.columns)}\n`;
const bytes = (text: string): number => Buffer.byteLength(text, "utf8");

function usersNamed(...names: string[]): User[] {
  return names.map((username) => aUser({ username }));
}

function dataRows(text: string): Record<string, string>[] {
  const [columns, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(row.map((value, i) => [columns?.[i] ?? "", value])));
}

describe("writeImportFiles — one file", () => {
  it("writes the header line, then one line per user, each ending with LF, and no byte order mark", async () => {
    const { files, summary } = await collectImportFiles(header, usersNamed("ann", "bob", "cid"));
    expect(files).toHaveLength(1);
    const text = files[0]?.text ?? "";
    expect(text.startsWith(headerLine)).toBe(true);
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    expect(
      Buffer.from(text, "utf8")
        .subarray(0, 3)
        .equals(Buffer.from([0xef, 0xbb, 0xbf])),
    ).toBe(false);
    expect(text.endsWith("\n")).toBe(true);
    expect(text).not.toContain("\r");
    expect(dataRows(text).map((row) => row["cognito:username"])).toEqual(["ann", "bob", "cid"]);
    expect(summary).toMatchObject({ rows: 3, skipped: [], skippedByReason: {} });
    expect(summary.files).toEqual([{ index: 1, users: 3, bytes: bytes(text) }]);
  });

  it("starts no file when no user can be written", async () => {
    const sinkCalls: string[] = [];
    const summary = await writeImportFiles(header, [aUser({ status: "UNCONFIRMED" })], {
      startFile: () => void sinkCalls.push("start"),
      write: () => void sinkCalls.push("write"),
      endFile: () => void sinkCalls.push("end"),
    });
    expect(sinkCalls).toEqual([]);
    expect(summary.files).toEqual([]);
    expect(summary.rows).toBe(0);
    expect(summary.skippedByReason).toEqual({ UNCONFIRMED: 1 });
  });

  it("reads users from an async iterable and awaits a slow sink, in order", async () => {
    async function* users() {
      for (const user of usersNamed("ann", "bob")) yield user;
    }
    const calls: string[] = [];
    const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
    const sink: CsvFileSink = {
      startFile: async (index) => {
        await tick();
        calls.push(`start ${index}`);
      },
      write: async (chunk) => {
        await tick();
        calls.push(chunk === headerLine ? "header" : `row ${chunk.split(",").at(-1)?.trim()}`);
      },
      endFile: async (info) => {
        await tick();
        calls.push(`end ${info.index} ${info.users}`);
      },
    };
    await writeImportFiles(header, users(), sink);
    expect(calls).toEqual(["start 1", "header", "row ann", "row bob", "end 1 2"]);
  });
});

describe("writeImportFiles — skipped users", () => {
  it("skips a second user with the same username, also across files, and keeps the first", async () => {
    const first = aUser({ username: "ann", sub: "00000000-0000-4000-8000-00000000000a" });
    const second = aUser({ username: "ann", sub: "00000000-0000-4000-8000-00000000000b" });
    const { files, summary } = await collectImportFiles(header, [first, aUser({ username: "bob" }), second], {
      maxUsersPerFile: 1,
    });
    expect(files).toHaveLength(2);
    expect(dataRows(files[0]?.text ?? "")[0]?.["custom:legacy_sub"]).toBe(first.sub);
    expect(summary.skipped).toEqual([
      { username: "ann", reason: "DUPLICATE_USERNAME", detail: expect.stringContaining("cognito:username") },
    ]);
  });

  it("writes a username again when its first user was skipped", async () => {
    const { summary } = await collectImportFiles(header, [
      aUser({ username: "ann", status: "UNCONFIRMED" }),
      aUser({ username: "ann" }),
    ]);
    expect(summary.rows).toBe(1);
    expect(summary.skippedByReason).toEqual({ UNCONFIRMED: 1 });
  });

  it("counts skipped users by reason and dropped attributes by name", async () => {
    const { summary } = await collectImportFiles(header, [
      aUser({ status: "UNCONFIRMED" }),
      aUser({ status: "UNCONFIRMED" }),
      aUser({ status: "EXTERNAL_PROVIDER" }),
      aUser({ attributes: { "custom:tenant": "acme" } }),
      aUser({ attributes: { "custom:tenant": "acme", "custom:plan": "pro" } }),
      aUser({ status: "UNCONFIRMED", attributes: { "custom:plan": "pro" } }),
    ]);
    expect(summary.skippedByReason).toEqual({ UNCONFIRMED: 3, EXTERNAL_PROVIDER: 1 });
    // Only users actually written lose attributes; the skipped one with custom:plan is reported as skipped.
    expect(summary.droppedAttributes).toEqual({ "custom:tenant": 2, "custom:plan": 1 });
    expect(summary.rows).toBe(2);
  });

  it("skips a row that cannot fit even in an empty file", async () => {
    const small = aUser({ username: "ann" });
    const large = aUser({ username: "bob", attributes: { address: "x".repeat(500) } });
    const { summary } = await collectImportFiles(header, [small, large], {
      maxBytesPerFile: bytes(headerLine) + 300,
    });
    expect(summary.rows).toBe(1);
    expect(summary.skipped).toEqual([
      { username: "bob", reason: "ROW_TOO_LONG", detail: expect.stringContaining("bytes") },
    ]);
  });
});

describe("writeImportFiles — splitting", () => {
  it("starts a new file, with the header again, when the next user would exceed maxUsersPerFile", async () => {
    const { files, summary } = await collectImportFiles(header, usersNamed("a1", "a2", "a3", "a4", "a5"), {
      maxUsersPerFile: 2,
    });
    expect(files.map((file) => file.info.users)).toEqual([2, 2, 1]);
    expect(files.map((file) => file.info.index)).toEqual([1, 2, 3]);
    for (const file of files) {
      expect(file.text.startsWith(headerLine)).toBe(true);
      expect(file.info.bytes).toBe(bytes(file.text));
    }
    expect(files.flatMap((file) => dataRows(file.text).map((row) => row["cognito:username"]))).toEqual([
      "a1",
      "a2",
      "a3",
      "a4",
      "a5",
    ]);
    expect(summary.files).toEqual(files.map((file) => file.info));
  });

  it("starts a new file only when the next row would exceed maxBytesPerFile, counting UTF-8 bytes", async () => {
    const users = ["Zoë", "日本語", "😀😀", "Ann", "Bo", "Émile"].map((name, i) =>
      aUser({ username: `user-${i}`, attributes: { given_name: name } }),
    );
    const rowBytes = (await collectImportFiles(header, users)).files[0]?.info.bytes ?? 0;
    const averageRow = (rowBytes - bytes(headerLine)) / users.length;
    const maxBytesPerFile = Math.floor(bytes(headerLine) + averageRow * 2.5);

    const { files } = await collectImportFiles(header, users, { maxBytesPerFile });
    expect(files.length).toBeGreaterThan(1);
    const rowsOf = (text: string) => text.slice(headerLine.length).split(/(?<=\n)/);
    for (const [i, file] of files.entries()) {
      expect(file.text.startsWith(headerLine)).toBe(true);
      expect(file.info.bytes).toBe(bytes(file.text));
      expect(file.info.bytes).toBeLessThanOrEqual(maxBytesPerFile);
      const next = files[i + 1];
      if (next) {
        // The file was closed only because the next row did not fit.
        const nextRow = rowsOf(next.text)[0] ?? "";
        expect(file.info.bytes + bytes(nextRow)).toBeGreaterThan(maxBytesPerFile);
      }
    }
    expect(files.reduce((sum, file) => sum + file.info.users, 0)).toBe(users.length);
  });

  it("keeps every file within any byte limit, and closes a file only when the next row does not fit", async () => {
    const nameArb = fc
      .string({ unit: "grapheme", maxLength: 40 })
      .map((name) => name.replace(/[\s"\\]/gu, ""));
    await fc.assert(
      fc.asyncProperty(fc.array(nameArb, { minLength: 1, maxLength: 15 }), fc.nat(), async (names, slack) => {
        const users = names.map((name, i) =>
          aUser({ username: `user-${i}`, attributes: { given_name: name } }),
        );
        const lines = ((await collectImportFiles(header, users)).files[0]?.text ?? "")
          .split(/(?<=\n)/)
          .slice(1);
        const largest = Math.max(...lines.map(bytes));
        const total = lines.reduce((sum, line) => sum + bytes(line), 0);
        const maxBytesPerFile = bytes(headerLine) + largest + (slack % (total - largest + 1));

        const { files } = await collectImportFiles(header, users, { maxBytesPerFile });
        files.forEach((file, i) => {
          expect(file.info.bytes).toBe(bytes(file.text));
          expect(file.info.bytes).toBeLessThanOrEqual(maxBytesPerFile);
          const next = files[i + 1];
          const nextRow = next?.text.slice(headerLine.length).split(/(?<=\n)/)[0];
          if (nextRow !== undefined)
            expect(file.info.bytes + bytes(nextRow)).toBeGreaterThan(maxBytesPerFile);
        });
        expect(files.map((file) => file.text.slice(headerLine.length)).join("")).toBe(lines.join(""));
      }),
      { numRuns: 100 },
    );
  });

  it("fills a file up to exactly maxBytesPerFile", async () => {
    const users = usersNamed("u1", "u2", "u3", "u4");
    const whole = (await collectImportFiles(header, users)).files[0]?.text ?? "";
    const twoRows = whole
      .split(/(?<=\n)/)
      .slice(0, 3)
      .join("");
    const { files } = await collectImportFiles(header, users, { maxBytesPerFile: bytes(twoRows) });
    expect(files.map((file) => file.info.users)).toEqual([2, 2]);
    expect(files[0]?.text).toBe(twoRows);
  });
});

describe("writeImportFiles — limits", () => {
  const neverCalled: CsvFileSink = {
    startFile: () => {
      throw new Error("sink called");
    },
    write: () => {
      throw new Error("sink called");
    },
    endFile: () => {
      throw new Error("sink called");
    },
  };

  it("defaults to Cognito's limits", () => {
    expect(COGNITO_IMPORT_FILE_LIMITS).toEqual({ maxUsersPerFile: 500_000, maxBytesPerFile: 100_000_000 });
  });

  it.each([
    ["maxUsersPerFile", 0],
    ["maxUsersPerFile", -1],
    ["maxUsersPerFile", 1.5],
    ["maxUsersPerFile", Number.NaN],
    ["maxUsersPerFile", 500_001],
    ["maxBytesPerFile", 0],
    ["maxBytesPerFile", 100_000_001],
    ["maxBytesPerFile", Number.POSITIVE_INFINITY],
  ] as const)("refuses %s = %s before calling the sink", async (key, value) => {
    const attempt = writeImportFiles(header, usersNamed("ann"), neverCalled, { [key]: value });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toMatchObject({ code: "CSV.LIMIT_EXCEEDED", field: `limits.${key}` });
  });

  it("refuses a byte limit that leaves no room after the header", async () => {
    const attempt = writeImportFiles(header, usersNamed("ann"), neverCalled, {
      maxBytesPerFile: bytes(headerLine),
    });
    await expect(attempt).rejects.toMatchObject({
      code: "CSV.LIMIT_EXCEEDED",
      field: "limits.maxBytesPerFile",
    });
  });

  it("accepts Cognito's own limits explicitly", async () => {
    const { summary } = await collectImportFiles(header, usersNamed("ann"), COGNITO_IMPORT_FILE_LIMITS);
    expect(summary.rows).toBe(1);
  });
});

describe("writeImportFiles — properties", () => {
  // Weighted towards importable users so most runs write rows, with every kind of problem still present.
  const often = <T>(likely: fc.Arbitrary<T>, rarely: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: likely, weight: 4 }, { arbitrary: rarely, weight: 1 });
  const valueArb = often(
    fc.oneof(fc.constant(""), fc.string({ maxLength: 30 }), fc.string({ unit: "grapheme", maxLength: 30 })),
    fc.constantFrom("a, b", "tab\there", " padded ", 'say "hi"', "back\\slash", "line\nbreak", "😀"),
  );
  const userArb = fc
    .record({
      username: fc.oneof(
        { arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }), weight: 3 },
        { arbitrary: fc.constantFrom("ann", "bob", "ann@example.com", "a,b"), weight: 2 },
        { arbitrary: fc.constantFrom("jane roe", "", 'x"y'), weight: 1 },
      ),
      sub: fc.uuid(),
      status: often(
        fc.constantFrom("CONFIRMED", "RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"),
        fc.constantFrom(...USER_STATUSES),
      ),
      mfaEnabled: fc.boolean(),
      email: often(fc.constant("ann@example.com"), fc.constant("")),
      emailVerified: often(fc.constantFrom("true", "TRUE"), fc.constantFrom("false", "", "yes")),
      phone: often(fc.constantFrom("", "+12065551212"), fc.constant("206-555-1212")),
      phoneVerified: fc.constantFrom("true", "false", ""),
      legacySub: fc.option(fc.uuid(), { nil: undefined }),
      name: valueArb,
      address: valueArb,
      extra: valueArb,
    })
    .map((u) =>
      makeUser({
        username: u.username,
        sub: u.sub,
        status: u.status,
        mfaEnabled: u.mfaEnabled,
        attributes: {
          email: u.email,
          email_verified: u.emailVerified,
          phone_number: u.phone,
          phone_number_verified: u.phoneVerified,
          name: u.name,
          address: u.address,
          "custom:extra": u.extra,
          ...(u.legacySub ? { "custom:legacy_sub": u.legacySub } : {}),
        },
      }),
    );

  it("writes exactly one row per user not skipped, with username and legacy sub intact", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(userArb, { maxLength: 25 }),
        fc.integer({ min: 1, max: 6 }),
        async (users, maxUsersPerFile) => {
          const { files, summary } = await collectImportFiles(header, users, { maxUsersPerFile });

          const rows = files.flatMap((file) => {
            const [fileHeader, ...body] = parseCsv(file.text);
            expect(fileHeader).toEqual(A_POOL_CSV_HEADER);
            expect(body.length).toBe(file.info.users);
            expect(file.info.users).toBeLessThanOrEqual(maxUsersPerFile);
            for (const row of body) expect(row).toHaveLength(A_POOL_CSV_HEADER.length);
            return body.map((row) =>
              Object.fromEntries(row.map((value, i) => [A_POOL_CSV_HEADER[i], value])),
            );
          });

          // Nothing silently dropped: every input user is either a row or a skipped entry.
          expect(rows.length).toBe(summary.rows);
          expect(rows.length + summary.skipped.length).toBe(users.length);
          const accounted = [
            ...rows.map((row) => row["cognito:username"] ?? ""),
            ...summary.skipped.map((skipped) => skipped.username),
          ].sort();
          expect(accounted).toEqual(users.map((user) => user.username).sort());

          // Each row belongs to an importable input user with that username, whose stable id it carries.
          const usernames = rows.map((row) => row["cognito:username"]);
          expect(new Set(usernames).size).toBe(usernames.length);
          for (const row of rows) {
            const candidates = users.filter(
              (user) =>
                user.username === row["cognito:username"] &&
                ["CONFIRMED", "RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"].includes(user.status),
            );
            expect(candidates.map(stableUserId)).toContain(row["custom:legacy_sub"]);
          }
          const counted = Object.values(summary.skippedByReason).reduce((sum, n) => sum + (n ?? 0), 0);
          expect(counted).toBe(summary.skipped.length);
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe("writeImportFiles — streaming", () => {
  it("streams 20,000 users through a counting sink, writing each row before reading the next user", async () => {
    const total = 20_000;
    let produced = 0;
    let rowsWritten = 0;
    let maxLag = 0;
    function* lazyUsers(): Generator<User> {
      for (let i = 0; i < total; i += 1) {
        // A user is only produced once the previous one is already in the sink.
        maxLag = Math.max(maxLag, produced - rowsWritten);
        produced += 1;
        yield makeUser({
          username: `user-${i}`,
          sub: `00000000-0000-4000-8000-${i.toString().padStart(12, "0")}`,
          attributes: { email: `user-${i}@example.com`, email_verified: "true" },
        });
      }
    }
    let headers = 0;
    const ended: ImportFileInfo[] = [];
    const countingSink: CsvFileSink = {
      startFile: () => {},
      write: (chunk) => {
        if (chunk === headerLine) headers += 1;
        else rowsWritten += 1;
      },
      endFile: (info) => void ended.push(info),
    };

    const summary = await writeImportFiles(header, lazyUsers(), countingSink, { maxUsersPerFile: 7_000 });

    expect(maxLag).toBe(0);
    expect(rowsWritten).toBe(total);
    expect(summary.rows).toBe(total);
    expect(headers).toBe(3);
    expect(ended.map((info) => info.users)).toEqual([7_000, 7_000, 6_000]);
  });
});
