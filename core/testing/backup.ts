/** Readable backup test data. Used by tests only. */
import type { BackupRecord } from "../backup/backup-record.js";
import { aUser } from "./builders.js";

/** A record of a fresh confirmed user, as the Post Confirmation trigger of `eu-west-1_Test` writes it. */
export function aBackupRecord(overrides: Partial<BackupRecord> = {}): BackupRecord {
  return {
    version: 1,
    capturedAt: new Date("2026-02-01T00:00:00.000Z"),
    source: {
      kind: "post-confirmation",
      userPoolId: "eu-west-1_Test",
      trigger: "PostConfirmation_ConfirmSignUp",
    },
    user: aUser(),
    ...overrides,
  };
}

/** Marks a value to remove in {@link editedAt}. */
export const REMOVE: unique symbol = Symbol("remove");

/**
 * A deep copy of a JSON document with the value at `path` (`user.Attributes[2].Value`, the notation errors
 * use) replaced by `edit`, computed by it when it is a function, or removed when it is {@link REMOVE}
 * (an array element is spliced out). Builds damaged documents for parser tests.
 */
export function editedAt(document: unknown, path: string, edit: unknown): Record<string, unknown> {
  const copy = structuredClone(document) as Record<string, unknown>;
  const keys = path.split(/\.|\[(\d+)\]/).filter((key) => key !== undefined && key !== "");
  const last = keys.pop();
  if (last === undefined) throw new Error("empty path");
  let parent: unknown = copy;
  for (const key of keys) parent = (container(parent, path) as Record<string, unknown>)[key];
  const target = container(parent, path) as Record<string, unknown>;
  if (edit === REMOVE) {
    if (Array.isArray(target)) target.splice(Number(last), 1);
    else delete target[last];
  } else {
    target[last] = typeof edit === "function" ? (edit as (current: unknown) => unknown)(target[last]) : edit;
  }
  return copy;
}

function container(value: unknown, path: string): object {
  if (typeof value !== "object" || value === null) throw new Error(`nothing to edit at ${path}`);
  return value;
}
