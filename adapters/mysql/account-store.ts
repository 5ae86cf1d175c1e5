import { and, asc, count, gte, isNull, lt, lte, max, min, type SQL, sql } from "drizzle-orm";
import type { MySql2Database } from "drizzle-orm/mysql2";
import { ValidationError } from "../../core/errors.js";
import type { AccountKeyBounds, AccountKeyRange, AccountStore } from "../../core/ports/account-store.js";
import { runAccountsStatement } from "./errors.js";
import { type AccountsTableOptions, resolveAccountsTableNames } from "./options.js";
import { emailColumnTable, purgeColumnsTable } from "./schema.js";

/**
 * The privileges the store's database user needs on the accounts table, and no more:
 * `GRANT SELECT, DELETE ON <database>.<table> TO <user>`. SELECT for the counts (and because MySQL requires it
 * for a DELETE whose WHERE reads columns), DELETE for the purge. A missing one fails with
 * `DATABASE.AUTH_FAILED`. No IAM action is involved: the password comes from the secret.
 */
export const MYSQL_ACCOUNT_STORE_PRIVILEGES = ["SELECT", "DELETE"] as const;

/** Options of {@link MysqlAccountStore}: the table and column names of an existing schema. */
export type MysqlAccountStoreOptions = AccountsTableOptions;

/**
 * The accounts table in MySQL (RDS) or MariaDB, through drizzle on a mysql2 pool (see `createAccountsPool`,
 * which also sets the UTC session the timestamps rely on).
 *
 * Oldest first, the purge is one statement per batch: `DELETE FROM t WHERE confirmed_at IS NULL AND
 * confirmation_sent_at < ? ORDER BY confirmed_at, confirmation_sent_at, id LIMIT n`. The server evaluates the
 * condition while it deletes, under the delete's own row locks, so a row confirmed after it was counted is never
 * deleted, and each statement locks at most n rows. The order is "oldest first" as the port promises (confirmed_at is NULL in every row that
 * matches, so leading with it changes nothing) and is exactly the order of the purge index, whose entries end
 * with the primary key in InnoDB. Spelling out the leading column matters: on MariaDB 10.11,
 * `ORDER BY confirmation_sent_at, id` made EXPLAIN DELETE say "range; Using where; Using filesort" (all matching
 * rows read and sorted), while this order says "range; Using where" with rows = n (n index entries read, then
 * stop). The integration test asserts that plan.
 *
 * In a stretch of keys (a mass purge walks the table by primary key, see `chooseAccountPurgeWalk`), the statement
 * is `DELETE FROM t WHERE id >= ? AND id < ? AND <the same condition> ORDER BY id LIMIT n`: a range of the
 * primary key, read in order ("range" on PRIMARY, also asserted). Under MySQL's default REPEATABLE READ it locks
 * the rows it reads in that stretch, confirmed ones included, until it ends; the use case keeps it to about
 * 30 ms.
 *
 * An existing schema without the index still works, by a scan: add it there with
 * `CREATE INDEX users_purge_idx ON users (confirmed_at, confirmation_sent_at)`.
 *
 * Driver failures come out as `DATABASE.AUTH_FAILED` (refused login, missing privilege) or
 * `SERVICE.UNREACHABLE`; nothing is retried here (the next scheduled run is the retry).
 *
 * Privileges: {@link MYSQL_ACCOUNT_STORE_PRIVILEGES}.
 */
export class MysqlAccountStore implements AccountStore {
  private readonly table: ReturnType<typeof purgeColumnsTable>;
  /** The same table with its email column, read only to name whom a preview deletes. */
  private readonly named: ReturnType<typeof emailColumnTable>;

  /** @throws ValidationError `CONFIG.INVALID` naming the option when a table or column name is not a plain identifier. */
  constructor(
    private readonly db: MySql2Database<Record<string, unknown>>,
    options: MysqlAccountStoreOptions = {},
  ) {
    const names = resolveAccountsTableNames(options);
    this.table = purgeColumnsTable(names);
    this.named = emailColumnTable(names);
  }

  async countAll(): Promise<number> {
    return this.count();
  }

  async countExpiredUnconfirmed(cutoff: Date, since?: Date): Promise<number> {
    if (since === undefined) return this.count(this.expired(cutoff));
    checkDate(since, "since");
    return this.count(and(this.expired(cutoff), gte(this.table.confirmationSentAt, since)));
  }

