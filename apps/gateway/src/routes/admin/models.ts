import { CreateModelBody, SetModelAccessBody, UpdateModelBody } from "@portal/contracts";
import { Hono } from "hono";
import { parseJsonBody } from "../../lib/validate.js";
import {
  createModel,
  deleteModelAccess,
  listModels,
  setModelAccess,
  updateModel,
} from "../../services/admin/models.js";
import { invalidation } from "../../services/portal/invalidation.js";
import type { AppEnv } from "../../types.js";
import { actor, param } from "../portal/shared.js";

/** /admin/api/models: aliases, prices, templates and access per plan or org. */
export const modelRoutes = new Hono<AppEnv>()
  .get("/models", async (c) => c.json({ data: await listModels(c.get("services").db) }))
  .post("/models", async (c) => {
    const input = await parseJsonBody(c, CreateModelBody);
    const services = c.get("services");
    const model = await createModel(services.db, actor(c, "operator"), input);
    invalidation.catalogChanged(services);
    return c.json(model, 201);
  })
  .patch("/models/:modelId", async (c) => {
    const input = await parseJsonBody(c, UpdateModelBody);
    const services = c.get("services");
    const model = await updateModel(services.db, actor(c, "operator"), param(c, "modelId"), input);
    invalidation.catalogChanged(services);
    return c.json(model);
  })
  .put("/models/:modelId/access", async (c) => {
    const input = await parseJsonBody(c, SetModelAccessBody);
    const services = c.get("services");
    const rule = await setModelAccess(
      services.db,
      actor(c, "operator"),
      param(c, "modelId"),
      input,
    );
    invalidation.catalogChanged(services);
    return c.json(rule);
  })
  .delete("/models/:modelId/access/:ruleId", async (c) => {
    const services = c.get("services");
    await deleteModelAccess(
      services.db,
      actor(c, "operator"),
      param(c, "modelId"),
      param(c, "ruleId"),
    );
    invalidation.catalogChanged(services);
    return c.body(null, 204);
  });
