import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LifecycleError, ValidationError } from "../errors.js";
import { arbBackupRecord, arbSnapshotManifest } from "../testing/arbitraries.js";
import { aBackupRecord, editedAt, REMOVE } from "../testing/backup.js";
import { aUser } from "../testing/builders.js";
import { type BackupRecord, serializeBackupRecord } from "./backup-record.js";
import {
  type CompletedPart,
  describePart,
  forEachSnapshotRecord,
  parseManifest,
  parseSnapshotPart,
  type SnapshotManifest,
  type SnapshotPartLimits,
  SnapshotPartWriter,
  serializeManifest,
  serializeSnapshotLine,
  snapshotIdFor,
  snapshotPartName,
  utf8ByteLength,
  verifyPart,
} from "./snapshot.js";
import { errorOf as errorOfKind } from "../testing/errors.js";

function errorOf(action: () => unknown): LifecycleError {
  return errorOfKind(action, LifecycleError);
}

/** Every part the writer produces for `records`, the last one included. */
function writeAll(records: readonly BackupRecord[], limits: SnapshotPartLimits): CompletedPart[] {
  const writer = new SnapshotPartWriter(limits);
  const parts: CompletedPart[] = [];
  for (const record of records) {
    const closed = writer.add(record);
    if (closed) parts.push(closed);
  }
  const last = writer.finish();
  if (last) parts.push(last);
  expect(writer.parts).toEqual(parts.map(({ text: _, ...entry }) => entry));
  return parts;
}

function records(count: number): BackupRecord[] {
  return Array.from({ length: count }, () => aBackupRecord());
}

describe("snapshotPartName", () => {
  it("numbers parts from 1 with names that sort as text in part order", () => {
    expect(snapshotPartName(1)).toBe("part-00001.jsonl");
    expect(snapshotPartName(12_345)).toBe("part-12345.jsonl");
    const names = [1, 2, 9, 10, 11, 99, 100, 1000, 99_999].map(snapshotPartName);
    expect([...names].sort()).toEqual(names);
  });

  it.each([0, -1, 1.5, 100_000, Number.NaN])("refuses index %s", (index) => {
    expect(errorOf(() => snapshotPartName(index)).code).toBe("SNAPSHOT.INVALID_LIMIT");
  });
});

describe("snapshotIdFor", () => {
  it("is the start time with key-safe separators", () => {
    expect(snapshotIdFor(new Date("2026-11-21T05:38:54.123Z"))).toBe("2026-11-21T05-38-54-123Z");
  });

  it("sorts as text in time order (property)", () => {
    const arbTime = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) });
    fc.assert(
      fc.property(arbTime, arbTime, (a, b) => {
        const [ia, ib] = [snapshotIdFor(new Date(a)), snapshotIdFor(new Date(b))];
        expect(ia).toMatch(/^[0-9A-Z-]+$/);
        expect(ia < ib).toBe(a < b);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses an invalid date", () => {
    expect(errorOf(() => snapshotIdFor(new Date(Number.NaN))).code).toBe("SNAPSHOT.MALFORMED");
  });
});

