/**
 * The application's accounts table (MySQL `users`) as erase sees it: the rows of one person, found and deleted
 * by email, the only thing linking a person of the pool to a row. The table is the application's: erase reads
 * it to say whether the person is still there, and deletes their rows only when asked.
 *
 * Emails match as the pool compares them — ignoring case, otherwise letter for letter: `Alice@Example.com`
 * is `alice@example.com` (the pool signs people in by email, case-insensitively, so both are one person), but
 * `jörg@` is not `jorg@`, `a_b@` is not `axb@`, and a trailing space makes another address. Nothing else of a
 * row is read or returned.
 */
export interface ApplicationAccounts {
  /**
   * How many rows hold this email (0 when none). Reads nothing else of them.
   * @throws ValidationError `USER.INVALID` (field `email`) for an empty email; nothing is read then.
   */
  countByEmail(email: string): Promise<number>;

  /**
   * Deletes every row holding this email, in one statement; returns how many went. Idempotent: 0 when none
   * is left.
   * @throws ValidationError `USER.INVALID` (field `email`) for an empty email; nothing is deleted then.
   */
  deleteByEmail(email: string): Promise<number>;
}
