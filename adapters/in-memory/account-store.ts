import type { AccountKeyBounds, AccountKeyRange, AccountStore } from "../../core/ports/account-store.js";
import type { ApplicationAccounts } from "../../core/ports/application-accounts.js";
import { ValidationError } from "../../core/errors.js";
import { requireLookupEmail, sameEmail } from "../../core/user/email.js";
import { Outage } from "./outage.js";

export interface AccountRow {
  readonly id: number;
  readonly email: string;
  confirmedAt: Date | null;
  confirmationSentAt: Date | null;
}

/**
 * The accounts table in memory, deleting exactly what the batched SQL purge would; also erase's view of it
 * (a person's rows by email).
 */
export class InMemoryAccountStore implements AccountStore, ApplicationAccounts {
  private readonly rows = new Map<number, AccountRow>();
  private nextId = 1;
  readonly outage = new Outage();
  /** Number of delete statements run (one per batch). */
  deleteStatements = 0;
  /** Called before each delete statement: lets a test confirm a row "meanwhile". */
  beforeDelete: (() => void) | undefined;

  insert(row: Omit<AccountRow, "id"> & { id?: number }): AccountRow {
    const id = row.id ?? this.nextId;
    this.nextId = Math.max(this.nextId, id + 1);
    const stored = { ...row, id };
    this.rows.set(id, stored);
    return stored;
  }

  confirm(id: number, at: Date): void {
    const row = this.rows.get(id);
    if (row) row.confirmedAt = at;
  }

  all(): AccountRow[] {
    return [...this.rows.values()].sort((a, b) => a.id - b.id);
  }

  async countAll(): Promise<number> {
    this.outage.check();
    return this.rows.size;
  }

  async countExpiredUnconfirmed(cutoff: Date, since?: Date): Promise<number> {
    this.outage.check();
    const expired = this.expired(cutoff);
    if (since === undefined) return expired.length;
    return expired.filter((row) => (row.confirmationSentAt as Date).getTime() >= since.getTime()).length;
  }

  async newestUnconfirmedSentAt(notAfter: Date): Promise<Date | undefined> {
    this.outage.check();
    let newest: Date | undefined;
    for (const row of this.rows.values()) {
      const sent = row.confirmationSentAt;
      if (row.confirmedAt !== null || sent === null || sent.getTime() > notAfter.getTime()) continue;
      if (newest === undefined || sent.getTime() > newest.getTime()) newest = sent;
    }
    return newest === undefined ? undefined : new Date(newest.getTime());
  }

  /** Called after each delete statement, with the stretch of keys it was given (if any). */
  afterDelete: ((keys: AccountKeyRange | undefined) => void) | undefined;

  async keyBounds(): Promise<AccountKeyBounds | undefined> {
    this.outage.check();
    const ids = [...this.rows.keys()];
    return ids.length === 0 ? undefined : { first: Math.min(...ids), last: Math.max(...ids) };
  }

  async oldestExpiredUnconfirmedEmails(cutoff: Date, limit: number): Promise<string[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new ValidationError("PURGE.INVALID_INPUT", "limit", "must be a whole number of rows, 0 or more");
    }
    this.outage.check();
    return oldestFirst(this.expired(cutoff))
      .slice(0, limit)
      .map((row) => row.email);
  }

  async deleteExpiredUnconfirmed(cutoff: Date, limit: number, keys?: AccountKeyRange): Promise<number> {
    this.beforeDelete?.();
    this.outage.check();
    this.deleteStatements += 1;
    const expired = this.expired(cutoff);
    // With keys: WHERE id >= from AND id < to ORDER BY id LIMIT n; without: ORDER BY confirmation_sent_at, id
    // LIMIT n. The condition is evaluated at delete time.
    const victims = (
      keys
        ? expired.filter((row) => row.id >= keys.from && row.id < keys.to).sort((a, b) => a.id - b.id)
        : oldestFirst(expired)
    ).slice(0, limit);
    for (const row of victims) this.rows.delete(row.id);
    this.afterDelete?.(keys);
    return victims.length;
  }

  async countByEmail(email: string): Promise<number> {
    const wanted = requireLookupEmail(email);
    this.outage.check();
    return this.withEmail(wanted).length;
  }

  async deleteByEmail(email: string): Promise<number> {
    const wanted = requireLookupEmail(email);
    this.outage.check();
    const victims = this.withEmail(wanted);
    for (const row of victims) this.rows.delete(row.id);
    return victims.length;
  }

  private withEmail(email: string): AccountRow[] {
    return [...this.rows.values()].filter((row) => sameEmail(row.email, email));
  }

  private expired(cutoff: Date): AccountRow[] {
    return [...this.rows.values()].filter(
      (row) =>
        row.confirmedAt === null &&
        row.confirmationSentAt !== null &&
        row.confirmationSentAt.getTime() < cutoff.getTime(),
    );
  }
}

/** The purge's order: by `confirmation_sent_at`, then by key. */
function oldestFirst(rows: AccountRow[]): AccountRow[] {
  return rows.sort(
    (a, b) => (a.confirmationSentAt?.getTime() ?? 0) - (b.confirmationSentAt?.getTime() ?? 0) || a.id - b.id,
  );
}
