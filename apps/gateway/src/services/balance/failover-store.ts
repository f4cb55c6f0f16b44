import type { RedisBreaker } from "../redis-breaker.js";
import { MemoryBalanceStore } from "./memory-store.js";
import type {
  BalanceSeed,
  BalanceSnapshot,
  BalanceStore,
  ReservationVia,
  ReserveResult,
} from "./types.js";

/**
 * The Redis balance mirror with a local fallback behind the breaker. While Redis is unreachable an
 * instance reserves against its own mirror seeded from the ledger, so concurrent instances can
 * each spend the remaining balance once: an org can overdraw by up to (instances − 1) × its
 * balance for the outage. Nothing is lost: every charge still reaches the ledger (through the
 * usage spool), and on recovery the charges settled locally are added to the Redis mirror's
 * `spent` and Redis reservations that could not be settled are freed, so the shared mirror is
 * exact again. The local mirror is dropped after each outage,
 * so the next outage starts from the ledger.
 */
export class FailoverBalanceStore implements BalanceStore {
  private local = new MemoryBalanceStore();
  /** Mirror updates Redis could not take (charges settled locally, Redis reservations to free). */
  private pending: Array<{ orgId: string; reserved: bigint; charge: bigint }> = [];

  constructor(
    private readonly primary: BalanceStore,
    private readonly breaker: RedisBreaker,
  ) {
    breaker.onRecover(() => this.reconcileOutage());
  }

  async reserve(orgId: string, amount: bigint): Promise<ReserveResult> {
    return this.breaker.run<ReserveResult>(
      "balance",
      async () => ({ ...(await this.primary.reserve(orgId, amount)), via: "primary" as const }),
      async () => ({ ...(await this.local.reserve(orgId, amount)), via: "fallback" as const }),
    );
  }

  async settle(orgId: string, reserved: bigint, charge: bigint, via?: ReservationVia) {
    if (via === "fallback") {
      await this.local.settle(orgId, reserved, charge);
      // The charge also belongs in the shared mirror (reserved 0: nothing was held there).
      if (charge > 0n) await this.toPrimary(orgId, 0n, charge);
      return;
    }
    // Reserved in Redis: settle there, or remember it until Redis is back.
    await this.toPrimary(orgId, reserved, charge);
  }

  async release(orgId: string, reserved: bigint, via?: ReservationVia): Promise<void> {
    if (via === "fallback") return this.local.release(orgId, reserved);
    await this.toPrimary(orgId, reserved, 0n);
  }

  seed(orgId: string, seed: BalanceSeed): Promise<void> {
    return this.breaker.run(
      "balance",
      () => this.primary.seed(orgId, seed),
      () => this.local.seed(orgId, seed),
    );
  }

  setCredits(orgId: string, credits: bigint, watermark: number): Promise<void> {
    return this.breaker.run(
      "balance",
      () => this.primary.setCredits(orgId, credits, watermark),
      () => this.local.setCredits(orgId, credits, watermark),
    );
  }

  snapshot(orgId: string): Promise<BalanceSnapshot | null> {
    return this.breaker.run(
      "balance",
      () => this.primary.snapshot(orgId),
      () => this.local.snapshot(orgId),
    );
  }

  /** Mirror updates not applied to Redis yet (tests, metrics). */
  get pendingUpdates(): number {
    return this.pending.length;
  }

  private toPrimary(orgId: string, reserved: bigint, charge: bigint): Promise<void> {
    return this.breaker.run(
      "balance",
      () => this.primary.settle(orgId, reserved, charge),
      async () => {
        this.pending.push({ orgId, reserved, charge });
      },
    );
  }

  /** After an outage: apply what Redis missed, and start the next outage from the ledger. */
  private async reconcileOutage(): Promise<void> {
    this.local = new MemoryBalanceStore();
    const todo = this.pending;
    this.pending = [];
    for (let i = 0; i < todo.length; i++) {
      const u = todo[i];
      if (!u) continue;
      try {
        await this.primary.settle(u.orgId, u.reserved, u.charge);
      } catch (err) {
        this.pending.push(...todo.slice(i));
        throw err;
      }
    }
  }
}
