import path from "node:path";
import type { MySql2Database } from "drizzle-orm/mysql2";
import { migrate } from "drizzle-orm/mysql2/migrator";
import { toAccountsDatabaseError } from "./errors.js";

/**
 * The folder of the generated migrations (SQL files and `meta/_journal.json`). A bundle (esbuild) must ship it
 * next to the bundled code under the same relative path, or pass its own folder to {@link migrateAccounts}.
 */
export const ACCOUNTS_MIGRATIONS_FOLDER = path.join(__dirname, "migrations");

/**
 * Creates or upgrades the accounts table (with the index the purge needs) in the pool's database, applying the
 * migrations drizzle-kit generated from `schema.ts` that the database has not seen yet (recorded in
 * `__drizzle_migrations`). Idempotent. For new databases, the local stack and tests: an existing application
 * schema is migrated by the application. Needs CREATE, ALTER, INDEX, SELECT and INSERT in that database.
 * @throws LifecycleError `DATABASE.AUTH_FAILED` or `SERVICE.UNREACHABLE` as the store does.
 */
export async function migrateAccounts(
  db: MySql2Database<Record<string, unknown>>,
  migrationsFolder: string = ACCOUNTS_MIGRATIONS_FOLDER,
): Promise<void> {
  try {
    await migrate(db, { migrationsFolder });
  } catch (error) {
    throw toAccountsDatabaseError(error);
  }
}
