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
 * and the local fallback of a Redis outage): the reservation first, then the limits; a
 * reservation whose limits refuse is released, and a request the balance refuses is only shown
 * its limits (a dry run), so nothing stays applied unless both pass, as with RedisGate.
 */
export class SequentialGate implements GateStore {
  constructor(
    private readonly limiter: Limiter,
    private readonly balance: BalanceStore,
  ) {}

  async enter(req: AdmitRequest, h: HoldRequest): Promise<GateEntry> {
    checkGateRequest(req, h);
    // The hold's clock is the decision's, as in RedisGate.
    const hold = req.now === undefined ? h.hold : { ...h.hold, now: req.now };
    const reserve = await this.balance.reserve(h.orgId, h.amount, hold);
    if (reserve.kind !== "reserved") {
      // Seeding comes next (missing) or the request is refused: the limits only report.
      return { decision: await this.limiter.admit({ ...req, dryRun: true }), reserve };
    }
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
