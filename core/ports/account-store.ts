/**
 * The application's accounts table (MySQL `users`): rows with `confirmed_at` and `confirmation_sent_at`.
 * Only what the purge needs.
 */
export interface AccountStore {
  /** Number of rows in the table (for the share-of-table safety rule). */
  countAll(): Promise<number>;

  /** Number of rows never confirmed whose confirmation was sent strictly before `cutoff`. */
  countExpiredUnconfirmed(cutoff: Date): Promise<number>;

  /**
   * Deletes at most `limit` rows that are unconfirmed and whose confirmation was sent strictly before
   * `cutoff`, oldest first, in one short statement. The condition is evaluated by the delete itself, so a
   * row confirmed in the meantime is never deleted. Returns how many rows were deleted (0 when none are left).
   */
  deleteExpiredUnconfirmed(cutoff: Date, limit: number): Promise<number>;
}
