/**
 * Streams users into as many import files as Cognito's per-file limits require.
 *
 * "The maximum .csv file size is 100 MB" and "The maximum number of rows (users) in the file is 500,000. This
 * maximum doesn't include the header row." (Amazon Cognito developer guide, "Creating the user import .csv
 * file"). 100 MB is read as 100,000,000 bytes — the figure AWS's own import writer uses
 * (aws-solutions/cognito-user-profiles-export-reference-architecture, `maxUploadByteSize`) and the smaller of the
 * two readings, so a file is never too large whichever one Cognito applies.
 */
import { ValidationError } from "../errors.js";
import type { User } from "../user/user.js";
import { formatCsvRow } from "./escape.js";
import { type ImportHeader, USERNAME_COLUMN } from "./import-header.js";
import { droppedAttributesOf, importRowOf, type SkippedUser, type SkipReason } from "./map-user.js";

export interface ImportFileLimits {
  /** Rows per file, header excluded. At most 500,000. */
  maxUsersPerFile: number;
  /** UTF-8 bytes per file, header and line terminators included. At most 100,000,000. */
  maxBytesPerFile: number;
}

/** Cognito's own limits, the defaults and the upper bounds of {@link ImportFileLimits}. */
export const COGNITO_IMPORT_FILE_LIMITS: Readonly<ImportFileLimits> = Object.freeze({
  maxUsersPerFile: 500_000,
  maxBytesPerFile: 100_000_000,
});

export interface ImportFileInfo {
  /** 1 for the first file. */
  index: number;
  /** Rows in the file, header excluded. */
  users: number;
  /** UTF-8 bytes, header included. */
  bytes: number;
  /** Files are described by counts only: usernames may be email addresses. */
  usernames?: never;
}

/** Where files go. Every call is awaited before the next one, in the order startFile, write…, endFile. */
export interface CsvFileSink {
  startFile(index: number): void | Promise<void>;
  /** The header line first, then one row per call; every chunk is one line ending with "\n". */
  write(chunk: string): void | Promise<void>;
  endFile(file: ImportFileInfo): void | Promise<void>;
}

export interface ImportCsvSummary {
  files: ImportFileInfo[];
  /** Rows written across all files. `rows + skipped.length` is the number of users read. */
  rows: number;
  skipped: SkippedUser[];
  skippedByReason: Partial<Record<SkipReason, number>>;
  /** For each attribute name the header has no column for, how many written users lost it. */
  droppedAttributes: Record<string, number>;
}

/**
 * Maps each user (see `mapUserToRow`) and writes the rows to the sink, file after file. A file is closed and the
 * next one started — with the header again — before a row would take it over either limit. A user whose
 * username was already written is skipped as DUPLICATE_USERNAME ("must be unique within your user pool"), also
 * across files; the first one wins. A row too large for even an empty file is skipped as ROW_TOO_LONG. No file
 * is started when no user can be written. No byte order mark is ever written.
 *
 * Streams: holds one user and one row at a time, plus the set of usernames written (for the duplicate rule)
 * and the skipped users' descriptions.
 *
 * @throws ValidationError `CSV.LIMIT_EXCEEDED` (field `limits.maxUsersPerFile` or `limits.maxBytesPerFile`) for a
 *   limit that is not a positive integer, is above Cognito's, or leaves no room for a row after the header —
 *   before the sink is called. Errors thrown by the sink or by the users' iterator are passed on unchanged.
 */
