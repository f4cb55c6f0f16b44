import { createMiddleware } from "hono/factory";
import { routeLabel } from "../services/metrics/metrics.js";
import type { AppEnv } from "../types.js";

/** Count every request and observe its latency and the gateway's own overhead. */
export const recordMetrics = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const metrics = c.get("services").metrics;
  const route = routeLabel(c.req.path);
  const seconds = (performance.now() - c.get("receivedAt")) / 1000;
  metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
  metrics.latency.observe({ route }, seconds);
  metrics.overhead.observe({ route }, Math.max(0, seconds - (c.get("upstreamMs") ?? 0) / 1000));
});
