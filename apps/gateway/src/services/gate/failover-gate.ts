import type { FailoverBalanceStore } from "../balance/failover-store.js";
import type { AdmitRequest } from "../limits/types.js";
import type { RedisBreaker } from "../redis-breaker.js";
import type { GateEntry, GateStore, HoldRequest } from "./types.js";

/**
 * The Redis gate behind the breaker. While Redis is unreachable the admission goes to `fallback`
 * (a SequentialGate over the limit and balance failovers, which then serve from their local
 * stores). Each reservation Redis grants tells the balance failover what the shared mirror
 * looked like, which is where an outage's local mirror starts.
 */
export class FailoverGate implements GateStore {
  constructor(
    private readonly primary: GateStore,
    private readonly fallback: GateStore,
    private readonly balance: FailoverBalanceStore,
    private readonly breaker: RedisBreaker,
  ) {}

  enter(req: AdmitRequest, h: HoldRequest): Promise<GateEntry> {
    return this.breaker.run(
      "gate",
      async () => {
        const entry = await this.primary.enter(req, h);
        const r = entry.reserve;
        if (r === null || r.kind === "missing") return entry;
        if (r.seen) this.balance.remember(h.orgId, r.seen);
        return { ...entry, reserve: { ...r, via: "primary" } };
      },
      () => this.fallback.enter(req, h),
    );
  }
}
