import type { AccountKeyBounds, AccountKeyRange, AccountStore } from "../../core/ports/account-store.js";
import { Outage } from "./outage.js";

export interface AccountRow {
  readonly id: number;
  readonly email: string;
  confirmedAt: Date | null;
  confirmationSentAt: Date | null;
}

/** The accounts table in memory, deleting exactly what the batched SQL purge would. */
export class InMemoryAccountStore implements AccountStore {
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

  async countExpiredUnconfirmed(cutoff: Date): Promise<number> {
    this.outage.check();
    return this.expired(cutoff).length;
  }

  /** Called after each delete statement, with the stretch of keys it was given (if any). */
  afterDelete: ((keys: AccountKeyRange | undefined) => void) | undefined;

  async keyBounds(): Promise<AccountKeyBounds | undefined> {
    this.outage.check();
    const ids = [...this.rows.keys()];
    return ids.length === 0 ? undefined : { first: Math.min(...ids), last: Math.max(...ids) };
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
        : expired.sort(
            (a, b) =>
              (a.confirmationSentAt?.getTime() ?? 0) - (b.confirmationSentAt?.getTime() ?? 0) || a.id - b.id,
          )
    ).slice(0, limit);
    for (const row of victims) this.rows.delete(row.id);
    this.afterDelete?.(keys);
    return victims.length;
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
