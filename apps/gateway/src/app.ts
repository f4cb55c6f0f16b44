import { fastBodyLimit } from "@portal/router/body-limit";
import { Hono } from "hono";
import { ApiError, refuseEncodedBody } from "./errors.js";
import { apiCors } from "./middleware/api-cors.js";
import { onError, renderError } from "./middleware/error-handler.js";
import { recordMetrics } from "./middleware/metrics.js";
import { requestContext } from "./middleware/request-context.js";
import { requestLog } from "./middleware/request-log.js";
import { adminApi } from "./routes/admin/index.js";
import { stripeWebhookRoutes } from "./routes/billing/stripe-webhook.js";
import { docsRoutes } from "./routes/docs/get.js";
import { healthRoute } from "./routes/health/get.js";
import { metricsRoute } from "./routes/metrics/get.js";
import { portalApi } from "./routes/portal/index.js";
import { webApp } from "./routes/portal/web-app.js";
import { probeRoutes } from "./routes/probes/index.js";
import { v1Routes } from "./routes/v1/index.js";
import type { Services } from "./services/services.js";
import type { AppEnv } from "./types.js";

/** Build the gateway app. No I/O here: `main.ts` owns processes and sockets. */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requestContext(services));
  app.use("*", recordMetrics);
  // The customer API may be called from a browser (any origin, no credentials); the console
  // APIs (/portal, /admin: cookie sessions) get no CORS at all.
  app.use("/v1/*", apiCors);
  app.use("/v1/*", requestLog);
  app.use(
    "/v1/*",
    fastBodyLimit({
      maxSize: services.config.maxBodyBytes,
      onError: () => {
        throw new ApiError(
          "payload_too_large",
          `The request body exceeds ${services.config.maxBodyBytes} bytes.`,
          {
            limit_bytes: services.config.maxBodyBytes,
          },
        );
      },
      onEncoded: refuseEncodedBody,
    }),
  );
  app.route("/health", healthRoute);
  app.route("/", docsRoutes(services.config.version));
  app.route("/", probeRoutes);
  app.route("/metrics", metricsRoute);
  app.route("/v1", v1Routes);
  app.route("/webhooks/stripe", stripeWebhookRoutes);
  // Console JSON APIs first, then the web app (SPA fallback) for every other /portal, /admin path.
  app.route("/portal/api", portalApi);
  app.route("/admin/api", adminApi);
  app.route("/portal", webApp);
  app.route("/admin", webApp);
  app.notFound((c) =>
    renderError(c, new ApiError("not_found", `No route ${c.req.method} ${c.req.path}.`)),
  );
  app.onError(onError);
  return app;
}
