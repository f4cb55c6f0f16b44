import { Hono } from "hono";
import type { AppEnv } from "../../types.js";

/**
 * GET /readyz: 200 when this replica should receive traffic (database reachable, migrations
 * applied, not shutting down; or `degraded` when the database went away after it was ready, see
 * Lifecycle); 503 with `reason` otherwise, so load balancers take it out of rotation before it
 * stops accepting.
 */
export const readyzRoute = new Hono<AppEnv>().get("/", async (c) => {
  const report = await c.get("services").lifecycle.readiness();
  c.header("Cache-Control", "no-store");
  if (report.ready) {
    return c.json(
      report.degraded
        ? { status: "degraded", degraded: report.degraded, checks: report.checks }
        : { status: "ready", checks: report.checks },
      200,
    );
  }
  return c.json({ status: "unavailable", reason: report.reason, checks: report.checks }, 503);
});
