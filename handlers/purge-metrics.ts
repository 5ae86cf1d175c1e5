import type { PurgeReport } from "../core/purge/index.js";
import type { Observability } from "../runtime/observability.js";

/** Counters of a purge run, named by target (`IdentitiesDeleted`, `AccountsRefused`, …), for dashboards and alarms. */
export function purgeMetrics(observability: Observability, report: PurgeReport): void {
  const prefix = report.target === "identities" ? "Identities" : "Accounts";
  observability.metrics.count(`${prefix}Deleted`, report.deleted);
  observability.metrics.count(`${prefix}Deferred`, report.deferred);
  observability.metrics.count(`${prefix}DeleteFailed`, report.failed);
  // A refused run deleted nothing because too large a share was eligible: a human must look.
  if (report.refused !== undefined) {
    observability.metrics.count(`${prefix}PurgeRefused`);
    observability.log.warn("Purge refused: too large a share of users would be deleted", {
      target: report.target,
      eligible: report.eligible,
      refused: report.refused,
    });
  }
}
