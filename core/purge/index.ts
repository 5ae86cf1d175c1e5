export { formatDuration, parseDuration } from "./duration.js";
export { confirmationHeldByFence } from "./fence.js";
export {
  type AccountPurgePlan,
  checkEligibility,
  DEFAULT_PURGE_POLICY,
  type Eligibility,
  type IneligibleReason,
  type PurgeCandidate,
  type PurgePlan,
  type PurgePolicy,
  type PurgeRefusal,
  parsePurgePolicy,
  planAccountPurge,
  planPurge,
  purgeCutoff,
  refusalThreshold,
} from "./purge-policy.js";
export {
  finishPurgeReport,
  newPurgeReport,
  type PurgeReport,
  type PurgeReportDraft,
  type PurgeStop,
  type PurgeTarget,
  recordDeleted,
  recordFailure,
  recordSkipped,
} from "./purge-report.js";
