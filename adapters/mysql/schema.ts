import { bigint, datetime, index, mysqlTable, varchar } from "drizzle-orm/mysql-core";

/**
 * The names of the accounts table and of the columns the purge and erase read. The defaults are those of the table
 * created by the migration (and of Devise-style `users` tables); an existing schema can name them otherwise.
 */
export interface AccountsTableNames {
  readonly table: string;
  /** The primary key: the tie-breaker of "oldest first". */
  readonly id: string;
  readonly confirmedAt: string;
  readonly confirmationSentAt: string;
  /** The email: how erase finds a person's rows, and how a purge preview names whom it deletes (masked). */
  readonly email: string;
}

export const DEFAULT_ACCOUNTS_TABLE_NAMES: AccountsTableNames = {
  table: "users",
  id: "id",
  confirmedAt: "confirmed_at",
  confirmationSentAt: "confirmation_sent_at",
  email: "email",
};

/**
 * The name of the index that serves the purge. It leads with `confirmed_at` (the equality `IS NULL`), then
 * `confirmation_sent_at` (the range `< cutoff`); InnoDB appends the primary key to every secondary index. So the
 * expired count reads only this index, and the purge's `ORDER BY confirmed_at, confirmation_sent_at, id LIMIT n`
 * reads n entries in index order and stops: no filesort, no visit to confirmed rows. The integration test checks
 * both with EXPLAIN on MariaDB.
 */
export const PURGE_INDEX_NAME = "users_purge_idx";

/**
 * The columns the purge needs, under the given names. Only these: the purge's statements read no e-mail or
 * anything else of an account, so they cannot leak them (a preview reads the email through
 * {@link emailColumnTable}, to name whom it deletes, masked). Datetimes are UTC in `date` mode: drizzle writes and reads them as
 * UTC strings, whatever the time zone of the Node.js process.
 */
function purgeColumns(names: AccountsTableNames) {
  return {
    id: bigint(names.id, { mode: "number", unsigned: true }).primaryKey().autoincrement(),
    confirmedAt: datetime(names.confirmedAt, { mode: "date", fsp: 3 }),
    confirmationSentAt: datetime(names.confirmationSentAt, { mode: "date", fsp: 3 }),
  };
}

/** The accounts table as the store sees it: the purge columns of a table named by configuration. */
export function purgeColumnsTable(names: AccountsTableNames) {
  return mysqlTable(names.table, purgeColumns(names));
}

/**
 * The key and the email of the accounts table, under the given names: what erase reads (and a purge preview,
 * to name whom it deletes). The length is the migration's; an existing column may be shorter or longer.
 */
export function emailColumnTable(names: AccountsTableNames) {
  return mysqlTable(names.table, {
    ...purgeColumns(names),
    email: varchar(names.email, { length: 320 }).notNull(),
  });
}

/**
 * The accounts table as the migration creates it (for new deployments, the local stack and tests). The
 * application owns the table and may add columns of its own; the purge only needs those above.
 */
export const users = mysqlTable(
  DEFAULT_ACCOUNTS_TABLE_NAMES.table,
  {
    ...purgeColumns(DEFAULT_ACCOUNTS_TABLE_NAMES),
    email: varchar(DEFAULT_ACCOUNTS_TABLE_NAMES.email, { length: 320 })
      .notNull()
      .unique("users_email_unique"),
  },
  (table) => [index(PURGE_INDEX_NAME).on(table.confirmedAt, table.confirmationSentAt)],
);
