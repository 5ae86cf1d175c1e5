import type { ErasureLedger, Tombstone } from "../../core/ports/erasure-ledger.js";
import { requireStableUserId } from "../../core/user/user.js";
import { Outage } from "./outage.js";

/** Tombstones in a map: the first one recorded for an id stays. */
export class InMemoryErasureLedger implements ErasureLedger {
  private readonly tombstones = new Map<string, Tombstone>();
  readonly outage = new Outage();
  /** Runs before each call, once, then is cleared: a test's hook to interleave another job at that point. */
  beforeNextCall: (() => Promise<void>) | undefined;

  async record(tombstone: Tombstone): Promise<Tombstone> {
    await this.enter();
    requireStableUserId(tombstone.userId, "userId");
    const existing = this.tombstones.get(tombstone.userId);
    if (existing) return { ...existing };
    this.tombstones.set(tombstone.userId, { ...tombstone });
    return { ...tombstone };
  }

  async isErased(userId: string): Promise<boolean> {
    await this.enter();
    return this.tombstones.has(userId);
  }

  async erasedIds(): Promise<ReadonlySet<string>> {
    await this.enter();
    return new Set(this.tombstones.keys());
  }

  /** Every tombstone (test inspection). */
  all(): Tombstone[] {
    return [...this.tombstones.values()];
  }

  private async enter(): Promise<void> {
    const hook = this.beforeNextCall;
    this.beforeNextCall = undefined;
    if (hook) await hook();
    this.outage.check();
  }
}
