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
 * Maps each user (see `mapUserToRow`) and writes the rows to the sink, file after file (see
 * {@link writeImportRows} for how files are cut, duplicates and rows too large for a file). No byte order mark
 * is ever written.
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
  const cutter = new FileCutter(header, sink, limits);
  const dropped = new Map<string, number>();
  for await (const user of users) {
    const mapped = importRowOf(header, user);
    if (mapped.kind === "skip") {
      cutter.skip(mapped.skipped);
      continue;
    }
    if (await cutter.write(user.username, mapped.text, mapped.bytes)) {
      for (const name of droppedAttributesOf(header, user)) dropped.set(name, (dropped.get(name) ?? 0) + 1);
    }
  }
  return { ...(await cutter.end()), droppedAttributes: Object.fromEntries(dropped) };
}

/** A user's import row, mapped already (see `importRowOf`): what {@link writeImportRows} cuts into files. */
export interface ImportRowEntry {
  readonly username: string;
  /** The escaped record followed by `\n`. */
  readonly row: string;
}

/**
 * Writes rows mapped beforehand to the sink, file after file. A file is closed and the next one started — with
 * the header again — before a row would take it over either limit. A row whose username was already written is
 * skipped as DUPLICATE_USERNAME ("must be unique within your user pool"), also across files; the first one
 * wins. A row too large for even an empty file is skipped as ROW_TOO_LONG. No file is started when no row can
 * be written.
 *
 * @throws ValidationError `CSV.LIMIT_EXCEEDED`, as {@link writeImportFiles}.
 */
export async function writeImportRows(
  header: ImportHeader,
  rows: AsyncIterable<ImportRowEntry> | Iterable<ImportRowEntry>,
  sink: CsvFileSink,
  limits: Partial<ImportFileLimits> = {},
): Promise<Omit<ImportCsvSummary, "droppedAttributes">> {
  const cutter = new FileCutter(header, sink, limits);
  for await (const entry of rows) await cutter.write(entry.username, entry.row, utf8Length(entry.row));
  return cutter.end();
}

/** The header line of every import file with these columns (GetCSVHeader's), with its terminator. */
export function importHeaderLine(columns: readonly string[]): string {
  return `${formatCsvRow(columns)}\n`;
}

/** Cuts rows into files under the limits: the one place the file rules live. */
class FileCutter {
  private readonly maxUsersPerFile: number;
  private readonly maxBytesPerFile: number;
  private readonly headerLine: string;
  private readonly headerBytes: number;
  private readonly files: ImportFileInfo[] = [];
  private readonly skipped: SkippedUser[] = [];
  private readonly skippedByReason: Partial<Record<SkipReason, number>> = {};
  private readonly written = new Set<string>();
  private rows = 0;
  private current: ImportFileInfo | undefined;

  constructor(
    header: ImportHeader,
    private readonly sink: CsvFileSink,
    limits: Partial<ImportFileLimits>,
  ) {
    ({ maxUsersPerFile: this.maxUsersPerFile, maxBytesPerFile: this.maxBytesPerFile } =
      resolveLimits(limits));
    this.headerLine = importHeaderLine(header.columns);
    this.headerBytes = utf8Length(this.headerLine);
    if (this.headerBytes >= this.maxBytesPerFile) {
      throw new ValidationError(
        "CSV.LIMIT_EXCEEDED",
        "limits.maxBytesPerFile",
        `leaves no room for a row after the ${this.headerBytes}-byte header line`,
      );
    }
  }

  skip(entry: SkippedUser): void {
    this.skipped.push(entry);
    this.skippedByReason[entry.reason] = (this.skippedByReason[entry.reason] ?? 0) + 1;
  }

  /** Writes the row, or skips it (false) as a duplicate or too large for any file. */
  async write(username: string, row: string, rowBytes: number): Promise<boolean> {
    if (this.written.has(username)) {
      this.skip({
        username,
        reason: "DUPLICATE_USERNAME",
        detail: `${USERNAME_COLUMN}: already written for an earlier user`,
      });
      return false;
    }
    if (this.headerBytes + rowBytes > this.maxBytesPerFile) {
      this.skip({
        username,
        reason: "ROW_TOO_LONG",
        detail: `row: ${rowBytes} bytes do not fit in a file of at most ${this.maxBytesPerFile} bytes`,
      });
      return false;
    }
    const open = this.current;
    if (open && (open.users + 1 > this.maxUsersPerFile || open.bytes + rowBytes > this.maxBytesPerFile)) {
      await this.closeFile(open);
    }
    let file = this.current;
    if (!file) {
      file = { index: this.files.length + 1, users: 0, bytes: this.headerBytes };
      await this.sink.startFile(file.index);
      await this.sink.write(this.headerLine);
      this.current = file;
    }
    await this.sink.write(row);
    file.users += 1;
    file.bytes += rowBytes;
    this.rows += 1;
    this.written.add(username);
    return true;
  }

  async end(): Promise<Omit<ImportCsvSummary, "droppedAttributes">> {
    if (this.current) await this.closeFile(this.current);
    return {
      files: this.files,
      rows: this.rows,
      skipped: this.skipped,
      skippedByReason: this.skippedByReason,
    };
  }

  private async closeFile(file: ImportFileInfo): Promise<void> {
    this.current = undefined;
    await this.sink.endFile({ ...file });
    this.files.push(file);
  }
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