export async function writeImportFiles(
  header: ImportHeader,
  users: AsyncIterable<User> | Iterable<User>,
  sink: CsvFileSink,
  limits: Partial<ImportFileLimits> = {},
): Promise<ImportCsvSummary> {
  const { maxUsersPerFile, maxBytesPerFile } = resolveLimits(limits);
  const headerLine = `${formatCsvRow(header.columns)}\n`;
  const headerBytes = utf8Length(headerLine);
  if (headerBytes >= maxBytesPerFile) {
    throw new ValidationError(
      "CSV.LIMIT_EXCEEDED",
      "limits.maxBytesPerFile",
      `leaves no room for a row after the ${headerBytes}-byte header line`,
    );
  }

  const files: ImportFileInfo[] = [];
  const skipped: SkippedUser[] = [];
  const skippedByReason: Partial<Record<SkipReason, number>> = {};
  const dropped = new Map<string, number>();
  const written = new Set<string>();
  let rows = 0;
  let current: ImportFileInfo | undefined;

  const skip = (entry: SkippedUser): void => {
    skipped.push(entry);
    skippedByReason[entry.reason] = (skippedByReason[entry.reason] ?? 0) + 1;
  };
  const closeFile = async (file: ImportFileInfo): Promise<void> => {
    await sink.endFile({ ...file });
    files.push(file);
  };

  for await (const user of users) {
    const mapped = importRowOf(header, user);
    if (mapped.kind === "skip") {
      skip(mapped.skipped);
      continue;
    }
    if (written.has(user.username)) {
      skip({
        username: user.username,
        reason: "DUPLICATE_USERNAME",
        detail: `${USERNAME_COLUMN}: already written for an earlier user`,
      });
      continue;
    }
    const row = mapped.text;
    const rowBytes = mapped.bytes;
    if (headerBytes + rowBytes > maxBytesPerFile) {
      skip({
        username: user.username,
        reason: "ROW_TOO_LONG",
        detail: `row: ${rowBytes} bytes do not fit in a file of at most ${maxBytesPerFile} bytes`,
      });
      continue;
    }

    if (current && (current.users + 1 > maxUsersPerFile || current.bytes + rowBytes > maxBytesPerFile)) {
      await closeFile(current);
      current = undefined;
    }
    if (!current) {
      const file: ImportFileInfo = { index: files.length + 1, users: 0, bytes: headerBytes };
      await sink.startFile(file.index);
      await sink.write(headerLine);
      current = file;
    }
    await sink.write(row);
    current.users += 1;
    current.bytes += rowBytes;
    rows += 1;
    written.add(user.username);
    for (const name of droppedAttributesOf(header, user)) dropped.set(name, (dropped.get(name) ?? 0) + 1);
  }
  if (current) await closeFile(current);

  return { files, rows, skipped, skippedByReason, droppedAttributes: Object.fromEntries(dropped) };
}

/**
 * All files in memory: for small pools and tests. Same rules and errors as {@link writeImportFiles}.
 */
export async function collectImportFiles(
  header: ImportHeader,
  users: AsyncIterable<User> | Iterable<User>,
  limits: Partial<ImportFileLimits> = {},
): Promise<{ files: { info: ImportFileInfo; text: string }[]; summary: ImportCsvSummary }> {
  const files: { info: ImportFileInfo; text: string }[] = [];
  let chunks: string[] = [];
  const summary = await writeImportFiles(
    header,
    users,
    {
      startFile: () => {
        chunks = [];
      },
      write: (chunk) => {
        chunks.push(chunk);
      },
      endFile: (info) => {
        files.push({ info, text: chunks.join("") });
        chunks = [];
      },
    },
    limits,
  );
  return { files, summary };
}

function resolveLimits(limits: Partial<ImportFileLimits>): ImportFileLimits {
  const resolved = { ...COGNITO_IMPORT_FILE_LIMITS, ...stripUndefined(limits) };
  for (const key of ["maxUsersPerFile", "maxBytesPerFile"] as const) {
    const value = resolved[key];
    const maximum = COGNITO_IMPORT_FILE_LIMITS[key];
    if (!Number.isSafeInteger(value) || value < 1 || value > maximum) {
      throw new ValidationError(
        "CSV.LIMIT_EXCEEDED",
        `limits.${key}`,
        `must be a whole number from 1 to ${maximum} (Cognito's limit)`,
      );
    }
  }
  return resolved;
}

function stripUndefined(limits: Partial<ImportFileLimits>): Partial<ImportFileLimits> {
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
