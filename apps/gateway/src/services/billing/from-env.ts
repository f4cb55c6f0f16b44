import type { GatewayEnv } from "../../env.js";
import type { PaymentsConfig } from "./payments.js";
import { StripeSdkClient } from "./stripe-client.js";

/**
 * Stripe wiring from the environment; undefined without STRIPE_SECRET_KEY. The default return
 * URLs point at the portal billing page of this gateway.
 */
export function paymentsFromEnv(env: GatewayEnv): PaymentsConfig | undefined {
  if (!env.STRIPE_SECRET_KEY) return undefined;
  const base = `http://${env.HOST}:${env.PORT}/portal/billing`;
  return {
    client: new StripeSdkClient({
      secretKey: env.STRIPE_SECRET_KEY,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET,
      apiBase: env.STRIPE_API_BASE,
    }),
    meterEventName: env.STRIPE_METER_EVENT_NAME,
    successUrl: env.STRIPE_SUCCESS_URL ?? `${base}?checkout=success`,
    cancelUrl: env.STRIPE_CANCEL_URL ?? `${base}?checkout=cancelled`,
    minPurchaseCents: 500,
    maxPurchaseCents: 1_000_000,
  };
}
