import {
  CreatePoolBody,
  CreateTargetBody,
  UpdatePoolBody,
  UpdateTargetBody,
} from "@portal/contracts";
import { Hono } from "hono";
import { parseJsonBody } from "../../lib/validate.js";
import {
  addTarget,
  createPool,
  deletePool,
  deleteTarget,
  healthView,
  listPools,
  updatePool,
  updateTarget,
} from "../../services/admin/pools.js";
import { ResourceNotFoundError } from "../../services/portal/errors.js";
import { invalidation } from "../../services/portal/invalidation.js";
import type { AppEnv } from "../../types.js";
import { actor, param } from "../portal/shared.js";

/**
 * /admin/api/pools and /admin/api/targets: pools, router targets, weights, drain/disable and
 * this gateway instance's live health view of each target.
 */
export const poolRoutes = new Hono<AppEnv>()
  .get("/pools", async (c) => {
    const services = c.get("services");
    c.header("Cache-Control", "no-store");
    return c.json({ data: await listPools(services.db, (id) => services.health.detail(id)) });
  })
  .post("/pools", async (c) => {
    const input = await parseJsonBody(c, CreatePoolBody);
    const services = c.get("services");
    const pool = await createPool(services.db, actor(c, "operator"), input);
    invalidation.catalogChanged(services);
    return c.json(pool, 201);
  })
  .patch("/pools/:poolId", async (c) => {
    const input = await parseJsonBody(c, UpdatePoolBody);
    const services = c.get("services");
    await updatePool(services.db, actor(c, "operator"), param(c, "poolId"), input);
    invalidation.catalogChanged(services);
    return c.json({ id: param(c, "poolId"), state: input.state });
  })
  .delete("/pools/:poolId", async (c) => {
    const services = c.get("services");
    await deletePool(services.db, actor(c, "operator"), param(c, "poolId"));
    invalidation.catalogChanged(services);
    return c.body(null, 204);
  })
  .post("/pools/:poolId/targets", async (c) => {
    const input = await parseJsonBody(c, CreateTargetBody);
    const services = c.get("services");
    const target = await addTarget(
      services.db,
      services.secrets,
      actor(c, "operator"),
      param(c, "poolId"),
      input,
    );
    invalidation.catalogChanged(services);
    return c.json(target, 201);
  })
  .patch("/targets/:targetId", async (c) => {
    const input = await parseJsonBody(c, UpdateTargetBody);
    const services = c.get("services");
    const target = await updateTarget(
      services.db,
      services.secrets,
      actor(c, "operator"),
      param(c, "targetId"),
      input,
    );
    invalidation.catalogChanged(services);
    return c.json(target);
  })
  .delete("/targets/:targetId", async (c) => {
    const services = c.get("services");
    await deleteTarget(services.db, actor(c, "operator"), param(c, "targetId"));
    invalidation.catalogChanged(services);
    return c.body(null, 204);
  })
  // Run an active check now (GET {router}/api/v1/status) instead of waiting for the next round.
  .post("/targets/:targetId/check", async (c) => {
    const services = c.get("services");
    const targetId = param(c, "targetId");
    const pools = await services.catalog.pools();
    const target = pools.flatMap((p) => p.targets).find((t) => t.id === targetId);
    if (!target) throw new ResourceNotFoundError("target");
    await services.health.check(target);
    return c.json({ id: targetId, health: healthView(services.health.detail(targetId)) });
  });
