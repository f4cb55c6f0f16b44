import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../../errors.js";
import { applyPaymentEvent } from "../../services/billing/payments.js";
import type { PaymentEvent } from "../../services/billing/stripe-client.js";
import type { AppEnv } from "../../types.js";

/**
 * `POST /webhooks/stripe`: Stripe's event deliveries. The signature (`Stripe-Signature`, HMAC of
 * timestamp + raw body with STRIPE_WEBHOOK_SECRET) is checked by the SDK before anything is read
 * from the body; a forged or tampered body, or a timestamp older than 5 minutes (a replay), is
 * refused with 400. A genuine event delivered twice is acknowledged and changes nothing (the
 * ledger's unique references).
 */
export const stripeWebhookRoutes = new Hono<AppEnv>().post(
  "/",
  bodyLimit({
    maxSize: 1024 * 1024,
    onError: () => {
      throw new ApiError("payload_too_large", "The request body exceeds 1 MiB.");
    },
  }),
  async (c) => {
    const services = c.get("services");
    const payments = services.payments;
    if (!payments) {
      throw new ApiError("not_found", "Stripe is not configured on this installation.", {
        reason: "payments_not_configured",
      });
    }
    const signature = c.req.header("stripe-signature");
    if (!signature) throw new ApiError("invalid_request", "Missing Stripe-Signature header.");
    const raw = await c.req.text();
    let event: PaymentEvent;
    try {
      event = payments.client.verifyWebhook(raw, signature);
    } catch (err) {
      services.logger.warn(
        { requestId: c.get("requestId"), err: (err as Error).message },
        "stripe webhook refused",
      );
      throw new ApiError("invalid_request", "Webhook signature verification failed.");
    }
    const outcome = await applyPaymentEvent(services.db, services.balance, event);
    services.logger.info(
      { requestId: c.get("requestId"), eventId: event.id, type: event.type, outcome },
      "stripe webhook",
    );
    return c.json({ received: true, applied: outcome.applied });
  },
);
