import { CreateKeyBody, RollKeyBody, UpdateKeyBody } from "@portal/contracts";
import { Hono } from "hono";
import { parseJsonBody } from "../../lib/validate.js";
import { invalidation } from "../../services/portal/invalidation.js";
import { createKey, listKeys, revokeKey, rollKey, updateKey } from "../../services/portal/keys.js";
import { requireRole } from "../../services/portal/orgs.js";
import type { AppEnv } from "../../types.js";
import { orgActor, param } from "./shared.js";

/** Who may manage keys: owners and admins. Members see the masked list only. */
const MANAGERS = ["owner", "admin"] as const;

/** /portal/api/orgs/:orgId/keys: masked list, create (plaintext once), limits, roll, revoke. */
export const keyRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const ctx = orgActor(c);
    const db = c.get("services").db;
    await requireRole(db, ctx.userId, ctx.orgId);
    return c.json({ data: await listKeys(db, ctx.orgId) });
  })
  .post("/", async (c) => {
    const ctx = orgActor(c);
    const db = c.get("services").db;
    await requireRole(db, ctx.userId, ctx.orgId, MANAGERS);
    const input = await parseJsonBody(c, CreateKeyBody);
    c.header("Cache-Control", "no-store");
    return c.json(await createKey(db, ctx, input), 201);
  })
  .patch("/:keyId", async (c) => {
    const ctx = orgActor(c);
    const services = c.get("services");
    await requireRole(services.db, ctx.userId, ctx.orgId, MANAGERS);
    const input = await parseJsonBody(c, UpdateKeyBody);
    const { key, hash } = await updateKey(services.db, ctx, param(c, "keyId"), input);
    invalidation.keysChanged(services, [hash]);
    return c.json(key);
  })
  .post("/:keyId/roll", async (c) => {
    const ctx = orgActor(c);
    const services = c.get("services");
    await requireRole(services.db, ctx.userId, ctx.orgId, MANAGERS);
    const input = await parseJsonBody(c, RollKeyBody);
    const { oldHash, ...rolled } = await rollKey(
      services.db,
      ctx,
      param(c, "keyId"),
      input.grace_seconds,
    );
    invalidation.keysChanged(services, [oldHash]);
    c.header("Cache-Control", "no-store");
    return c.json(rolled, 201);
  })
  .post("/:keyId/revoke", async (c) => {
    const ctx = orgActor(c);
    const services = c.get("services");
    await requireRole(services.db, ctx.userId, ctx.orgId, MANAGERS);
    const { key, hash } = await revokeKey(services.db, ctx, param(c, "keyId"));
    invalidation.keysChanged(services, [hash]);
    return c.json(key);
  });
