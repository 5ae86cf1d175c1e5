/**
 * The `scale` scenario's baselines: the snapshot and the identity purge as one Lambda invocation each, the way
 * the project ran them before the durable steps (snapshot: `core/use-cases/snapshot-users.ts` at be44299^;
 * identity purge: `core/use-cases/purge-unconfirmed-identities.ts` at 9e2f3cc^). main's `snapshotUsers` and
 * `purgeUnconfirmedIdentities` now run the stepped jobs in-process, so the bench keeps the old shape here:
 *
 * - snapshot: every group's members read into one username → groups map first, then one listing of the whole
 *   pool (no `sub` partitions, no cursor kept), parts of format v1, the manifest last. No erasure handling
 *   (the generated pool has no erased people), otherwise the same records, parts and manifest.
 * - identity purge: every UNCONFIRMED user listed and held as a candidate, then planned at once (`planPurge`),
 *   then the plan carried out by the current fenced deletions (a previewed plan: the deletion code is
 *   unchanged).
 *
 * Only the bench uses them: they are what "today's code" means in scenario 5's table.
 */
import type { BackupRecord } from "../../core/backup/backup-record.js";
import { type SnapshotManifest, SnapshotPartWriter, snapshotIdFor } from "../../core/backup/snapshot.js";
import type { BackupStore } from "../../core/ports/backup-store.js";
import type { Clock } from "../../core/ports/clock.js";
import { allUsers, groupMemberships, type UserDirectory } from "../../core/ports/user-directory.js";
import {
  type PurgeCandidate,
  type PurgePolicy,
  type PurgeReport,
  planPurge,
} from "../../core/purge/index.js";
import { purgeUnconfirmedIdentities } from "../../core/use-cases/purge-unconfirmed-identities.js";
import { normalizeGroups } from "../../core/user/user.js";

/** The single-invocation snapshot: memberships map, one listing, v1 parts, manifest. */
export async function snapshotInOneInvocation(
  deps: { readonly directory: UserDirectory; readonly backups: BackupStore; readonly clock: Clock },
  options: { readonly userPoolId: string },
): Promise<SnapshotManifest> {
  const startedAt = deps.clock.now();
  const snapshotId = snapshotIdFor(startedAt);
  const { groups, membership } = await groupMemberships(deps.directory);
  const writer = new SnapshotPartWriter();
  let userCount = 0;
  for await (const user of allUsers(deps.directory)) {
    const record: BackupRecord = {
      version: 1,
      capturedAt: deps.clock.now(),
      source: { kind: "snapshot", userPoolId: options.userPoolId },
      user: { ...user, groups: normalizeGroups(membership.get(user.username) ?? []) },
    };
    const closed = writer.add(record);
    userCount += 1;
    if (closed) await deps.backups.putSnapshotPart(snapshotId, closed);
  }
  const last = writer.finish();
  if (last) await deps.backups.putSnapshotPart(snapshotId, last);
  const manifest: SnapshotManifest = {
    version: 1,
    snapshotId,
    userPoolId: options.userPoolId,
    startedAt,
    completedAt: deps.clock.now(),
    userCount,
    groups,
    parts: writer.parts,
  };
  await deps.backups.putSnapshotManifest(manifest);
  return manifest;
}

/** The single-invocation identity purge: every UNCONFIRMED user held, one plan, then fenced deletions. */
export async function purgeInOneInvocation(
  deps: { readonly directory: UserDirectory; readonly clock: Clock },
  policy: PurgePolicy,
): Promise<PurgeReport> {
  const now = deps.clock.now();
  const candidates: PurgeCandidate[] = [];
  for await (const user of allUsers(deps.directory, { status: "UNCONFIRMED" })) {
    candidates.push({
      id: user.username,
      confirmed: user.status !== "UNCONFIRMED",
      ...(user.createdAt ? { createdAt: user.createdAt } : {}),
    });
  }
  const plan = planPurge({ candidates, poolSize: await deps.directory.estimatedUserCount(), policy, now });
  return purgeUnconfirmedIdentities(deps, { policy, previewed: plan });
}
