import { newId } from "@portal/contracts";
import { describe, expect, it } from "vitest";
import type { BalanceStore } from "./types.js";

/**
 * The semantics every balance mirror shares (Redis Lua and in-process), run against each:
 * reservations fit or are refused, settle once per id, unsettled holds expire.
 */
export function balanceStoreSuite(name: string, make: () => BalanceStore): void {
  describe(`${name} balance store`, () => {
    const seeded = async (credits = 1_000n) => {
      const store = make();
      const org = newId("org");
      await store.seed(org, { credits, spent: 100n, watermark: 1 });
      return { store, org };
    };
    const hold = (ttlMs = 60_000, now?: number) => ({
      id: newId("req"),
      ttlMs,
      ...(now !== undefined && { now }),
    });

    it("reserves what fits, refuses what does not with the available amount", async () => {
      const { store, org } = await seeded();
      expect((await store.reserve(org, 600n, hold())).kind).toBe("reserved");
      expect(await store.reserve(org, 301n, hold())).toMatchObject({
        kind: "insufficient",
        available: 300n,
      });
      expect(await store.snapshot(org)).toEqual({ credits: 1_000n, spent: 100n, reserved: 600n });
      expect((await store.reserve(newId("org"), 1n, hold())).kind).toBe("missing");
    });

    it("settles a reservation once: a replayed settlement or release changes nothing", async () => {
      const { store, org } = await seeded();
      const h = hold();
      await store.reserve(org, 500n, h);
      await store.settle(org, h.id, 500n, 420n);
      await store.settle(org, h.id, 500n, 420n);
      await store.release(org, h.id, 500n);
      expect(await store.snapshot(org)).toEqual({ credits: 1_000n, spent: 520n, reserved: 0n });
    });

    it("applies a charge without a reservation (an outage's local charge) once per id", async () => {
      const { store, org } = await seeded();
      const id = newId("req");
      await store.settle(org, id, 0n, 70n);
      await store.settle(org, id, 0n, 70n);
      await store.settle(org, newId("req"), 0n, 5n);
      expect(await store.snapshot(org)).toEqual({ credits: 1_000n, spent: 175n, reserved: 0n });
    });

    it("frees a hold nobody settled once it expires (the org's next reservation sweeps it)", async () => {
      const { store, org } = await seeded();
      const now = Date.now();
      const lost = hold(1_000, now);
      await store.reserve(org, 800n, lost);
      // Still held: the 800 counts until its expiry.
      expect((await store.reserve(org, 200n, hold(60_000, now + 500))).kind).toBe("insufficient");
      const later = hold(60_000, now + 1_001);
      expect((await store.reserve(org, 200n, later)).kind).toBe("reserved");
      expect(await store.snapshot(org)).toEqual({ credits: 1_000n, spent: 100n, reserved: 200n });
      // The expired hold's settlement arrives late (its request outlived the hold): nothing is
      // left to free, but the charge is applied, once, even past zero, as the ledger will be.
      await store.settle(org, lost.id, 800n, 790n);
      await store.settle(org, lost.id, 800n, 790n);
      await store.release(org, lost.id, 800n);
      await store.settle(org, later.id, 200n, 150n);
      expect(await store.snapshot(org)).toEqual({ credits: 1_000n, spent: 1_040n, reserved: 0n });
    });

    it("a hold released after it expired charges nothing (a failed request that ran late)", async () => {
      const { store, org } = await seeded();
      const now = Date.now();
      const lost = hold(1_000, now);
      await store.reserve(org, 800n, lost);
      expect((await store.reserve(org, 100n, hold(60_000, now + 1_001))).kind).toBe("reserved");
      await store.release(org, lost.id, 800n);
      await store.settle(org, lost.id, 800n, 500n); // a later settlement finds it done
      expect(await store.snapshot(org)).toEqual({ credits: 1_000n, spent: 100n, reserved: 100n });
    });
  });
}
