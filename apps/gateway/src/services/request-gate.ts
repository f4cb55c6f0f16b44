import { computeCostMicros } from "@portal/contracts";
import {
  InsufficientBalanceError,
  QuotaExceededError,
  RateLimitedError,
  type RateLimitInfo,
} from "../domain-errors.js";
import type { Reservation } from "./balance/balance-service.js";
import type { Hold } from "./balance/types.js";
import type { ModelRoute } from "./catalog.js";
import { type CompletionContext, type CompletionPlan, promptTokensOf } from "./completions.js";
import {
  type Admission,
  admissionOf,
  admit,
  admitRequest,
  headlineLimit,
  limitRefusal,
} from "./limits/admission.js";
import type { LimitDecision } from "./limits/types.js";
import type { Services } from "./services.js";

/** Extra time a concurrency lease outlives its request's own timeout bound (crash backstop). */
const LEASE_MARGIN_MS = 5_000;

export interface GatePass {
  admission: Admission;
  /** The prepaid reservation, or null for free and postpaid keys. */
  reservation: Reservation | null;
  /** Give both back (errors, disconnects); safe after settle and more than once. */
  release(): Promise<void>;
  /** No router accepted the request: give both back and uncount it from the limits. */
  refund(): Promise<void>;
}

/**
 * Limits, and for a prepaid key the reservation too, decided as one step by the gate (one Redis
 * script with Redis): both are applied or neither is, so a request the limits refuse holds no
 * money and one the balance refuses counts against no limit.
 */
export async function passGate(
  services: Services,
  args: {
    ctx: CompletionContext;
    plan: CompletionPlan;
    route: ModelRoute;
    /** Receives the X-RateLimit-* figures once admitted (even if the balance then refuses). */
    onLimits: (info: RateLimitInfo) => void;
  },
): Promise<GatePass> {
  const { ctx, plan, route } = args;
  // The concurrency lease and the balance hold outlive the request by the same margin.
  const holdMs = plan.timeoutMs + LEASE_MARGIN_MS;
  const limits = { key: ctx.key, requestId: ctx.requestId, leaseTtlMs: holdMs };
  // Settled once per request; freed if never settled, like the concurrency lease.
  const hold = { id: ctx.requestId, ttlMs: holdMs };
  if (ctx.key.billingMode !== "prepaid") {
    const admission = await countRefusal(services, admit(services.limiter, limits));
    if (admission.info) args.onLimits(admission.info);
    return passOf(admission, null);
  }
  const cost = computeCostMicros(
    promptTokensOf(plan),
    plan.maxTokens,
    route.model.inputPriceMicros,
    route.model.outputPriceMicros,
  );
  return enterGate(services, { limits, hold, cost, onLimits: args.onLimits });
}

/** A prepaid admission through the gate. */
async function enterGate(
  services: Services,
  args: {
    limits: Parameters<typeof admitRequest>[0];
    hold: Omit<Hold, "now">;
    cost: bigint;
    onLimits: (info: RateLimitInfo) => void;
  },
): Promise<GatePass> {
  const { key } = args.limits;
  const req = admitRequest(args.limits);
  let decision: LimitDecision | undefined;
  const reserved = services.balance.reserve(key.orgId, args.cost, args.hold, async (hold) => {
    const entry = await services.enforcement.gate.enter(req, {
      orgId: key.orgId,
      amount: args.cost,
      hold,
    });
    decision = entry.decision;
    // The limits refused: nothing was held, nothing counted.
    if (entry.reserve === null) throw limitRefusal(entry.decision);
    return entry.reserve;
  });
  try {
    const reservation = await countRefusal(services, reserved);
    const admission = admissionOf(services.limiter, key, req, decision as LimitDecision);
    if (admission.info) args.onLimits(admission.info);
    return passOf(admission, reservation);
  } catch (err) {
    // The balance refused a request the limits would have admitted: it still learns its limits.
    const info = decision?.allowed ? headlineLimit(decision.states) : null;
    if (info) args.onLimits(info);
    throw err;
  }
}

function passOf(admission: Admission, reservation: Reservation | null): GatePass {
  return {
    admission,
    reservation,
    release: async () => {
      await Promise.all([reservation?.release(), admission.release()]);
    },
    refund: async () => {
      await Promise.all([reservation?.release(), admission.refund()]);
    },
  };
}

/** Count a limit or balance refusal in the metrics, then rethrow it. */
export async function countRefusal<T>(services: Services, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof RateLimitedError) {
      services.metrics.refusals.inc({ code: "rate_limited", scope: err.scope });
    } else if (err instanceof QuotaExceededError) {
      services.metrics.refusals.inc({ code: "quota_exceeded", scope: "org_weekly_allowance" });
    } else if (err instanceof InsufficientBalanceError) {
      services.metrics.refusals.inc({ code: "insufficient_balance", scope: "org_balance" });
    }
    throw err;
  }
}
