import { Hono } from "hono";
import { requireRole } from "../../services/portal/orgs.js";
import { mintPlaygroundKey } from "../../services/portal/playground.js";
import type { AppEnv } from "../../types.js";
import { orgActor } from "./shared.js";

/**
 * /portal/api/orgs/:orgId/playground-key: a 15-minute, tightly limited key for the playground.
 * Minting a credential is key management, so it takes the same roles as creating a key.
 */
export const playgroundRoutes = new Hono<AppEnv>().post("/playground-key", async (c) => {
  const ctx = orgActor(c);
  const db = c.get("services").db;
  await requireRole(db, ctx.userId, ctx.orgId, ["owner", "admin"]);
  c.header("Cache-Control", "no-store");
  return c.json(await mintPlaygroundKey(db, ctx), 201);
});
