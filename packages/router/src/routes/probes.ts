import { Hono } from "hono";
import type { RouterEnv } from "../http/env.js";

/**
 * Orchestration probes, unauthenticated (mounted ahead of the bearer check):
 * `/livez` — the process answers; no dependency, so a router is never restarted for lack of miners.
 * `/readyz` — the node can do work: at least one session configured and one miner connected
 * (503 with `reason` otherwise). Miners dial routers by address, so a not-ready router still
 * accepts them; publish not-ready addresses when the address comes from a headless service.
 * While draining (SIGTERM) readiness is 503 `draining` and liveness stays 200.
 */
export const probeRoutes = new Hono<RouterEnv>()
  .get("/livez", (c) => {
    c.header("Cache-Control", "no-store");
    const core = c.get("core");
    return c.json({ status: "ok", uptime_s: Math.round((Date.now() - core.startedAt) / 1000) });
  })
  .get("/readyz", (c) => {
    c.header("Cache-Control", "no-store");
    const core = c.get("core");
    const checks = { sessions: core.sessions.size, miners: core.miners.list().length };
    if (core.draining) {
      const active = core.tasks.activeCount();
      return c.json(
        { status: "unavailable", reason: "draining", checks: { ...checks, active } },
        503,
      );
    }
    if (checks.sessions === 0) {
      return c.json({ status: "unavailable", reason: "no_sessions", checks }, 503);
    }
    if (checks.miners === 0) {
      return c.json({ status: "unavailable", reason: "no_miners", checks }, 503);
    }
    return c.json({ status: "ready", checks }, 200);
  });
