/**
 * A walk through the user lifecycle on the local stack: real SignUp/ConfirmSignUp through the app client
 * (the local Cognito fires the Post Confirmation trigger at the local Lambda endpoint), the purges, a snapshot, an
 * accidental deletion and its restore, and an erase. Every job runs as its Lambda handler: the stepped jobs
 * (the identity purge, the snapshot) through their state machines, as scheduled in AWS; the others invoked
 * by name. Emails are masked in everything printed.
 */
import {
  AdminAddUserToGroupCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  ListUsersCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { createConnection } from "mysql2/promise";
import { Container } from "../runtime/composition-root.js";
import { maskEmail } from "../core/user/mask.js";
import { FUNCTION_NAMES, LOCAL_PURGE_POLICY, type LocalStack } from "./stack.js";

/** Meets the local Cognito's password rules; never a real credential. */
export const DEMO_PASSWORD = "Local-Passw0rd!";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Cognito client for the stack's pool, as an application would have one. */
export function cognitoClientFor(
  stack: Pick<LocalStack, "region" | "endpoints">,
): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: stack.region,
    endpoint: stack.endpoints.cognito,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}

function attribute(attributes: { Name?: string; Value?: string }[] | undefined, name: string) {
  return attributes?.find((entry) => entry.Name === name)?.Value;
}