describe("SnapshotPartWriter", () => {
  it("splits by record count, returning each part when the next record opens a new one", () => {
    const writer = new SnapshotPartWriter({ maxRecordsPerPart: 2 });
    const input = records(5);
    const returned = input.map((record) => writer.add(record)?.name);
    expect(returned).toEqual([undefined, undefined, "part-00001.jsonl", undefined, "part-00002.jsonl"]);
    const last = writer.finish();
    expect(last).toMatchObject({ name: "part-00003.jsonl", records: 1 });
    expect(writer.parts.map((p) => p.records)).toEqual([2, 2, 1]);
  });

  it("splits by bytes, never past the limit", () => {
    const input = records(5);
    const lineBytes = input.map((r) => Buffer.byteLength(serializeSnapshotLine(r), "utf8"));
    const twoLines = Math.max(...lineBytes) * 2;
    const parts = writeAll(input, { maxBytesPerPart: twoLines });
    expect(parts.map((p) => p.records)).toEqual([2, 2, 1]);
    for (const part of parts) expect(part.bytes).toBeLessThanOrEqual(twoLines);
  });

  it("puts a record larger than the byte limit alone in its part", () => {
    const big = aBackupRecord({ user: aUser({ attributes: { name: "x".repeat(2000) } }) });
    const parts = writeAll([aBackupRecord(), big, aBackupRecord()], { maxBytesPerPart: 1500 });
    expect(parts.map((p) => p.records)).toEqual([1, 1, 1]);
    expect(parts[1]?.bytes).toBeGreaterThan(1500);
  });

  it("uses 50,000 records and 64 MiB by default", () => {
    const writer = new SnapshotPartWriter();
    const record = aBackupRecord();
    for (let i = 0; i < 50_000; i++) expect(writer.add(record)).toBeUndefined();
    expect(writer.add(record)).toMatchObject({ name: "part-00001.jsonl", records: 50_000 });
  });

  it("produces no part at all for no records", () => {
    const writer = new SnapshotPartWriter();
    expect(writer.finish()).toBeUndefined();
    expect(writer.parts).toEqual([]);
  });

  it("describes each part by the size and SHA-256 of its UTF-8 text", () => {
    const hostile = aBackupRecord({ user: aUser({ attributes: { name: "名前 😀 \u2028 \ud800" } }) });
    const [part] = writeAll([hostile, aBackupRecord()], {});
    if (!part) throw new Error("no part");
    expect(part.text.endsWith("\n")).toBe(true);
    expect(part.text.split("\n")).toHaveLength(3);
    expect(part.bytes).toBe(Buffer.byteLength(part.text, "utf8"));
    expect(part.sha256).toBe(createHash("sha256").update(Buffer.from(part.text, "utf8")).digest("hex"));
  });

  it("refuses limits that are not positive integers", () => {
    for (const limits of [{ maxRecordsPerPart: 0 }, { maxBytesPerPart: -1 }, { maxRecordsPerPart: 1.5 }]) {
      expect(errorOf(() => new SnapshotPartWriter(limits))).toBeInstanceOf(ValidationError);
      expect(errorOf(() => new SnapshotPartWriter(limits)).code).toBe("SNAPSHOT.INVALID_LIMIT");
    }
  });

  it("refuses records after finish", () => {
    const writer = new SnapshotPartWriter();
    writer.add(aBackupRecord());
    writer.finish();
    expect(errorOf(() => writer.add(aBackupRecord())).code).toBe("SNAPSHOT.MALFORMED");
    expect(writer.finish()).toBeUndefined();
  });

  it("gives back exactly the records in order when its parts are read, within the limits (property)", () => {
    fc.assert(
      fc.property(
        fc.array(arbBackupRecord(), { maxLength: 25 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 200, max: 4000 }),
        (input, maxRecordsPerPart, maxBytesPerPart) => {
          const parts = writeAll(input, { maxRecordsPerPart, maxBytesPerPart });
          const read = parts.flatMap((part) => {
            verifyPart(part, part.text);
            expect(part.records).toBeGreaterThan(0);
            expect(part.records).toBeLessThanOrEqual(maxRecordsPerPart);
            if (part.records > 1) expect(part.bytes).toBeLessThanOrEqual(maxBytesPerPart);
            return parseSnapshotPart(part.text, part.name);
          });
          expect(read).toEqual(input);
          expect(parts.map((p) => p.name)).toEqual(parts.map((_, i) => snapshotPartName(i + 1)));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("utf8ByteLength", () => {
  it("counts as Node's UTF-8 encoder does, lone surrogates included (property)", () => {
    const arbText = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
    );
    fc.assert(
      fc.property(arbText, (text) => {
        expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, "utf8"));
      }),
      { numRuns: 300 },
    );
  });
});

describe("parseSnapshotPart", () => {
  const lines = records(3).map(serializeSnapshotLine);

  it("names the part and line of a bad record", () => {
    const damaged = editedAt(JSON.parse(lines[1] ?? ""), "user.UserStatus", "ACTIVE");
    const text = [lines[0], `${JSON.stringify(damaged)}\n`, lines[2]].join("");
    expect(errorOf(() => parseSnapshotPart(text, "part-00003.jsonl"))).toMatchObject({
      code: "BACKUP.MALFORMED",
      field: "part-00003.jsonl line 2: user.UserStatus",
    });
  });

  it("refuses a truncated part and an empty line", () => {
    const truncated = lines.join("").slice(0, -1);
    expect(errorOf(() => parseSnapshotPart(truncated, "part-00001.jsonl"))).toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: "part-00001.jsonl line 3",
    });
    const cut = lines.join("").slice(0, -20);
    expect(errorOf(() => parseSnapshotPart(cut, "part-00001.jsonl"))).toMatchObject({
      field: "part-00001.jsonl line 3",
    });
    const blank = [lines[0], "\n", lines[1]].join("");
    expect(errorOf(() => parseSnapshotPart(blank, "part-00001.jsonl"))).toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: "part-00001.jsonl line 2",
    });
  });

  it("reads an empty part as no records", () => {
    expect(parseSnapshotPart("", "part-00001.jsonl")).toEqual([]);
  });
});

