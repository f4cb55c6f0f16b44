import { computeCostMicros } from "@portal/contracts";
import {
  InsufficientBalanceError,
  QuotaExceededError,
  RateLimitedError,
  type RateLimitInfo,
} from "../domain-errors.js";
import type { Reservation } from "./balance/balance-service.js";
import type { ModelRoute } from "./catalog.js";
import { type CompletionContext, type CompletionPlan, promptTokensOf } from "./completions.js";
import { type Admission, admit } from "./limits/admission.js";
import type { Services } from "./services.js";

/** Extra time a concurrency lease outlives its request's own timeout bound (crash backstop). */
const LEASE_MARGIN_MS = 5_000;

export interface GatePass {
  admission: Admission;
  /** The prepaid reservation, or null for free and postpaid keys. */
  reservation: Reservation | null;
  /** Give both back (errors, disconnects); safe after settle and more than once. */
  release(): Promise<void>;
}

/**
 * Limits and the prepaid reservation, decided together: both Redis scripts are issued in one
 * tick, so with auto-pipelining they cost one round trip instead of two. Whichever refuses
 * first wins; the other's grant is given back before the refusal is thrown.
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
  const admitted = countRefusal(
    services,
    admit(services.limiter, {
      key: ctx.key,
      requestId: ctx.requestId,
      leaseTtlMs: holdMs,
    }),
  );
  const reserved =
    ctx.key.billingMode === "prepaid"
      ? countRefusal(
          services,
          services.balance.reserve(
            ctx.key.orgId,
            computeCostMicros(
              promptTokensOf(plan),
              plan.maxTokens,
              route.model.inputPriceMicros,
              route.model.outputPriceMicros,
            ),
            // Settled once per request; freed if never settled, like the concurrency lease.
            { id: ctx.requestId, ttlMs: holdMs },
          ),
        )
      : Promise.resolve(null);
  const [a, r] = await Promise.allSettled([admitted, reserved]);
  if (a.status === "rejected") {
    if (r.status === "fulfilled") await r.value?.release();
    throw a.reason;
  }
  if (a.value.info) args.onLimits(a.value.info);
  if (r.status === "rejected") {
    await a.value.release();
    throw r.reason;
  }
  const admission = a.value;
  const reservation = r.value;
  return {
    admission,
    reservation,
    release: async () => {
      await Promise.all([reservation?.release(), admission.release()]);
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
