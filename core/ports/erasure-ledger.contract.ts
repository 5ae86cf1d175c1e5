import { describe, expect, it } from "vitest";
import { withFixture as runWithFixture } from "./contract-support.js";
import type { ErasureLedger } from "./erasure-ledger.js";

export interface ErasureLedgerFixture {
  readonly ledger: ErasureLedger;
  close?(): Promise<void>;
}

let counter = 0;
function anId(): string {
  counter += 1;
  return `e0000000-0000-4000-8000-${counter.toString(16).padStart(12, "0")}`;
}

/**
 * What every ErasureLedger adapter must do. `makeFixture` gives a fresh, empty ledger; `many` is how many
 * tombstones the listing case records (enough to span several listing pages of the adapter).
 */
export function describeErasureLedgerContract(
  name: string,
  makeFixture: () => Promise<ErasureLedgerFixture>,
  options: { readonly many?: number } = {},
): void {
  describe(`ErasureLedger contract: ${name}`, () => {
    const withFixture = (test: (fixture: ErasureLedgerFixture) => Promise<void>) =>
      runWithFixture(makeFixture, test);

    it("records a tombstone, and then says the person is erased; nobody else is", () =>
      withFixture(async ({ ledger }) => {
        const id = anId();
        expect(await ledger.isErased(id)).toBe(false);
        const erasedAt = new Date("2026-06-01T00:00:00.000Z");
        expect(await ledger.record({ userId: id, erasedAt })).toEqual({ userId: id, erasedAt });
        expect(await ledger.isErased(id)).toBe(true);
        expect(await ledger.isErased(anId())).toBe(false);
      }));

    it("keeps the first tombstone of an id: recording again changes nothing", () =>
      withFixture(async ({ ledger }) => {
        const id = anId();
        const first = new Date("2026-06-01T00:00:00.000Z");
        await ledger.record({ userId: id, erasedAt: first });
        const again = await ledger.record({ userId: id, erasedAt: new Date("2026-07-01T00:00:00.000Z") });
        expect(again).toEqual({ userId: id, erasedAt: first });
        expect([...(await ledger.erasedIds())]).toEqual([id]);
      }));

    it("lists every tombstoned id, across pages", () =>
      withFixture(async ({ ledger }) => {
        expect((await ledger.erasedIds()).size).toBe(0);
        const ids = Array.from({ length: options.many ?? 25 }, anId);
        for (const userId of ids) await ledger.record({ userId, erasedAt: new Date("2026-06-01T00:00:00Z") });
        expect([...(await ledger.erasedIds())].sort()).toEqual([...ids].sort());
      }));

    it("refuses an id that is not a stable user id, and records nothing", () =>
      withFixture(async ({ ledger }) => {
        for (const userId of [
          "../../x",
          "__proto__",
          "A".repeat(2049),
          "E0000000-0000-4000-8000-000000000001",
        ]) {
          await expect(ledger.record({ userId, erasedAt: new Date() })).rejects.toMatchObject({
            code: "USER.INVALID_ID",
            field: "userId",
          });
        }
        expect((await ledger.erasedIds()).size).toBe(0);
      }));
  });
}