export async function runDemo(stack: LocalStack, log: (line: string) => void): Promise<void> {
  const step = (title: string) => log(`\n== ${title}`);
  const show = (label: string, value: unknown) =>
    log(`   ${label}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  const cognito = cognitoClientFor(stack);
  const container = new Container(stack.env);
  const UserPoolId = stack.userPoolId;
  const ClientId = stack.clientId;
  const db = stack.mysql
    ? await createConnection({ ...stack.mysql, timezone: "Z", dateStrings: false })
    : undefined;

  /** Runs a stepped job through its state machine, as its schedule does in AWS: its report, or its error. */
  const execute = async (name: string) => {
    const outcome = await stack.startExecution(name).result;
    show(
      `${name} (state machine)`,
      `execution ${outcome.name} ${outcome.status} after ${outcome.steps} step(s)`,
    );
    if (outcome.status !== "SUCCEEDED")
      return { error: `${outcome.error ?? outcome.status}: ${outcome.cause ?? ""}` };
    return (outcome.output as { report?: unknown }).report as Record<string, unknown>;
  };
  const invoke = async (name: string, event: unknown = {}) => {
    const outcome = await stack.invoke(name, event);
    if (!outcome.ok) return { error: `${outcome.errorType}: ${outcome.errorMessage}` };
    return outcome.result;
  };
  const signUp = (username: string, email: string) =>
    cognito.send(
      new SignUpCommand({
        ClientId,
        Username: username,
        Password: DEMO_PASSWORD,
        UserAttributes: [{ Name: "email", Value: email }],
      }),
    );
  const poolUsers = async () => {
    const { Users = [] } = await cognito.send(new ListUsersCommand({ UserPoolId }));
    return Users.map((user) => `${user.Username} (${user.UserStatus})`);
  };
  const accountRows = async () => {
    if (!db) return [];
    const [rows] = await db.query("SELECT email, confirmed_at FROM users ORDER BY id");
    return (rows as { email: string; confirmed_at: Date | null }[]).map(
      (row) => `${maskEmail(row.email)} (${row.confirmed_at ? "confirmed" : "unconfirmed"})`,
    );
  };

  try {
    step("Alice signs up through the app client and confirms with the emailed code");
    const aliceEmail = "alice@example.com";
    const { UserSub: aliceSub = "" } = await signUp("alice", aliceEmail);
    show("SignUp", { username: "alice", email: maskEmail(aliceEmail), sub: aliceSub });
    await cognito.send(
      new ConfirmSignUpCommand({ ClientId, Username: "alice", ConfirmationCode: stack.confirmationCode }),
    );
    show(
      "ConfirmSignUp",
      `code ${stack.confirmationCode} accepted; the local Cognito invoked ${FUNCTION_NAMES.postConfirmation}`,
    );
    const profile = await container.profiles.get(aliceSub);
    show("profile in DynamoDB", profile && { ...profile, email: maskEmail(profile.email ?? "") });
    const backup = await container.backups.getUserBackup(aliceSub);
    show(
      "backup in S3",
      backup ? `users/… for ${backup.user.username}, status ${backup.user.status}` : "missing",
    );
    if (db) {
      await db.query(
        "INSERT INTO users (email, confirmed_at, confirmation_sent_at) VALUES (?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
        [aliceEmail],
      );
      show("the application's users table", await accountRows());
    }

    step("Cognito retries the trigger: the same event again changes nothing");
    const event = [...stack.lambda.received]
      .reverse()
      .find((entry) => entry.functionName === FUNCTION_NAMES.postConfirmation)?.event;
    await invoke(FUNCTION_NAMES.postConfirmation, event);
    const again = await container.profiles.get(aliceSub);
    show("profile createdAt", {
      before: profile?.createdAt.toISOString(),
      after: again?.createdAt.toISOString(),
    });

    step(
      `Bob signs up and never confirms; Carol signs up later (local purge policy: ${JSON.stringify(LOCAL_PURGE_POLICY)})`,
    );
    await signUp("bob", "bob@example.com");
    if (db) {
      await db.query(
        "INSERT INTO users (email, confirmed_at, confirmation_sent_at) VALUES (?, NULL, UTC_TIMESTAMP(3))",
        ["bob@example.com"],
      );
    }
    show("waiting", "3 s, so Bob is older than the minimum age");
    await sleep(3_000);
    await signUp("carol", "carol@example.com");
    if (db) {
      await db.query(
        "INSERT INTO users (email, confirmed_at, confirmation_sent_at) VALUES (?, NULL, UTC_TIMESTAMP(3))",
        ["carol@example.com"],
      );
    }
    show("pool", await poolUsers());
    if (db) show("users table", await accountRows());
    const identities = (await execute(FUNCTION_NAMES.purgeUnconfirmedIdentities)) as Record<string, unknown>;
    show("purge-unconfirmed-identities", {
      eligible: identities.eligible,
      deleted: identities.deleted,
      skipped: identities.skippedByReason,
      error: identities.error,
    });
    show("pool now", await poolUsers());
    if (db) {
      const accounts = (await invoke(FUNCTION_NAMES.purgeUnconfirmedAccounts)) as Record<string, unknown>;
      show("purge-unconfirmed-accounts", {
        eligible: accounts.eligible,
        deleted: accounts.deleted,
        error: accounts.error,
      });
      show("users table now", await accountRows());
    } else {
      show("purge-unconfirmed-accounts", "skipped: MariaDB is not installed");
    }

    step("Nightly: a snapshot of the pool (Alice is in the group admins), and reconcile");
    await cognito.send(
      new CreateGroupCommand({ UserPoolId, GroupName: "admins", Description: "Administrators" }),
    );
    await cognito.send(
      new AdminAddUserToGroupCommand({ UserPoolId, Username: "alice", GroupName: "admins" }),
    );
    const nightly = (await execute(FUNCTION_NAMES.snapshotAndReconcile)) as Record<string, unknown>;
    show("snapshot-and-reconcile", nightly);

    step(
      "Alice is deleted by accident (AdminDeleteUser), then restored through a Cognito user import job (no email, no SMS)",
    );
    await cognito.send(new AdminDeleteUserCommand({ UserPoolId, Username: "alice" }));
    show("pool", await poolUsers());
    // A restore runs in steps (start, then resume until finished), as the restore function runs it in AWS.
    let restore = (await invoke(FUNCTION_NAMES.restore, {
      action: "start",
      usernames: ["alice"],
    })) as Record<string, unknown>;
    for (let steps = 1; restore.state === "running" && steps < 100; steps++) {
      await sleep(200);
      restore = (await invoke(FUNCTION_NAMES.restore, {
        action: "resume",
        planId: restore.planId,
      })) as Record<string, unknown>;
    }
    show("restore", {
      strategy: restore.strategy,
      complete: restore.complete,
      restored: restore.restored,
      membershipsAdded: restore.membershipsAdded,
      skipped: restore.skipped,
      error: restore.error,
    });
    const back = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: "alice" }));
    const groups = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId, Username: "alice" }));
    show("alice now", {
      status: back.UserStatus,
      newSub: attribute(back.UserAttributes, "sub"),
      "custom:legacy_sub": attribute(back.UserAttributes, "custom:legacy_sub"),
      legacySubIsTheOldSub: attribute(back.UserAttributes, "custom:legacy_sub") === aliceSub,
      groups: (groups.Groups ?? []).map((group) => group.GroupName),
    });

    step("Alice asks to be forgotten");
    const erased = (await invoke(FUNCTION_NAMES.erase, { username: "alice" })) as Record<string, unknown>;
    show("erase", erased);
    show("left of her", {
      inPool: (await poolUsers()).some((user) => user.startsWith("alice ")),
      profile: (await container.profiles.get(aliceSub)) !== undefined,
      backup: (await container.backups.getUserBackup(aliceSub)) !== undefined,
    });
  } finally {
    cognito.destroy();
    await container.close();
    await db?.end();
  }
}
