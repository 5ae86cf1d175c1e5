/**
 * The application's accounts table (MySQL `users`): rows with `confirmed_at` and `confirmation_sent_at`.
 * Only what the purge needs. E-mails are read only to name, to an operator and masked, whom a preview deletes.
 */
export interface AccountStore {
  /** Number of rows in the table (for the share-of-table safety rule). */
  countAll(): Promise<number>;

  /**
   * Number of rows never confirmed whose confirmation was sent strictly before `cutoff` and, given `since`, at
   * or after it (the purge's refusal rule counts the recent ones).
   */
  countExpiredUnconfirmed(cutoff: Date, since?: Date): Promise<number>;

  /**
   * When the newest confirmation among rows never confirmed was sent, counting only those sent at or before
   * `notAfter` (a row dated in the future is not the newest sign-up); `undefined` when there is none. One read
   * of the end of the purge index.
   */
  newestUnconfirmedSentAt(notAfter: Date): Promise<Date | undefined>;

  /**
   * The emails of the first `limit` rows {@link deleteExpiredUnconfirmed} would delete without `keys`: never
   * confirmed, sent strictly before `cutoff`, oldest first (then by primary key). For a preview to name, masked,
   * whom it deletes; the caller never logs them.
   * @throws ValidationError `PURGE.INVALID_INPUT` naming `limit` or `cutoff` when it is not valid.
   */
  oldestExpiredUnconfirmedEmails(cutoff: Date, limit: number): Promise<string[]>;

  /** The smallest and the largest primary key in the table; `undefined` when the table is empty. */
  keyBounds(): Promise<AccountKeyBounds | undefined>;

  /**
   * Deletes at most `limit` rows that are unconfirmed and whose confirmation was sent strictly before
   * `cutoff`, in one short statement. The condition is evaluated by the delete itself, so a row confirmed in
   * the meantime is never deleted. Returns how many rows were deleted.
   *
   * - Without `keys`: oldest first (by `confirmation_sent_at`, then primary key), reading the purge index.
   *   0 means none are left.
   * - With `keys`: only rows whose primary key is in `[keys.from, keys.to)`, in key order, reading that stretch
   *   of the table itself. 0 means none are left in that stretch.
   */
  deleteExpiredUnconfirmed(cutoff: Date, limit: number, keys?: AccountKeyRange): Promise<number>;
}

/** The primary keys at both ends of the accounts table (whole numbers). */
export interface AccountKeyBounds {
  readonly first: number;
  readonly last: number;
}

/** A stretch of the accounts table by primary key: `from` included, `to` excluded. */
export interface AccountKeyRange {
  readonly from: number;
  readonly to: number;
}
