import { type PurgePolicy, parsePurgePolicy } from "../core/purge/index.js";
import {
  DEFAULT_PURGE_BATCH_SIZE,
  DEFAULT_PURGE_LANES,
  MAX_PURGE_BATCH_SIZE,
  MAX_PURGE_LANES,
} from "../core/use-cases/purge-unconfirmed-accounts.js";
import type { EnvReader } from "./env.js";

/** The purge policy of `PURGE_POLICY` (JSON, `{"minAge":"24h","maxDeletionsPerRun":1000,…}`), defaults when absent. */
export function purgePolicyOf(env: EnvReader): PurgePolicy {
  return env.json("PURGE_POLICY", parsePurgePolicy, "CONFIG.INVALID_POLICY");
}

/** How the accounts purge sizes its statements. */
export interface AccountsPurgeSizes {
  /** Rows per DELETE oldest first, and what a mass purge's first stretches aim at. */
  readonly batchSize: number;
  /** Statements a mass purge runs side by side. */
  readonly lanes: number;
}

/**
 * `PURGE_BATCH_SIZE` (1–10,000, default 500) and `PURGE_LANES` (1 or 2, default 2).
 * @throws ValidationError `CONFIG.INVALID` naming the variable when it is out of range.
 */
export function accountsPurgeSizesOf(env: EnvReader): AccountsPurgeSizes {
  return {
    batchSize: env.integer("PURGE_BATCH_SIZE", DEFAULT_PURGE_BATCH_SIZE, 1, MAX_PURGE_BATCH_SIZE),
    lanes: env.integer("PURGE_LANES", DEFAULT_PURGE_LANES, 1, MAX_PURGE_LANES),
  };
}
