import type { BalanceStore } from "../balance/types.js";
import type { AdmitRequest, Limiter } from "../limits/types.js";
import type { GateEntry, GateStore, HoldRequest } from "./types.js";

/** The guard both gates share: one decision is about one org's counters and balance. */
export function checkGateRequest(req: AdmitRequest, h: HoldRequest): void {
  if (req.tag !== h.orgId || req.dryRun) {
    throw new Error("the gate admits real requests of the org whose balance it holds");
  }
}

/**
 * The gate over a limit store and a balance store that cannot share one atomic step (in process,
 * and the local fallback of a Redis outage), with RedisGate's answers: the limits are looked at
 * first (a dry run), so a request both would refuse is refused by its limits, as the one script
 * does; then the reservation; then the limits are applied, and a reservation whose limits now
 * refuse (a concurrent request took the room) is released. Nothing stays applied unless both
 * pass.
 */
export class SequentialGate implements GateStore {
  constructor(
    private readonly limiter: Limiter,
    private readonly balance: BalanceStore,
  ) {}

  async enter(req: AdmitRequest, h: HoldRequest): Promise<GateEntry> {
    checkGateRequest(req, h);
    const look = await this.limiter.admit({ ...req, dryRun: true });
    if (!look.allowed) return { decision: look, reserve: null };
    // The hold's clock is the decision's, as in RedisGate.
    const hold = req.now === undefined ? h.hold : { ...h.hold, now: req.now };
    const reserve = await this.balance.reserve(h.orgId, h.amount, hold);
    // Seeding comes next (missing) or the balance refuses: the limits only report.
    if (reserve.kind !== "reserved") return { decision: look, reserve };
    try {
      const decision = await this.limiter.admit(req);
      if (decision.allowed) return { decision, reserve };
      await this.balance.release(h.orgId, h.hold.id, h.amount, reserve.via);
      return { decision, reserve: null };
    } catch (err) {
      await this.balance.release(h.orgId, h.hold.id, h.amount, reserve.via);
      throw err;
    }
  }
}
