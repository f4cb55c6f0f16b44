import type { Hold, ReserveResult } from "../balance/types.js";
import type { AdmitRequest, LimitDecision } from "../limits/types.js";

/** What a prepaid request holds of its org's balance while it runs. */
export interface HoldRequest {
  orgId: string;
  amount: bigint;
  hold: Hold;
}

/** The admission of a prepaid request: the limits' decision and the balance's answer. */
export interface GateEntry {
  decision: LimitDecision;
  /** null when the balance was not consulted because the limits refused. */
  reserve: ReserveResult | null;
}

/**
 * The limit decision and the reservation of a prepaid request as one atomic step: both are
 * applied or neither is (a request the limits refuse holds no money, one the balance refuses
 * counts against no limit). A `missing` reservation (no mirror yet) applied nothing either: the
 * caller seeds the mirror and enters again.
 */
export interface GateStore {
  enter(req: AdmitRequest, hold: HoldRequest): Promise<GateEntry>;
}
