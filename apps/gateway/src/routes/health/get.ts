import { Hono } from "hono";
import type { AppEnv } from "../../types.js";

/** GET /health: liveness plus each pool's healthy (active, circuit closed) and total targets. */
export const healthRoute = new Hono<AppEnv>().get("/", async (c) => {
  const services = c.get("services");
  const pools = await services.catalog.pools();
  return c.json({
    status: "ok",
    build: { version: services.config.version, node: process.version },
    pools: pools.map((p) => ({
      name: p.name,
      state: p.state,
      healthy: p.targets.filter(
        (t) => t.state === "active" && services.health.view(t.id) === "healthy",
      ).length,
      total: p.targets.length,
    })),
  });
});