describe("forEachSnapshotRecord", () => {
  it("hands over the records parseSnapshotPart reads, in order", () => {
    fc.assert(
      fc.property(fc.array(arbBackupRecord(), { maxLength: 5 }), (list) => {
        const text = list.map(serializeSnapshotLine).join("");
        const seen: BackupRecord[] = [];
        forEachSnapshotRecord(text, "part-00001.jsonl", (record) => seen.push(record));
        expect(seen).toEqual(parseSnapshotPart(text, "part-00001.jsonl"));
      }),
    );
  });

  it("refuses a truncated part before handing over any record", () => {
    const text = records(3).map(serializeSnapshotLine).join("").slice(0, -1);
    let handed = 0;
    const error = errorOf(() => forEachSnapshotRecord(text, "part-00002.jsonl", () => (handed += 1)));
    expect(error).toMatchObject({ code: "SNAPSHOT.MALFORMED", field: "part-00002.jsonl line 3" });
    expect(handed).toBe(0);
  });
});

describe("verifyPart", () => {
  const [part] = writeAll(records(3), {});
  if (!part) throw new Error("no part");

  it("accepts the text it was written with", () => {
    expect(() => verifyPart(part, part.text)).not.toThrow();
  });

  it("catches a changed byte, naming the part", () => {
    const index = part.text.indexOf("CONFIRMED");
    const changed = `${part.text.slice(0, index)}D${part.text.slice(index + 1)}`;
    expect(changed).toHaveLength(part.text.length);
    const error = errorOf(() => verifyPart(part, changed));
    expect(error.code).toBe("SNAPSHOT.CHECKSUM_MISMATCH");
    expect(error.message).toContain(part.name);
    expect(error.details).toMatchObject({ part: part.name, expectedSha256: part.sha256 });
  });

  it("catches a missing or added byte by size", () => {
    for (const text of [part.text.slice(1), `${part.text} `]) {
      expect(errorOf(() => verifyPart(part, text))).toMatchObject({
        code: "SNAPSHOT.CHECKSUM_MISMATCH",
        details: { part: part.name, expectedBytes: part.bytes },
      });
    }
  });
});

