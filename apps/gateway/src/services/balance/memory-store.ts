import type { BalanceSeed, BalanceSnapshot, BalanceStore, ReserveResult } from "./types.js";

/**
 * In-process balance mirror for a single gateway without Redis (same semantics as the Lua
 * scripts; each method runs without yielding, so it is atomic within the process).
 */
export class MemoryBalanceStore implements BalanceStore {
  private readonly entries = new Map<string, BalanceSnapshot & { watermark: number }>();

  async reserve(orgId: string, amount: bigint): Promise<ReserveResult> {
    const e = this.entries.get(orgId);
    if (!e) return { kind: "missing" };
    const available = e.credits - e.spent - e.reserved;
    if (available >= amount) {
      e.reserved += amount;
      return { kind: "reserved" };
    }
    return { kind: "insufficient", available };
  }

  async settle(orgId: string, reserved: bigint, charge: bigint): Promise<void> {
    const e = this.entries.get(orgId);
    if (!e) return;
    e.reserved -= reserved;
    if (charge > 0n) e.spent += charge;
  }

  async release(orgId: string, reserved: bigint): Promise<void> {
    await this.settle(orgId, reserved, 0n);
  }

  async seed(orgId: string, seed: BalanceSeed): Promise<void> {
    if (this.entries.has(orgId)) return;
    this.entries.set(orgId, {
      credits: seed.credits,
      spent: seed.spent,
      reserved: 0n,
      watermark: seed.watermark,
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
