import { CheckoutBody, type CheckoutResponse } from "@portal/contracts";
import { Hono } from "hono";
import { ApiError } from "../../errors.js";
import { parseJsonBody } from "../../lib/validate.js";
import { PaymentsUnavailableError, startCreditCheckout } from "../../services/billing/payments.js";
import { PaymentProviderError } from "../../services/billing/stripe-client.js";
import { requireRole } from "../../services/portal/orgs.js";
import type { AppEnv } from "../../types.js";
import { exportResponse, parseExportQuery, statementResponse } from "../billing/export-response.js";
import { orgActor } from "./shared.js";

/** Billing money and exports are for owners and admins; members see the billing page only. */
const MANAGERS = ["owner", "admin"] as const;

/**
 * /portal/api/orgs/:orgId/billing/{checkout,exports/usage,exports/ledger,statement}. Every query
 * is scoped to the path's org after a membership check (not a member: 404, as for anything of
 * another org).
 */
export const billingRoutes = new Hono<AppEnv>()
  .post("/checkout", async (c) => {
    const ctx = orgActor(c);
    const services = c.get("services");
    await requireRole(services.db, ctx.userId, ctx.orgId, MANAGERS);
    const cents = (await parseJsonBody(c, CheckoutBody)).amount_cents;
    const p = services.payments;
    if (p && (cents < p.minPurchaseCents || cents > p.maxPurchaseCents)) {
      throw new ApiError("invalid_request", "amount_cents is outside the allowed range.", {
        min: p.minPurchaseCents,
        max: p.maxPurchaseCents,
      });
    }
    try {
      const session = await startCreditCheckout(services.db, p, {
        orgId: ctx.orgId,
        amountCents: cents,
        requestId: ctx.requestId,
      });
      const body: CheckoutResponse = session;
      return c.json(body, 201);
    } catch (err) {
      if (err instanceof PaymentsUnavailableError) {
        throw new ApiError("not_found", err.message, { reason: "payments_not_configured" });
      }
      if (err instanceof PaymentProviderError) {
        services.logger.error({ requestId: ctx.requestId, err }, "stripe checkout failed");
        throw new ApiError("upstream_error", "The payment provider did not accept the request.");
      }
      throw err;
    }
  })
  .get("/exports/:kind{usage|ledger}", async (c) => {
    const ctx = orgActor(c);
    const db = c.get("services").db;
    await requireRole(db, ctx.userId, ctx.orgId, MANAGERS);
    const kind = c.req.param("kind") === "ledger" ? "ledger" : "usage";
    const { orgIdParam: _ignored, ...input } = parseExportQuery(c, kind);
    return exportResponse(db, { ...input, orgId: ctx.orgId });
  })
  .get("/statement", async (c) => {
    const ctx = orgActor(c);
    const db = c.get("services").db;
    await requireRole(db, ctx.userId, ctx.orgId, MANAGERS);
    return statementResponse(c, db, ctx.orgId);
  });
