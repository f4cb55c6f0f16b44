import type { RedisBreaker } from "../redis-breaker.js";
import { MemoryLimiter } from "./memory-limiter.js";
import type {
  AdmitRequest,
  CountedRef,
  LeaseRef,
  LimitDecision,
  Limiter,
  WindowAdd,
} from "./types.js";

/**
 * Redis limits with a local fallback behind the breaker. While Redis is unreachable each instance
 * enforces every limit on its own in-process counters (same semantics, same Lua-equivalent
 * atomicity), so across N instances a window admits up to N × its limit for the outage; counts
 * taken locally are not copied into Redis afterwards (windows are a minute long; the weekly
 * allowance can be over-granted by what the outage admitted). A concurrency lease is released in
 * the store that granted it; a Redis lease whose release failed expires by itself (its TTL).
 */
export class FailoverLimiter implements Limiter {
  private readonly localLeases = new Set<string>();

  constructor(
    private readonly primary: Limiter,
    private readonly breaker: RedisBreaker,
    readonly local: Limiter = new MemoryLimiter(),
  ) {}

  async admit(req: AdmitRequest): Promise<LimitDecision> {
    return this.breaker.run(
      "limits",
      () => this.primary.admit(req),
      async () => {
        const decision = await this.local.admit(req);
        if (decision.allowed && !req.dryRun && req.checks.some((c) => c.kind === "concurrency")) {
          this.localLeases.add(req.lease);
        }
        return decision;
      },
    );
  }

  async release(tag: string, concurrencyId: string, lease: string): Promise<void> {
    if (this.localLeases.delete(lease)) {
      await this.local.release(tag, concurrencyId, lease);
      return;
    }
    await this.breaker.tryRun("limits", () => this.primary.release(tag, concurrencyId, lease));
  }

  async finish(
    tag: string,
    lease: LeaseRef | null,
    adds: WindowAdd[],
    now?: number,
  ): Promise<void> {
    // A lease granted locally ends locally, with its tokens (the outage's counts stay local).
    if (lease && this.localLeases.delete(lease.lease)) {
      await this.local.finish(tag, lease, adds, now);
      return;
    }
    // Redis failing now: the Redis lease expires by its TTL; the tokens count locally.
    await this.breaker.run(
      "limits",
      () => this.primary.finish(tag, lease, adds, now),
      () => this.local.finish(tag, null, adds, now),
    );
  }

  async refund(tag: string, lease: LeaseRef | null, counted: CountedRef[]): Promise<void> {
    // Taken back where it was counted; a Redis failure now leaves the counts (they expire with
    // their window) and the lease (its TTL).
    if (lease && this.localLeases.delete(lease.lease)) {
      await this.local.refund(tag, lease, counted);
      return;
    }
    await this.breaker.tryRun("limits", () => this.primary.refund(tag, lease, counted));
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.local.close()]);
  }
}