  /**
   * `SELECT MAX(confirmation_sent_at) FROM t WHERE confirmed_at IS NULL AND confirmation_sent_at <= ?`: the
   * last entry of the purge index's range, one read.
   */
  async newestUnconfirmedSentAt(notAfter: Date): Promise<Date | undefined> {
    checkDate(notAfter, "notAfter");
    const table = this.table;
    const [row] = await runAccountsStatement(() =>
      this.db
        .select({ newest: max(table.confirmationSentAt) })
        .from(table)
        .where(and(isNull(table.confirmedAt), lte(table.confirmationSentAt, notAfter))),
    );
    // MAX of the column comes back through its UTC mapping as a Date, or NULL when no row matches.
    return row?.newest == null ? undefined : new Date(row.newest);
  }

  /**
   * `SELECT email FROM t WHERE <the purge's condition> ORDER BY confirmed_at, confirmation_sent_at, id LIMIT n`:
   * the purge index in order, as the delete reads it, then n rows for their email.
   */
  async oldestExpiredUnconfirmedEmails(cutoff: Date, limit: number): Promise<string[]> {
    checkLimit(limit);
    const table = this.named;
    const rows = await runAccountsStatement(() =>
      this.db
        .select({ email: table.email })
        .from(table)
        .where(expiredIn(table, cutoff))
        .orderBy(asc(table.confirmedAt), asc(table.confirmationSentAt), asc(table.id))
        .limit(limit),
    );
    return rows.map((row) => row.email);
  }

  async keyBounds(): Promise<AccountKeyBounds | undefined> {
    const [row] = await runAccountsStatement(() =>
      this.db.select({ first: min(this.table.id), last: max(this.table.id) }).from(this.table),
    );
    // MIN and MAX of an integer key come back as numbers, or NULL in an empty table.
    if (row?.first == null || row.last == null) return undefined;
    return { first: Number(row.first), last: Number(row.last) };
  }

  async deleteExpiredUnconfirmed(cutoff: Date, limit: number, keys?: AccountKeyRange): Promise<number> {
    checkLimit(limit);
    if (keys && !(Number.isSafeInteger(keys.from) && Number.isSafeInteger(keys.to) && keys.from <= keys.to)) {
      throw new ValidationError("PURGE.INVALID_INPUT", "keys", "must be whole numbers with from <= to");
    }
    const where = this.expired(cutoff);
    const [result] = await runAccountsStatement(() =>
      keys
        ? this.db
            .delete(this.table)
            .where(and(gte(this.table.id, keys.from), lt(this.table.id, keys.to), where))
            .orderBy(asc(this.table.id))
            .limit(limit)
        : this.db
            .delete(this.table)
            .where(where)
            .orderBy(asc(this.table.confirmedAt), asc(this.table.confirmationSentAt), asc(this.table.id))
            .limit(limit),
    );
    return result.affectedRows;
  }

  private async count(where?: SQL): Promise<number> {
    const [row] = await runAccountsStatement(() =>
      this.db.select({ rows: count() }).from(this.table).where(where),
    );
    return row?.rows ?? 0;
  }

  private expired(cutoff: Date): SQL {
    return expiredIn(this.table, cutoff);
  }
}

/** Never confirmed, and sent strictly before `cutoff`: the purge's condition, on either view of the table. */
function expiredIn(
  table: Pick<ReturnType<typeof purgeColumnsTable>, "confirmedAt" | "confirmationSentAt">,
  cutoff: Date,
): SQL {
  if (Number.isNaN(cutoff.getTime())) {
    throw new ValidationError("PURGE.INVALID_INPUT", "cutoff", "must be a valid date");
  }
  // `lt` on the column binds the cutoff through the column's UTC mapping, not mysql2's own date formatting.
  return sql`(${isNull(table.confirmedAt)} and ${lt(table.confirmationSentAt, cutoff)})`;
}

function checkDate(value: Date, field: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError("PURGE.INVALID_INPUT", field, "must be a valid date");
  }
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new ValidationError("PURGE.INVALID_INPUT", "limit", "must be a whole number of rows, 0 or more");
  }
}
