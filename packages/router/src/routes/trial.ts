import { Hono, type MiddlewareHandler } from "hono";
import { FeatureDisabledError } from "../core/errors.js";
import type { RouterCore } from "../core/router-core.js";
import { TrialQuota } from "../core/trial.js";
import type { Access } from "../http/access.js";
import { clientIp } from "../http/client-ip.js";
import type { RouterEnv } from "../http/env.js";
import { completionHandler } from "./completions.js";
import { delegateHandler } from "./delegate.js";
import { factcheckHandler } from "./factcheck.js";
import { validateHandler } from "./validate.js";

/** Statuses of trial requests that ran nothing: 400 bad input, 404 unknown session, 503 no miner. */
const REFUNDED = new Set([400, 404, 503]);

/**
 * `/api/v1/trial/…` and `/api/v2/trial/…`: no API key, a quota per client IP (default 1 request
 * per 900 s), optional fixed trial sessions (otherwise the caller names one). 404 when disabled.
 */
export function trialRoutes(core: RouterCore): Hono<RouterEnv> {
  const cfg = core.features.trial;
  const app = new Hono<RouterEnv>();
  const quota = new TrialQuota(cfg?.max_requests ?? 1, (cfg?.window_seconds ?? 900) * 1000);
  const gate: MiddlewareHandler<RouterEnv> = async (c, next) => {
    if (cfg?.enabled !== true) {
      throw new FeatureDisabledError(`trial routes are not enabled on this router (${c.req.path})`);
    }
    const ip = clientIp(c, cfg.trust_proxy);
    const at = Date.now();
    const { remaining } = quota.take(ip, at);
    c.header("X-Trial-Remaining", String(remaining));
    await next();
    // A request refused before any miner worked on it (bad body, unknown session, no free miner)
    // does not use up the client's trial: a typo must not cost a trial user the whole window.
    if (REFUNDED.has(c.res.status)) {
      quota.refund(ip, at);
      c.res.headers.set("X-Trial-Remaining", String(remaining + 1));
    }
  };
  const fixed = cfg?.sessions;
  const access = (id: number | undefined): Access => ({ via: "trial", fixedSessionId: id });
  app.use("/api/v1/trial/*", gate);
  app.use("/api/v2/trial/*", gate);
  app.post("/api/v1/trial/completions", completionHandler(1, access(fixed?.completions)));
  app.post(
    "/api/v1/trial/completions/:sessionId",
    completionHandler(1, access(fixed?.completions)),
  );
  app.post("/api/v1/trial/delegate", delegateHandler(1, access(fixed?.delegate)));
  app.post("/api/v2/trial/delegate", delegateHandler(2, access(fixed?.delegate)));
  app.post("/api/v1/trial/validate", validateHandler(1, access(fixed?.validate)));
  app.post("/api/v2/trial/validate", validateHandler(2, access(fixed?.validate)));
  app.post("/api/v1/trial/factcheck", factcheckHandler(access(fixed?.factcheck)));
  app.post("/api/v1/trial/fact-check", factcheckHandler(access(fixed?.factcheck)));
  return app;
}
