/**
 * The erasure ledger: who has been erased, so an erased person stays erased whatever runs at the same time
 * or later (a snapshot that listed them before, a restore planned before, a retried trigger, reconcile).
 * A tombstone holds the stable user id and when — nothing else about the person.
 */
export interface Tombstone {
  /** The stable user id (a UUID, see `stableUserId`). */
  readonly userId: string;
  readonly erasedAt: Date;
}

export interface ErasureLedger {
  /**
   * Records the tombstone, durably, before the caller deletes anything. Idempotent: when the id is already
   * tombstoned, the first tombstone is kept (its `erasedAt` included) and it is returned.
   *
   * @throws ValidationError `USER.INVALID_ID` for an id that is not a stable user id (nothing is written).
   */
  record(tombstone: Tombstone): Promise<Tombstone>;

  /** Whether the id is tombstoned: a read that sees every tombstone recorded before it started. */
  isErased(userId: string): Promise<boolean>;

  /**
   * Every tombstoned id. Tombstones are few (one per erasure, against millions of users), so a long job loads
   * them once and looks ids up in memory, then loads them again before it commits what it wrote.
   */
  erasedIds(): Promise<ReadonlySet<string>>;
}

/** The ids among `ids` that the ledger holds a tombstone for (one `erasedIds` read). */
export async function tombstonedAmong(ledger: ErasureLedger, ids: Iterable<string>): Promise<Set<string>> {
  const erased = await ledger.erasedIds();
  const found = new Set<string>();
  for (const id of ids) if (erased.has(id)) found.add(id);
  return found;
}
