import { Hono, type MiddlewareHandler } from "hono";
import { getAddress } from "viem";
import { FeatureDisabledError } from "../core/errors.js";
import type { RouterCore } from "../core/router-core.js";
import { NonceLedger } from "../core/x402/nonces.js";
import {
  type PaymentRequirements,
  usdToAtomic,
  X402_NETWORKS,
  X402_VERSION,
} from "../core/x402/types.js";
import {
  decodePaymentHeader,
  encodeBase64Json,
  MalformedPaymentError,
  verifyPayment,
} from "../core/x402/verify.js";
import type { Access } from "../http/access.js";
import type { RouterEnv } from "../http/env.js";
import { RouterApiError } from "../http/errors.js";
import { completionHandler } from "./completions.js";
import { delegateHandler } from "./delegate.js";
import { factcheckHandler } from "./factcheck.js";
import { validateHandler } from "./validate.js";

type Priced = "default" | "completions";

/**
 * `/api/v{1,2}/x402/…`: x402 protocol v1. Without `X-PAYMENT`: 402 with the `accepts` body. With
 * it: decode (400 when malformed), verify offline (402 with the reason when it fails), reserve the
 * nonce (402 on replay), ask the facilitator's `/verify` when it has one (balance, on-chain nonce:
 * 402 with its reason, e.g. `insufficient_funds`), run the route, settle through the facilitator
 * when the route succeeded, and answer `X-PAYMENT-RESPONSE`. 404 when x402 is disabled.
 */
export function x402Routes(core: RouterCore): Hono<RouterEnv> {
  const cfg = core.features.x402;
  const app = new Hono<RouterEnv>();
  const nonces = new NonceLedger();

  const requirements = (price: Priced, resource: string): PaymentRequirements => {
    if (cfg === undefined) throw new FeatureDisabledError("x402 is not configured");
    const net = X402_NETWORKS[cfg.network];
    return {
      scheme: "exact",
      network: cfg.network,
      maxAmountRequired: usdToAtomic(
        price === "completions" ? cfg.price_completions : cfg.price_default,
      ),
      asset: getAddress(cfg.asset ?? net.usdc),
      payTo: getAddress(cfg.pay_to),
      resource,
      description: `Portal router ${new URL(resource).pathname}`,
      mimeType: "application/json",
      outputSchema: null,
      maxTimeoutSeconds: cfg.max_timeout_seconds,
      extra: { name: cfg.asset_name ?? net.name, version: cfg.asset_version ?? net.version },
    };
  };

  const paid =
    (price: Priced): MiddlewareHandler<RouterEnv> =>
    async (c, next) => {
      if (cfg?.enabled !== true) {
        throw new FeatureDisabledError(
          `x402 routes are not enabled on this router (${c.req.path})`,
        );
      }
      const base = core.features.a2a?.public_url;
      const resource = base === undefined ? c.req.url : new URL(c.req.path, base).toString();
      const req = requirements(price, resource);
      const challenge = (error: string, message: string) =>
        c.json({ x402Version: X402_VERSION, error, message, accepts: [req] }, 402);
      const header = c.req.header("x-payment");
      if (header === undefined)
        return challenge("X-PAYMENT header is required", "payment required");
      let payment: ReturnType<typeof decodePaymentHeader>;
      try {
        payment = decodePaymentHeader(header);
      } catch (err) {
        if (err instanceof MalformedPaymentError) {
          throw new RouterApiError("invalid_payment", err.message, { accepts: [req] });
        }
        throw err;
      }
      const verdict = await verifyPayment(payment, req);
      if (!verdict.ok) return challenge(verdict.reason, verdict.message);
      const auth = payment.payload.authorization;
      if (!nonces.reserve(verdict.payer, auth.nonce, Number(auth.validBefore))) {
        return challenge(
          "invalid_exact_evm_payload_authorization_nonce",
          "this authorization nonce was already used",
        );
      }
      if (core.x402Facilitator.verify !== undefined) {
        const checked = await core.x402Facilitator.verify(payment, req).catch((err: unknown) => ({
          isValid: false,
          invalidReason: `unexpected_verify_error: ${(err as Error).message}`,
        }));
        if (!checked.isValid) {
          nonces.release(verdict.payer, auth.nonce);
          return challenge(
            checked.invalidReason ?? "unexpected_verify_error",
            "the facilitator refused the payment",
          );
        }
      }
      await next();
      if (c.res.status >= 400) {
        // Nothing is settled for a failed request; the payer may retry with the same authorization.
        nonces.release(verdict.payer, auth.nonce);
        return;
      }
      const settled = await core.x402Facilitator.settle(payment, req).catch((err: unknown) => ({
        success: false,
        transaction: "",
        network: req.network,
        payer: verdict.payer,
        errorReason: `unexpected_settle_error: ${(err as Error).message}`,
      }));
      if (!settled.success) {
        c.res = challenge(settled.errorReason ?? "unexpected_settle_error", "settlement failed");
        return;
      }
      c.res.headers.set("X-PAYMENT-RESPONSE", encodeBase64Json(settled));
      c.res.headers.set("Access-Control-Expose-Headers", "X-PAYMENT-RESPONSE");
    };

  const fixed = cfg?.sessions;
  const access = (id: number | undefined): Access => ({
    via: "x402",
    fixedSessionId: id ?? fixed?.default,
  });
  app.get("/api/v1/x402/ping", paid("default"), (c) =>
    c.json({ status: "ok", message: "pong", paid: true, time: new Date().toISOString() }),
  );
  const completions = completionHandler(1, access(fixed?.completions));
  app.post("/api/v1/x402/completions", paid("completions"), completions);
  app.post("/api/v1/x402/completions/:sessionId", paid("completions"), completions);
  app.post("/api/v1/x402/delegate", paid("default"), delegateHandler(1, access(fixed?.delegate)));
  app.post("/api/v2/x402/delegate", paid("default"), delegateHandler(2, access(fixed?.delegate)));
  app.post("/api/v1/x402/validate", paid("default"), validateHandler(1, access(fixed?.validate)));
  app.post("/api/v2/x402/validate", paid("default"), validateHandler(2, access(fixed?.validate)));
  app.post("/api/v1/x402/factcheck", paid("default"), factcheckHandler(access(fixed?.factcheck)));
  app.post("/api/v1/x402/fact-check", paid("default"), factcheckHandler(access(fixed?.factcheck)));
  app.all("/api/v1/x402/*", () => {
    throw new FeatureDisabledError("no such x402 route");
  });
  return app;
}
