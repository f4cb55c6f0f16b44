import { Hono } from "hono";
import type { AppEnv } from "../../types.js";

/**
 * GET /livez: the process is up and its event loop got round to answering. Checks no dependency
 * on purpose, and stays 200 while draining, so an orchestrator never restarts a replica because
 * Postgres is down or because it is finishing its in-flight requests.
 */
export const livezRoute = new Hono<AppEnv>().get("/", (c) => {
  c.header("Cache-Control", "no-store");
  return c.json({
    status: "ok",
    uptime_s: Math.round((Date.now() - c.get("services").lifecycle.startedAt) / 1000),
  });
});
