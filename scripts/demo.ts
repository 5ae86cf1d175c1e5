/**
 * `npm run demo:memory`: a walk through the user lifecycle with the in-memory adapters, in a second and
 * without any stand-in. Every step calls the same use cases the Lambda handlers do; `npm start` walks the
 * same lifecycle on the local stack.
 */
import { InMemoryAccountStore } from "../adapters/in-memory/account-store.js";
import { InMemoryBackupStore } from "../adapters/in-memory/backup-store.js";
import { ManualClock } from "../adapters/in-memory/clock.js";
import { InMemoryErasureLedger } from "../adapters/in-memory/erasure-ledger.js";
import { InMemoryProfileStore } from "../adapters/in-memory/profile-store.js";
import { InMemoryUserDirectory } from "../adapters/in-memory/user-directory.js";
import { parsePurgePolicy } from "../core/purge/index.js";
import { parseScheduleExpression } from "../core/schedule/index.js";
import { eraseUser } from "../core/use-cases/erase-user.js";
import { purgeUnconfirmedAccounts } from "../core/use-cases/purge-unconfirmed-accounts.js";
import { purgeUnconfirmedIdentities } from "../core/use-cases/purge-unconfirmed-identities.js";
import { reconcile } from "../core/use-cases/reconcile.js";
import { restoreUsers } from "../core/use-cases/restore-users.js";
import { snapshotUsers } from "../core/use-cases/snapshot-users.js";
import { syncConfirmedUser } from "../core/use-cases/sync-confirmed-user.js";
import { maskEmail } from "../core/user/mask.js";
import { parsePostConfirmationEvent } from "../core/user/post-confirmation.js";
import { makeUser } from "../core/user/user.js";

const POOL = "eu-west-1_DemoPool";
const step = (title: string) => console.log(`\n== ${title}`);
const show = (label: string, value: unknown) =>
  console.log(`   ${label}: ${typeof value === "string" ? value : JSON.stringify(value)}`);

async function main(): Promise<void> {
  const clock = new ManualClock("2026-06-01T09:00:00.000Z");
  const directory = new InMemoryUserDirectory({ clock });
  const profiles = new InMemoryProfileStore();
  const backups = new InMemoryBackupStore();
  const accounts = new InMemoryAccountStore();
  const deps = {
    clock,
    directory,
    profiles,
    backups,
    restores: backups,
    erasures: new InMemoryErasureLedger(),
    accounts,
    importer: directory,
    sleeper: clock,
  };

  step("Schedules are checked before anything is deployed");
  show("cron(0 16 * * ? *)", parseScheduleExpression("cron(0 16 * * ? *)").kind);
  try {
    parseScheduleExpression("cron(0 16 * * *)", "purgeSchedule");
  } catch (error) {
    show("cron(0 16 * * *)", (error as Error).message);
  }

  step("Alice signs up and confirms: the Post Confirmation trigger records her");
  const alice = makeUser({
    username: "3f1c2a9e-0000-4000-8000-00000000a11c",
    sub: "3f1c2a9e-0000-4000-8000-00000000a11c",
    attributes: { email: "alice@example.com", email_verified: "true", name: "Alice" },
    createdAt: clock.now(),
  });
  directory.seed(alice);
  const event = parsePostConfirmationEvent({
    version: "1",
    region: "eu-west-1",
    userPoolId: POOL,
    userName: alice.username,
    triggerSource: "PostConfirmation_ConfirmSignUp",
    callerContext: { awsSdkVersion: "aws-sdk-js-3", clientId: "demo-client" },
    request: { userAttributes: { ...alice.attributes, "cognito:user_status": "CONFIRMED" } },
    response: {},
  });
  show("sync", await syncConfirmedUser(event, deps));
  show("profile", { ...(await profiles.get(alice.sub)), email: maskEmail(alice.attributes.email ?? "") });
  show("backup objects", backups.keys());
  show("the same event again", await syncConfirmedUser(event, deps));

  step("Bob signed up two days ago and never confirmed; Carol signed up an hour ago");
  directory.seed(
    makeUser({
      username: "bob",
      sub: "b0b00000-0000-4000-8000-000000000b0b",
      status: "UNCONFIRMED",
      createdAt: new Date("2026-05-30T09:00:00Z"),
    }),
    makeUser({
      username: "carol",
      sub: "ca201000-0000-4000-8000-0000000ca201",
      status: "UNCONFIRMED",
      createdAt: new Date("2026-06-01T08:00:00Z"),
    }),
  );
  accounts.insert({
    email: "bob@example.com",
    confirmedAt: null,
    confirmationSentAt: new Date("2026-05-30T09:00:00Z"),
  });
  accounts.insert({
    email: "carol@example.com",
    confirmedAt: null,
    confirmationSentAt: new Date("2026-06-01T08:00:00Z"),
  });
  accounts.insert({ email: "alice@example.com", confirmedAt: clock.now(), confirmationSentAt: clock.now() });
  const policy = parsePurgePolicy({ minAge: "24h", maxShareOfPool: 0.5 });
  const dry = await purgeUnconfirmedIdentities(deps, { policy: { ...policy, dryRun: true } });
  show("dry run", { eligible: dry.eligible, deleted: dry.deleted, stoppedBy: dry.stoppedBy });
  const identities = await purgeUnconfirmedIdentities(deps, { policy });
  show("identities purge", { deleted: identities.deleted, skipped: identities.skippedByReason });
  const rows = await purgeUnconfirmedAccounts(deps, { policy });
  show("accounts purge", { deleted: rows.deleted, left: accounts.all().length });

  step("Nightly: snapshot of the pool, and reconcile");
  await directory.createGroup({ name: "admins", description: "Administrators" });
  await directory.addUserToGroup(alice.username, "admins");
  const manifest = await snapshotUsers(deps, { userPoolId: POOL });
  show("snapshot", { id: manifest.snapshotId, users: manifest.userCount, parts: manifest.parts.length });
  show("reconcile", await reconcile(deps, { userPoolId: POOL }));

  step("Alice is deleted by accident, then restored");
  await directory.deleteUser(alice.username);
  const restore = await restoreUsers(deps);
  const back = await directory.getUser(alice.username, { includeGroups: true });
  show("restore", {
    complete: restore.complete,
    restored: restore.finalization?.restored,
    existing: restore.plan.existing.length,
    skipped: restore.plan.skipped.map((s) => s.reason),
  });
  show("alice now", {
    status: back?.status,
    groups: back?.groups,
    newSub: back?.sub,
    legacySub: back?.attributes["custom:legacy_sub"],
  });

  step("Alice asks to be forgotten");
  show("erase", await eraseUser(deps, { username: alice.username }));
  const holding = backups
    .keys()
    .filter((key) => backups.versions(key).some((text) => text.includes(alice.sub)));
  const inRestores = holding.filter((key) => key.startsWith("restores/"));
  show("stored objects or versions still holding her data", holding.length);
  show("of which the restore's plan and progress (kept until they expire)", inRestores.length);

  console.log("\nDone. The tests: npm test");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
