/**
 * Invoked by the stack at each deployment (Pulumi's `aws.lambda.Invocation`), inside the VPC: logs in as the
 * RDS master user (its secret, managed by RDS), applies the accounts table's migrations, and creates or
 * repairs the accounts purge's own login — allowed SELECT and DELETE on that table and nothing else — whose
 * password it generates into the login's own secret. The purge never logs in as the master user, and no
 * password passes through Pulumi.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { drizzle } from "drizzle-orm/mysql2";
import type { Pool } from "mysql2";
import * as z from "zod/mini";
import { migrateAccounts } from "../adapters/mysql/migrate.js";
import { createAccountsPool } from "../adapters/mysql/pool.js";
import { DEFAULT_PURGE_LOGIN, ensurePurgeLogin } from "../adapters/mysql/purge-login.js";
import { type LoginCredentials, SecretsManagerLoginSecret } from "../adapters/secrets/login-secret.js";
import { parseEvent } from "../runtime/event.js";
import { type InvocationContext, runJob } from "../runtime/invocation.js";
import type { Observability } from "../runtime/observability.js";
import { type Container, lambdaHandler } from "../runtime/container.js";
import { accountsLogin } from "../runtime/wiring/accounts.js";

/** What the deployment sends: a revision that changes when what the setup applies changes. */
export const setupEventSchema = z.strictObject({ revision: z.optional(z.string()) });

export interface SetupReport {
  readonly migrated: boolean;
  readonly purgeLogin: string;
}

export interface SetupAccountsDatabaseDeps {
  /** The master login's pool (to end when done). */
  readonly adminPool: () => Promise<Pool>;
  /** The purge login's credentials, its password generated into its secret on first use. */
  readonly purgeLogin: () => Promise<LoginCredentials>;
  readonly database: string;
  readonly table?: string;
  readonly requireTls: boolean;
  /** Apply the accounts table's migrations (false when the application owns that table's schema). */
  readonly migrate: boolean;
  readonly observability: Observability;
}

export function setupAccountsDatabaseHandler(deps: SetupAccountsDatabaseDeps) {
  return (event: unknown, context?: InvocationContext): Promise<SetupReport> => {
    parseEvent(setupEventSchema, event, "event");
    return runJob(
      deps.observability,
      "SetupAccountsDatabase",
      context,
      async () => {
        // The password is in its secret before the database knows it: a crash in between is repaired by
        // the next run, which finds the secret and sets the same password.
        const login = await deps.purgeLogin();
        const pool = await deps.adminPool();
        try {
          if (deps.migrate) await migrateAccounts(drizzle({ client: pool }));
          await ensurePurgeLogin(pool.promise(), {
            user: login.username,
            password: login.password,
            database: deps.database,
            ...(deps.table === undefined ? {} : { table: deps.table }),
            requireTls: deps.requireTls,
          });
        } finally {
          await new Promise<void>((resolve) => pool.end(() => resolve()));
        }
        return { migrated: deps.migrate, purgeLogin: login.username };
      },
      () => false,
    );
  };
}

/** What the function needs, built from the environment. */
export function setupAccountsDatabaseDependencies(container: Container): SetupAccountsDatabaseDeps {
  const env = container.env;
  const requireTls = env.flag("ACCOUNTS_DB_TLS", true);
  const user = env.optionalText("ACCOUNTS_PURGE_LOGIN") ?? DEFAULT_PURGE_LOGIN;
  const table = env.optionalText("ACCOUNTS_TABLE");
  const purgeSecretArn = env.text("ACCOUNTS_PURGE_SECRET_ARN");
  return {
    adminPool: async () => createAccountsPool({ ...(await accountsLogin(container, true)), tls: requireTls }),
    purgeLogin: () => {
      const client = new SecretsManagerClient(container.clientOptions("SECRETS_MANAGER_ENDPOINT", 3_000));
      return new SecretsManagerLoginSecret(client, purgeSecretArn).readOrCreate(user);
    },
    database: env.text("ACCOUNTS_DB_NAME"),
    ...(table === undefined ? {} : { table }),
    requireTls,
    migrate: env.flag("ACCOUNTS_DB_MIGRATE", true),
    observability: container.observability("setup-accounts-database"),
  };
}

/** The function built on a container: what its Lambda entry point runs, and the local stack too. */
export const build = (container: Container) =>
  setupAccountsDatabaseHandler(setupAccountsDatabaseDependencies(container));

/** The Lambda entry point: the function built from the environment, once per container. */
export const handler = lambdaHandler(build);
