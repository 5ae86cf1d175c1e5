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
  parsePurgePolicy,
  planAccountPurge,
  purgeCutoff,
} from "./purge-policy.js";
export {
  ACCOUNT_POPULATION,
  CONFIRMATION_CODE_LIFE_MS,
  clockOnlySince,
  IDENTITY_POPULATION,
  provenAgeWindowMs,
  type PurgePopulation,
  type PurgeRefusal,
  refusalThreshold,
  shareOfPoolRefusal,
} from "./refusal.js";
export {
  checkIdentityPurgePolicy,
  EMPTY_IDENTITY_TALLY,
  IDENTITY_PLAN_MAX_BYTES,
  IdentityPlanBuilder,
  type IdentityListingTally,
  MAX_IDENTITY_DELETIONS_PER_RUN,
  planPurge,
} from "./identity-plan.js";
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
