/**
 * The files of a snapshot of format version 2, besides its manifest:
 *
 * - `p-<x>/part-00001.jsonl`: the users whose `sub` starts with the hexadecimal digit `x`, one backup record per
 *   line (JSON Lines), numbered from 1 within their partition. Records carry no groups (`groups: []`): the
 *   memberships are in the group files.
 * - `p-<x>/part-00001.ids`: the part's index, the stable user id of each of its records, one per line, in the
 *   part's order. An erasure reads it to learn whether the part holds the person without reading the part.
 * - `groups/page-00001.json`: one page of the pool's groups as listed (their definitions) and the names of
 *   their member files.
 * - `groups/00001-01-00001.jsonl`: the members of one group (page 1, position 1 on it, file 1 of the group's
 *   files), each username as a JSON string on its line. A big group has several files.
 *
 * Names are checked before any store turns them into keys: lowercase letters, digits, `-` and `.`, at most one
 * folder.
 */
import { ValidationError } from "../errors.js";
import type { Group } from "../user/user.js";

/** Five digits: names sort as text in order. */
const MAX_INDEX = 99_999;

function fiveDigits(index: number, what: string): string {
  if (!Number.isInteger(index) || index < 1 || index > MAX_INDEX) {
    throw new ValidationError("SNAPSHOT.INVALID_LIMIT", what, `must be an integer from 1 to ${MAX_INDEX}`);
  }
  return String(index).padStart(5, "0");
}

/** `p-a/part-00001.jsonl`: part `index` (from 1) of the users whose sub starts with `partition`. */
export function partitionPartName(partition: string, index: number): string {
  return `p-${partition}/part-${fiveDigits(index, "part index")}.jsonl`;
}

/** The id index of a part: `p-a/part-00001.ids` beside `p-a/part-00001.jsonl`. */
export function partIndexName(partName: string): string {
  return partName.replace(/\.jsonl$/, ".ids");
}

/** `groups/page-00001.json`: the definitions of one page of groups and their member files. */
export function groupPageName(page: number): string {
  return `groups/page-${fiveDigits(page, "group page")}.json`;
}

/** `groups/00001-01-00001.jsonl`: file `chunk` of the members of the group at `position` on group page `page`. */
export function groupFileName(page: number, position: number, chunk: number): string {
  if (!Number.isInteger(position) || position < 1 || position > 99) {
    throw new ValidationError("SNAPSHOT.INVALID_LIMIT", "group position", "must be an integer from 1 to 99");
  }
  return `groups/${fiveDigits(page, "group page")}-${String(position).padStart(2, "0")}-${fiveDigits(chunk, "group file")}.jsonl`;
}

/**
 * `p-a/parts.json`: the manifest entries of the parts a running snapshot has written in partition `a`, kept
 * in S3 so the job's state holds a count per partition instead of every entry. A working file: deleted once
 * the manifest (which holds the entries) is written.
 */
export function partitionEntriesName(partition: string): string {
  return `p-${partition}/parts.json`;
}

/**
 * `members-a/00001-01-00001.jsonl`: the members of the group file `groups/00001-01-00001.jsonl` whose sub
 * starts with `a` (usernames, as in the group file). A working file of the snapshot's reconcile, which loads
 * the memberships of the partition it lists and nothing else; deleted once the manifest is written.
 */
export function memberBucketName(groupFile: string, partition: string): string {
  if (!GROUP_FILE.test(groupFile) || !/^[0-9a-f]$/.test(partition)) {
    throw new ValidationError("SNAPSHOT.MALFORMED", "member bucket", "needs a group file and a partition");
  }
  return `members-${partition}/${groupFile.slice("groups/".length)}`;
}

/** A member bucket's name read back: its partition and its group file; `undefined` for anything else. */
export function readMemberBucketName(name: string): { partition: string; groupFile: string } | undefined {
  const match = /^members-([0-9a-f])\/(\d{5}-\d{2}-\d{5}\.jsonl)$/.exec(name);
  return match ? { partition: match[1] as string, groupFile: `groups/${match[2] as string}` } : undefined;
}

