/** Readable purge test data. Used by tests only. */
import type { PurgeCandidate, PurgePolicy } from "../purge/purge-policy.js";
import { DEFAULT_PURGE_POLICY } from "../purge/purge-policy.js";

let counter = 0;

/** The instant purge tests treat as "now" unless they say otherwise. */
export const PURGE_NOW = new Date("2026-03-01T16:00:00.000Z");

const HOUR_MS = 60 * 60 * 1000;

/** A date `hours` before {@link PURGE_NOW}. */
export function hoursAgo(hours: number, now: Date = PURGE_NOW): Date {
  return new Date(now.getTime() - hours * HOUR_MS);
}

/** An unconfirmed candidate whose confirmation message went out two days before {@link PURGE_NOW}. */
export function aPurgeCandidate(overrides: Partial<PurgeCandidate> = {}): PurgeCandidate {
  counter += 1;
  return {
    id: `candidate-${counter.toString().padStart(6, "0")}`,
    confirmed: false,
    confirmationSentAt: hoursAgo(48),
    ...overrides,
  };
}

/** The default policy with some settings changed. */
export function aPurgePolicy(overrides: Partial<PurgePolicy> = {}): PurgePolicy {
  return { ...DEFAULT_PURGE_POLICY, ...overrides };
}
