import { Hono } from "hono";
import type { RouterEnv } from "../http/env.js";
import { minerView } from "../http/views.js";

/** ping, about (public), info, status, miners. */
export const metaRoutes = new Hono<RouterEnv>()
  .get("/api/v1/ping", (c) =>
    c.json({ status: "ok", message: "pong", time: new Date().toISOString() }),
  )
  .get("/api/v1/about", (c) => {
    const core = c.get("core");
    return c.json({
      name: "portal-router",
      version: core.version,
      description: "Portal router node: sessions, tasks and miners behind the Web2 API",
      api_versions: ["v1", "v2", "v3"],
      auth: "Authorization: Bearer <api_key> on every route except ping and about",
    });
  })
  .get("/api/v1/info", (c) => {
    const core = c.get("core");
    return c.json({
      name: "portal-router",
      version: core.version,
      node_id: core.nodeId,
      started_at: new Date(core.startedAt).toISOString(),
      uptime_s: Math.round((Date.now() - core.startedAt) / 1000),
      api_versions: ["v1", "v2", "v3"],
      default_session_id: core.sessions.defaultSessionId ?? null,
      sessions: core.sessions.size,
      miners: core.miners.list().length,
      miner_ws_path: "/ws/miners",
      blob_store: core.blobBackend,
      streaming: true,
    });
  })
  .get("/api/v1/status", (c) => c.json(c.get("core").status()))
  .get("/api/v1/miners", (c) => {
    const miners = c.get("core").miners.list().map(minerView);
    return c.json({ count: miners.length, miners });
  });
