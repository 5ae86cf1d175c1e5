/**
 * The accounts store, and erase's view of the same table (a person's rows by email), on one pool. Credentials come from the secret `ACCOUNTS_DB_SECRET_ARN` (read again when
 * `refreshCredentials`); without a secret (the local stack only) from `ACCOUNTS_DB_USER` and
 * `ACCOUNTS_DB_PASSWORD`. Host, port and database name in the secret win over `ACCOUNTS_DB_HOST`,
 * `ACCOUNTS_DB_PORT`, `ACCOUNTS_DB_NAME`.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { drizzle } from "drizzle-orm/mysql2";
import type { Pool } from "mysql2";
import { MysqlAccountStore } from "../../adapters/mysql/account-store.js";
import { MysqlApplicationAccounts } from "../../adapters/mysql/application-accounts.js";
import type { AccountsTableOptions } from "../../adapters/mysql/options.js";
import { createAccountsPool } from "../../adapters/mysql/pool.js";
import { SecretDatabaseCredentials } from "../../adapters/secrets/database-credentials.js";
import type { AccountStore } from "../../core/ports/account-store.js";
import type { ApplicationAccounts } from "../../core/ports/application-accounts.js";
import type { Container } from "../container.js";

interface Built {
  readonly store: AccountStore;
  readonly rows: ApplicationAccounts;
  readonly pool: Pool;
}

export async function accountStore(
  container: Container,
  options: { refreshCredentials: boolean } = { refreshCredentials: false },
): Promise<AccountStore> {
  return (await built(container, options.refreshCredentials)).store;
}

/** Erase's view of the accounts table: a person's rows by email (same login, same pool as the store). */
export async function applicationAccounts(container: Container): Promise<ApplicationAccounts> {
  return (await built(container, false)).rows;
}

async function built(container: Container, refreshCredentials: boolean): Promise<Built> {
  const cached = container.cached<Built>("accounts");
  if (cached && !refreshCredentials) return cached;
  if (cached) await end(cached.pool);
  const login = await accountsLogin(container, refreshCredentials);
  const env = container.env;
  const pool = createAccountsPool({ ...login, tls: env.flag("ACCOUNTS_DB_TLS", true) });
  const names = accountsTableOptions(container);
  const db = drizzle({ client: pool });
  const made = {
    store: new MysqlAccountStore(db, names),
    rows: new MysqlApplicationAccounts(db, names),
    pool,
  };
  container.remember("accounts", made satisfies Built);
  return made;
}

/** The table's and columns' names from the environment (`ACCOUNTS_TABLE`, `ACCOUNTS_*_COLUMN`). */
export function accountsTableOptions(container: Container): AccountsTableOptions {
  const env = container.env;
  return {
    ...optional("table", env.optionalText("ACCOUNTS_TABLE")),
    columns: {
      ...optional("id", env.optionalText("ACCOUNTS_ID_COLUMN")),
      ...optional("confirmedAt", env.optionalText("ACCOUNTS_CONFIRMED_AT_COLUMN")),
      ...optional("confirmationSentAt", env.optionalText("ACCOUNTS_CONFIRMATION_SENT_AT_COLUMN")),
      ...optional("email", env.optionalText("ACCOUNTS_EMAIL_COLUMN")),
    },
  };
}

/** Ends the database pool, which keeps a process alive (the CLI, the local stack). */
export async function closeAccountStore(container: Container): Promise<void> {
  const cached = container.cached<Built>("accounts");
  if (cached) await end(cached.pool);
  container.remember("accounts", undefined);
}

export async function accountsLogin(container: Container, refresh: boolean) {
  const env = container.env;
  const host = env.optionalText("ACCOUNTS_DB_HOST");
  const name = env.optionalText("ACCOUNTS_DB_NAME");
  const port = env.integer("ACCOUNTS_DB_PORT", 3306, 1, 65_535);
  const secretArn = env.optionalText("ACCOUNTS_DB_SECRET_ARN");
  if (secretArn === undefined) {
    return {
      host: env.text("ACCOUNTS_DB_HOST"),
      port,
      database: env.text("ACCOUNTS_DB_NAME"),
      user: env.text("ACCOUNTS_DB_USER"),
      password: env.text("ACCOUNTS_DB_PASSWORD"),
    };
  }
  const credentials = container.once("secret", () => {
    const client = new SecretsManagerClient(container.clientOptions("SECRETS_MANAGER_ENDPOINT", 3_000));
    return new SecretDatabaseCredentials(new SecretsProvider({ awsSdkV3Client: client }), secretArn, {
      fallback: { ...optional("host", host), ...optional("dbname", name), port },
    });
  });
  const secret = await credentials.get({ refresh });
  return {
    host: secret.host,
    port: secret.port,
    database: secret.dbname,
    user: secret.username,
    password: secret.password,
  };
}

function end(pool: Pool): Promise<void> {
  return new Promise<void>((resolve) => pool.end(() => resolve()));
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