describe("manifest", () => {
  const sha = "0".repeat(64);
  function aManifest(): SnapshotManifest {
    return {
      version: 1,
      snapshotId: "2026-11-21T05-38-54-123Z",
      userPoolId: "eu-west-1_AbCdEf123",
      startedAt: new Date("2026-11-21T05:38:54.123Z"),
      completedAt: new Date("2026-11-21T05:40:00.000Z"),
      userCount: 5,
      groups: [{ name: "admins", description: "Administrators", precedence: 0 }, { name: "staff" }],
      parts: [
        { name: "part-00001.jsonl", records: 3, bytes: 3000, sha256: sha },
        { name: "part-00002.jsonl", records: 2, bytes: 2000, sha256: sha },
      ],
    };
  }
  function wire(): unknown {
    return JSON.parse(serializeManifest(aManifest()));
  }

  it("reads back exactly what was written (property)", () => {
    fc.assert(
      fc.property(arbSnapshotManifest(), (manifest) => {
        expect(parseManifest(serializeManifest(manifest))).toEqual(manifest);
      }),
      { numRuns: 200 },
    );
  });

  it("writes readable JSON with the format and dates in ISO 8601", () => {
    const text = serializeManifest(aManifest());
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toMatchObject({
      format: "cognito-user-lifecycle/snapshot",
      version: 1,
      startedAt: "2026-11-21T05:38:54.123Z",
      groups: [{ name: "admins", description: "Administrators", precedence: 0 }, { name: "staff" }],
    });
  });

  const damaged: [description: string, path: string, edit: unknown, field?: string][] = [
    ["an unknown format", "format", "cognito-user-lifecycle/backup"],
    ["another version", "version", 3],
    ["an unknown field", "owner", "ops"],
    ["a snapshot id with a path separator", "snapshotId", "../other"],
    ["an over-long user pool id", "userPoolId", `eu-west-1_${"x".repeat(50)}`],
    ["a bad start date", "startedAt", "yesterday"],
    ["completion before start", "completedAt", "2026-11-21T05:38:54.122Z"],
    ["a negative user count", "userCount", -5],
    ["a user count that is not the sum of the parts", "userCount", 6],
    ["a fractional record count", "parts[0].records", 2.5],
    ["a negative record count", "parts[1].records", -1],
    ["a byte count given as text", "parts[0].bytes", "3000"],
    ["a short sha256", "parts[1].sha256", "abc"],
    ["an uppercase sha256", "parts[0].sha256", "A".repeat(64)],
    ["a repeated part name", "parts[1].name", "part-00001.jsonl"],
    ["parts out of order", "parts", (parts: unknown[]) => [...parts].reverse(), "parts[0].name"],
    ["a missing part", "parts[0]", REMOVE, "parts[0].name"],
    ["a part name that is a path", "parts[0].name", "../part-00001.jsonl"],
    ["a missing part field", "parts[0].sha256", REMOVE],
    ["a duplicate group", "groups[1].name", "admins"],
    ["a negative group precedence", "groups[0].precedence", -1],
    ["an unknown group field", "groups[0].GroupName", "admins"],
  ];

  it.each(damaged)("rejects %s, naming the field", (_, path, edit, field = path) => {
    const w = editedAt(wire(), path, edit);
    expect(errorOf(() => parseManifest(JSON.stringify(w), "snapshots/x/manifest.json"))).toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: `snapshots/x/manifest.json: ${field}`,
    });
    expect(errorOf(() => parseManifest(w))).toMatchObject({ field });
  });

  it("rejects invalid JSON naming the location", () => {
    expect(errorOf(() => parseManifest("{", "snapshots/x/manifest.json"))).toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: "snapshots/x/manifest.json",
    });
  });

  it("refuses to write a manifest a restore would refuse", () => {
    expect(errorOf(() => serializeManifest({ ...aManifest(), userCount: 4 }))).toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: "userCount",
    });
  });

  it("accepts a manifest built from the writer's parts", () => {
    const input = records(5);
    const parts = writeAll(input, { maxRecordsPerPart: 2 });
    const manifest: SnapshotManifest = {
      ...aManifest(),
      userCount: input.length,
      parts: parts.map(({ text: _, ...entry }) => entry),
    };
    expect(parseManifest(serializeManifest(manifest))).toEqual(manifest);
    for (const part of parts) expect(parseSnapshotPart(part.text, part.name)).toHaveLength(part.records);
    expect(serializeBackupRecord(input[0] as BackupRecord)).toBe(parts[0]?.text.split("\n")[0]);
  });
});