const PARTITION_PART = /^p-([0-9a-f])\/part-(\d{5})\.(jsonl|ids)$/;
const GROUP_FILE = /^groups\/\d{5}-\d{2}-\d{5}\.jsonl$/;
const FILE_NAME = /^(?:[a-z0-9][a-z0-9-]*\/)?[a-z0-9][a-z0-9.-]*$/;

/** A v2 part or index file name read back: its partition, number and kind; `undefined` for anything else. */
export function readPartitionFileName(
  name: string,
): { partition: string; index: number; kind: "part" | "index" } | undefined {
  const match = PARTITION_PART.exec(name);
  if (!match) return undefined;
  return {
    partition: match[1] as string,
    index: Number(match[2]),
    kind: match[3] === "jsonl" ? "part" : "index",
  };
}

/** Whether `name` is a group member file (`groups/00001-01-00001.jsonl`). */
export function isGroupFileName(name: string): boolean {
  return GROUP_FILE.test(name);
}

/** Whether `name` is a file of backup records: a v1 part (`part-00001.jsonl`) or a v2 one. */
export function isRecordPartName(name: string): boolean {
  return /^part-\d{5}\.jsonl$/.test(name) || readPartitionFileName(name)?.kind === "part";
}

/**
 * Checks a snapshot file's name before it becomes part of an object key.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` (field `file name`) for a name with anything but lowercase
 *   letters, digits, `-` and `.`, more than one folder, a dot segment, or the manifest's own name.
 */
export function checkSnapshotFileName(name: string): string {
  if (!FILE_NAME.test(name) || name.includes("..") || name === "manifest.json" || name.length > 200) {
    throw new ValidationError(
      "SNAPSHOT.MALFORMED",
      "file name",
      "must be lowercase letters, digits, - and . in at most one folder (not the manifest)",
    );
  }
  return name;
}

/** A part's index: each record's stable id on its own line. */
export function serializeIdIndex(ids: readonly string[]): string {
  return ids.map((id) => `${id}\n`).join("");
}

/**
 * Reads a part's index.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` naming the file and line for a line that is not a user id, or
 *   a last line without its `\n` (a truncated file).
 */
export function parseIdIndex(text: string, name: string): string[] {
  if (text === "") return [];
  if (!text.endsWith("\n")) throw new ValidationError("SNAPSHOT.MALFORMED", name, "the file is truncated");
  const ids = text.slice(0, -1).split("\n");
  ids.forEach((id, i) => {
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      throw new ValidationError("SNAPSHOT.MALFORMED", `${name} line ${i + 1}`, "is not a user id");
    }
  });
  return ids;
}

/** A group member file: each username as a JSON string on its own line. */
export function serializeGroupMembers(usernames: readonly string[]): string {
  return usernames.map((username) => `${JSON.stringify(username)}\n`).join("");
}

/**
 * Reads a group member file.
 *
 * @throws ValidationError `SNAPSHOT.MALFORMED` naming the file and line for a line that is not one JSON
 *   string of 1–128 characters, or a truncated file.
 */
export function parseGroupMembers(text: string, name: string): string[] {
  if (text === "") return [];
  if (!text.endsWith("\n")) throw new ValidationError("SNAPSHOT.MALFORMED", name, "the file is truncated");
  return text
    .slice(0, -1)
    .split("\n")
    .map((line, i) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        value = undefined;
      }
      // Cognito usernames are 1 to 128 characters.
      if (typeof value !== "string" || value.length === 0 || value.length > 128) {
        throw new ValidationError("SNAPSHOT.MALFORMED", `${name} line ${i + 1}`, "is not a username");
      }
      return value;
    });
}

/** One page of groups as listed, with the names of their member files (a page's record of its work). */
export interface GroupPage {
  readonly groups: readonly Group[];
  /** Per group, in the page's order: the names of its member files. */
  readonly files: readonly (readonly string[])[];
}
