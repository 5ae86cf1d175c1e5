import { type PurgePolicy, parsePurgePolicy } from "../core/purge/index.js";
import type { EnvReader } from "./env.js";

/** The purge policy of `PURGE_POLICY` (JSON, `{"minAge":"24h","maxDeletionsPerRun":1000,…}`), defaults when absent. */
export function purgePolicyOf(env: EnvReader): PurgePolicy {
  return env.json("PURGE_POLICY", parsePurgePolicy, "CONFIG.INVALID_POLICY");
}
