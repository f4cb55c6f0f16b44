import type { BalanceSeed, BalanceSnapshot, BalanceStore, Hold, ReserveResult } from "./types.js";

/**
 * In-process balance mirror for a single gateway without Redis (same semantics as the Lua
 * scripts; each method runs without yielding, so it is atomic within the process).
 */
export class MemoryBalanceStore implements BalanceStore {
  private readonly entries = new Map<
    string,
    BalanceSnapshot & {
      watermark: number;
      /** Open reservations: id → amount and expiry (as the Redis script's ZSET). */
      open: Map<string, { amount: bigint; expiresAt: number }>;
      /** No open reservation expires before this (a lower bound: sweep only once it passes). */
      sweepAt: number;
      /** Charges applied without a reservation: id → when (kept a day). */
      applied: Map<string, number>;
      /** Holds freed by expiry before their settlement: id → when (kept a day). */
      expired: Map<string, number>;
    }
  >();

  async reserve(orgId: string, amount: bigint, hold: Hold): Promise<ReserveResult> {
    const e = this.entries.get(orgId);
    if (!e) return { kind: "missing" };
    const now = hold.now ?? Date.now();
    if (now >= e.sweepAt) {
      e.sweepAt = Number.POSITIVE_INFINITY;
      for (const [id, at] of e.expired) if (at <= now - 86_400_000) e.expired.delete(id);
      for (const [id, r] of e.open) {
        if (r.expiresAt > now) {
          e.sweepAt = Math.min(e.sweepAt, r.expiresAt);
          continue;
        }
        e.reserved -= r.amount;
        e.open.delete(id);
        e.expired.set(id, now);
      }
    }
    const available = e.credits - e.spent - e.reserved;
    if (available >= amount) {
      e.reserved += amount;
      e.open.set(hold.id, { amount, expiresAt: now + hold.ttlMs });
      e.sweepAt = Math.min(e.sweepAt, now + hold.ttlMs);
      return { kind: "reserved" };
    }
    return { kind: "insufficient", available };
  }

  async settle(orgId: string, id: string, reserved: bigint, charge: bigint): Promise<void> {
    const e = this.entries.get(orgId);
    if (!e) return;
    if (reserved !== 0n) {
      if (e.open.delete(id)) e.reserved -= reserved;
      // Its hold expired first (the request outlived it): the amount is already free; charge.
      else if (!e.expired.delete(id)) return;
    } else {
      if (charge <= 0n) return;
      const now = Date.now();
      for (const [k, at] of e.applied) if (at <= now - 86_400_000) e.applied.delete(k);
      if (e.applied.has(id)) return;
      e.applied.set(id, now);
    }
    if (charge > 0n) e.spent += charge;
  }

  async release(orgId: string, id: string, reserved: bigint): Promise<void> {
    await this.settle(orgId, id, reserved, 0n);
  }

  async seed(orgId: string, seed: BalanceSeed): Promise<void> {
    if (this.entries.has(orgId)) return;
    this.entries.set(orgId, {
      credits: seed.credits,
      spent: seed.spent,
      reserved: 0n,
      watermark: seed.watermark,
      open: new Map(),
      sweepAt: Number.POSITIVE_INFINITY,
      applied: new Map(),
      expired: new Map(),
    });
  }

  async setCredits(orgId: string, credits: bigint, watermark: number): Promise<void> {
    const e = this.entries.get(orgId);
    if (!e || e.watermark > watermark) return;
    e.credits = credits;
    e.watermark = watermark;
  }

  async snapshot(orgId: string): Promise<BalanceSnapshot | null> {
    const e = this.entries.get(orgId);
    return e ? { credits: e.credits, spent: e.spent, reserved: e.reserved } : null;
  }
}
