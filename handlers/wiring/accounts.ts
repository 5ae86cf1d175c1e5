/**
 * The accounts store. Credentials come from the secret `ACCOUNTS_DB_SECRET_ARN` (read again when
 * `refreshCredentials`); without a secret (the local stack only) from `ACCOUNTS_DB_USER` and
 * `ACCOUNTS_DB_PASSWORD`. Host, port and database name in the secret win over `ACCOUNTS_DB_HOST`,
 * `ACCOUNTS_DB_PORT`, `ACCOUNTS_DB_NAME`.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { drizzle } from "drizzle-orm/mysql2";
import type { Pool } from "mysql2";
import { MysqlAccountStore } from "../../adapters/mysql/account-store.js";
import { createAccountsPool } from "../../adapters/mysql/pool.js";
import { SecretDatabaseCredentials } from "../../adapters/secrets/database-credentials.js";
import type { AccountStore } from "../../core/ports/account-store.js";
import type { Container } from "../container.js";

interface Built {
  readonly store: AccountStore;
  readonly pool: Pool;
}

export async function accountStore(
  container: Container,
  options: { refreshCredentials: boolean } = { refreshCredentials: false },
): Promise<AccountStore> {
  const cached = container.cached<Built>("accounts");
  if (cached && !options.refreshCredentials) return cached.store;
  if (cached) await end(cached.pool);
  const login = await accountsLogin(container, options.refreshCredentials);
  const env = container.env;
  const pool = createAccountsPool({ ...login, tls: env.flag("ACCOUNTS_DB_TLS", true) });
  const columns = {
    ...optional("id", env.optionalText("ACCOUNTS_ID_COLUMN")),
    ...optional("confirmedAt", env.optionalText("ACCOUNTS_CONFIRMED_AT_COLUMN")),
    ...optional("confirmationSentAt", env.optionalText("ACCOUNTS_CONFIRMATION_SENT_AT_COLUMN")),
  };
  const store = new MysqlAccountStore(drizzle({ client: pool }), {
    ...optional("table", env.optionalText("ACCOUNTS_TABLE")),
    columns,
  });
  container.remember("accounts", { store, pool } satisfies Built);
  return store;
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
