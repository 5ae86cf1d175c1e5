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
  purgeCutoff,
  refusalThreshold,
} from "./purge-policy.js";
export {
  CONFIRMATION_CODE_LIFE_MS,
  checkIdentityPurgePolicy,
  EMPTY_IDENTITY_TALLY,
  IDENTITY_PLAN_MAX_BYTES,
  IdentityPlanBuilder,
  type IdentityListingTally,
  identityPurgeRefusal,
  MAX_IDENTITY_DELETIONS_PER_RUN,
  planPurge,
  provenAgeWindowMs,
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