describe("describePart", () => {
  it("describes a text as the writer would", () => {
    const [part] = writeAll(records(4), {});
    if (!part) throw new Error("no part");
    const { text, ...entry } = part;
    expect(describePart(part.name, text)).toEqual(entry);
  });

  it("describes an empty part, and refuses text cut mid-line", () => {
    expect(describePart("part-00002.jsonl", "")).toMatchObject({ records: 0, bytes: 0 });
    expect(errorOf(() => describePart("part-00002.jsonl", "{}"))).toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: "part-00002.jsonl",
    });
  });
});

describe("manifest version 2", () => {
  const sha = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
  const part = (partition: string, n: number, records: number) => {
    const name = `p-${partition}/part-0000${n}.jsonl`;
    return {
      name,
      records,
      bytes: records * 10,
      sha256: sha(name),
      index: { name: name.replace(/\.jsonl$/, ".ids"), bytes: records * 37, sha256: sha(`${name}.ids`) },
    };
  };
  const v2 = (): SnapshotManifest => ({
    version: 2,
    snapshotId: "2026-06-01T02-00-00-000Z",
    userPoolId: "eu-west-1_Pool",
    startedAt: new Date("2026-06-01T02:00:00.000Z"),
    completedAt: new Date("2026-06-01T02:10:00.000Z"),
    userCount: 6,
    groups: [{ name: "admins", precedence: 1 }, { name: "staff" }],
    parts: [part("0", 1, 2), part("0", 2, 1), part("a", 1, 3)],
    groupFiles: [
      { name: "groups/00001-01-00001.jsonl", group: "admins", members: 2, bytes: 20, sha256: sha("a") },
      { name: "groups/00001-02-00001.jsonl", group: "staff", members: 1, bytes: 10, sha256: sha("b") },
    ],
    membershipCount: 3,
  });

  it("reads back what it writes, and still reads version 1", () => {
    expect(parseManifest(serializeManifest(v2()))).toEqual(v2());
    const v1: SnapshotManifest = {
      version: 1,
      snapshotId: "2026-06-01T02-00-00-000Z",
      userPoolId: "eu-west-1_Pool",
      startedAt: new Date("2026-06-01T02:00:00.000Z"),
      completedAt: new Date("2026-06-01T02:10:00.000Z"),
      userCount: 1,
      groups: [],
      parts: [{ name: "part-00001.jsonl", records: 1, bytes: 10, sha256: sha("x") }],
    };
    expect(parseManifest(serializeManifest(v1))).toEqual(v1);
  });

  it("rejects partitions out of order", () => {
    const wire = JSON.parse(serializeManifest(v2())) as { parts: unknown[] };
    wire.parts = [wire.parts[2], wire.parts[0], wire.parts[1]];
    expect(errorOf(() => parseManifest(JSON.stringify(wire), "m.json"))).toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: "m.json: parts[1].name",
    });
  });

  const damaged: [description: string, path: string, edit: unknown, field: string][] = [
    ["a gap in a partition's numbering", "parts.1.name", "p-0/part-00003.jsonl", "parts[1].name"],
    ["a part without its index", "parts.0.index", REMOVE, "parts[0].index"],
    ["an index of another part", "parts.0.index.name", "p-0/part-00002.ids", "parts[0].index.name"],
    ["a group file of an unknown group", "groupFiles.0.group", "nobody", "groupFiles[0].group"],
    ["a group file named like a key elsewhere", "groupFiles.0.name", "../users/x.json", "groupFiles[0].name"],
    ["a membership count the files do not hold", "membershipCount", 4, "membershipCount"],
    ["an unknown field in a part", "parts.0.owner", "ops", "parts[0].owner"],
  ];
  it.each(damaged)("rejects %s, naming the field", (_, path, edit, field) => {
    const wire = JSON.parse(serializeManifest(v2())) as unknown;
    const w = editedAt(wire as Record<string, unknown>, path, edit);
    expect(errorOf(() => parseManifest(JSON.stringify(w), "m.json"))).toMatchObject({
      code: "SNAPSHOT.MALFORMED",
      field: `m.json: ${field}`,
    });
  });
});
