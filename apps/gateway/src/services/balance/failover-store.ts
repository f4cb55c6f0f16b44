import type { RedisBreaker } from "../redis-breaker.js";
import { MemoryBalanceStore } from "./memory-store.js";
import type {
  BalanceSeed,
  BalanceSnapshot,
  BalanceStore,
  Hold,
  MirrorState,
  ReservationVia,
  ReserveResult,
} from "./types.js";

/** Orgs whose last-seen mirror an instance keeps (the least recently reserved are forgotten). */
const MAX_REMEMBERED = 20_000;

/**
 * The Redis balance mirror with a local fallback behind the breaker. While Redis is unreachable an
 * instance reserves against its own mirror, so concurrent instances can each spend the remaining
 * balance once: an org can overdraw by up to (instances − 1) × its balance for the outage. The
 * local mirror of an org starts from the shared mirror as this instance last saw it (every
 * reserve returns it), counting the reservations then in flight as spent; only an org this
 * instance never reserved for is seeded from the ledger, so an outage of Redis does not also need
 * Postgres for the orgs it serves. Nothing is lost: every charge still reaches the ledger
 * (through the usage spool), and on recovery the charges settled locally are added to the Redis
 * mirror's `spent` and Redis reservations that could not be settled are freed, so the shared
 * mirror is exact again. The local mirror is dropped after each outage.
 */
export class FailoverBalanceStore implements BalanceStore {
  private local = new MemoryBalanceStore();
  /** Mirror updates Redis could not take (charges settled locally, Redis reservations to free). */
  private pending: Array<{ orgId: string; id: string; reserved: bigint; charge: bigint }> = [];
  /** The shared mirror per org as the last reserve saw it (most recently used last). */
  private readonly seen = new Map<string, MirrorState>();

  constructor(
    private readonly primary: BalanceStore,
    private readonly breaker: RedisBreaker,
  ) {
    breaker.onRecover(() => this.reconcileOutage());
  }

  async reserve(orgId: string, amount: bigint, hold: Hold): Promise<ReserveResult> {
    return this.breaker.run<ReserveResult>(
      "balance",
      async () => {
        const result = await this.primary.reserve(orgId, amount, hold);
        if (result.kind !== "missing" && result.seen) this.remember(orgId, result.seen);
        return { ...result, via: "primary" as const };
      },
      async () => {
        let result = await this.local.reserve(orgId, amount, hold);
        const seen = this.seen.get(orgId);
        if (result.kind === "missing" && seen) {
          const [credits, spent, reserved, wm] = seen;
          // Reservations in flight then settle into Redis later (or fail): count them as spent.
          await this.local.seed(orgId, {
            credits: BigInt(credits),
            spent: BigInt(spent) + BigInt(reserved),
            watermark: Number(wm),
          });
          result = await this.local.reserve(orgId, amount, hold);
        }
        return { ...result, via: "fallback" as const };
      },
    );
  }

  /** Note the shared mirror of an org as a reserve saw it (what an outage starts from). */
  remember(orgId: string, state: MirrorState): void {
    this.seen.delete(orgId);
    this.seen.set(orgId, state);
    if (this.seen.size > MAX_REMEMBERED) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
  }

  async settle(
    orgId: string,
    id: string,
    reserved: bigint,
    charge: bigint,
    via?: ReservationVia,
  ): Promise<void> {
    if (via === "fallback") {
      await this.local.settle(orgId, id, reserved, charge);
      // The charge also belongs in the shared mirror (reserved 0: nothing was held there).
      if (charge > 0n) await this.toPrimary(orgId, id, 0n, charge);
      return;
    }
    // Reserved in Redis: settle there, or remember it until Redis is back.
    await this.toPrimary(orgId, id, reserved, charge);
  }

  async release(orgId: string, id: string, reserved: bigint, via?: ReservationVia): Promise<void> {
    if (via === "fallback") return this.local.release(orgId, id, reserved);
    await this.toPrimary(orgId, id, reserved, 0n);
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

  /**
   * Settle in Redis, or queue it for after the outage. A settlement whose reply was lost may be
   * both applied and queued: the replay finds the reservation (or the charge's id) already done.
   */
  private toPrimary(orgId: string, id: string, reserved: bigint, charge: bigint): Promise<void> {
    return this.breaker.run(
      "balance",
      () => this.primary.settle(orgId, id, reserved, charge),
      async () => {
        this.pending.push({ orgId, id, reserved, charge });
      },
    );
  }

  /** After an outage: apply what Redis missed; the next outage starts from Redis's state again. */
  private async reconcileOutage(): Promise<void> {
    this.local = new MemoryBalanceStore();
    const todo = this.pending;
    this.pending = [];
    for (let i = 0; i < todo.length; i++) {
      const u = todo[i];
      if (!u) continue;
      try {
        await this.primary.settle(u.orgId, u.id, u.reserved, u.charge);
      } catch (err) {
        this.pending.push(...todo.slice(i));
        throw err;
      }
    }
  }
}
