import { count, eq, type SQL, sql } from "drizzle-orm";
import type { MySql2Database } from "drizzle-orm/mysql2";
import type { ApplicationAccounts } from "../../core/ports/application-accounts.js";
import { requireLookupEmail } from "../../core/user/email.js";
import { runAccountsStatement } from "./errors.js";
import { type AccountsTableOptions, resolveAccountsTableNames } from "./options.js";
import { emailColumnTable } from "./schema.js";

/**
 * The privileges erase's reads and deletes need on the accounts table: the purge login's own
 * (`GRANT SELECT, DELETE ON <database>.<table>`), so erase runs with that login and needs no other. SELECT for
 * the count (and because MySQL requires it for a DELETE whose WHERE reads a column), DELETE for the rows.
 */
export const MYSQL_APPLICATION_ACCOUNTS_PRIVILEGES = ["SELECT", "DELETE"] as const;

/**
 * A person's rows of the accounts table in MySQL (RDS) or MariaDB, by email, through drizzle on the accounts
 * pool (`createAccountsPool`).
 *
 * Both statements select the rows with `email = ? AND CAST(LOWER(CONVERT(email USING utf8mb4)) AS BINARY) =
 * CAST(LOWER(CONVERT(? USING utf8mb4)) AS BINARY)`. The first half is the column's own comparison, so the
 * table's email index (the migration's unique one) finds the candidates; an equality, never LIKE, so `%` and
 * `_` are letters. The collation alone would match too much: MySQL 8's default `utf8mb4_0900_ai_ci` and
 * MariaDB's `utf8mb4_general_ci` fold accents (`jörg` = `jorg`), and the PAD SPACE collations ignore trailing
 * spaces. The second half keeps only exact matches once both sides are lowercased in one character set, as
 * the pool compares emails (case-insensitively). A column with a case-sensitive collation (`_bin`, `_cs`)
 * finds only the spelling the pool gives, through its first half: MySQL's default collations ignore case.
 *
 * The DELETE is one statement: the server evaluates the condition under its own row locks, and through the
 * email index it locks only the matching rows. Without an index on the email column it reads (and, under
 * REPEATABLE READ, locks) the table for the statement's length; add one there.
 *
 * Driver failures come out as `DATABASE.AUTH_FAILED` or `SERVICE.UNREACHABLE` (see `toAccountsDatabaseError`);
 * nothing is retried. Nothing of a row other than its count is read, and no message holds the email.
 *
 * Privileges: {@link MYSQL_APPLICATION_ACCOUNTS_PRIVILEGES}.
 */
export class MysqlApplicationAccounts implements ApplicationAccounts {
  private readonly table: ReturnType<typeof emailColumnTable>;

  /** @throws ValidationError `CONFIG.INVALID` naming the option when a table or column name is not a plain identifier. */
  constructor(
    private readonly db: MySql2Database<Record<string, unknown>>,
    options: AccountsTableOptions = {},
  ) {
    this.table = emailColumnTable(resolveAccountsTableNames(options));
  }

  async countByEmail(email: string): Promise<number> {
    const where = this.holding(email);
    const [row] = await runAccountsStatement(() =>
      this.db.select({ rows: count() }).from(this.table).where(where),
    );
    return row?.rows ?? 0;
  }

  async deleteByEmail(email: string): Promise<number> {
    const where = this.holding(email);
    const [result] = await runAccountsStatement(() => this.db.delete(this.table).where(where));
    return result.affectedRows;
  }

  private holding(email: string): SQL {
    const wanted = requireLookupEmail(email);
    const folded = (value: SQL | typeof this.table.email) =>
      sql`cast(lower(convert(${value} using utf8mb4)) as binary)`;
    return sql`(${eq(this.table.email, wanted)} and ${folded(this.table.email)} = ${folded(sql`${wanted}`)})`;
  }
}
