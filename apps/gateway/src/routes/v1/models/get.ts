import { Hono } from "hono";
import { ApiError } from "../../../errors.js";
import type { AppEnv } from "../../../types.js";

/** GET /v1/models: the caller's allowed models in the OpenAI list shape. */
export const listModelsRoute = new Hono<AppEnv>().get("/", async (c) => {
  const key = c.get("apiKey");
  if (!key) throw new ApiError("unauthorized", "Missing API key.");
  const models = await c.get("services").catalog.listAllowed(key.planId, key.orgId);
  return c.json({
    object: "list",
    data: models.map((m) => ({
      id: m.alias,
      object: "model",
      created: Math.floor(m.createdAt.getTime() / 1000),
      owned_by: m.ownedBy,
    })),
  });
});
