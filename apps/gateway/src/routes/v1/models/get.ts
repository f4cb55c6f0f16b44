import type { Model } from "@portal/db";
import { type Context, Hono } from "hono";
import { ApiError } from "../../../errors.js";
import type { AppEnv } from "../../../types.js";

/**
 * GET /v1/models and /v1/models/:id: the caller's allowed models in the OpenAI list shape, or in
 * Anthropic's Models API shape when the client says `anthropic-version` (every Anthropic SDK
 * does), so both vendors' `models.list()` / `models.retrieve()` work against the same route.
 */
export const listModelsRoute = new Hono<AppEnv>()
  .get("/", async (c) => {
    const models = await allowedModels(c);
    if (!isAnthropic(c)) return c.json({ object: "list", data: models.map(openAIModel) });
    return c.json(anthropicPage(models, c.req.query()));
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const model = (await allowedModels(c)).find((m) => m.alias === id);
    if (!model) {
      throw new ApiError(
        "model_not_found",
        "No such model for this key. GET /v1/models lists the models you can use.",
        { model: id.slice(0, 128) },
      );
    }
    return c.json(isAnthropic(c) ? anthropicModel(model) : openAIModel(model));
  });

async function allowedModels(c: Context<AppEnv>): Promise<Model[]> {
  const key = c.get("apiKey");
  if (!key) throw new ApiError("unauthorized", "Missing API key.");
  return c.get("services").catalog.listAllowed(key.planId, key.orgId);
}

function isAnthropic(c: Context<AppEnv>): boolean {
  return c.req.header("anthropic-version") !== undefined;
}

function openAIModel(m: Model) {
  return {
    id: m.alias,
    object: "model",
    created: Math.floor(m.createdAt.getTime() / 1000),
    owned_by: m.ownedBy,
  };
}

function anthropicModel(m: Model) {
  return {
    type: "model",
    id: m.alias,
    display_name: m.displayName,
    created_at: m.createdAt.toISOString(),
    max_input_tokens: m.contextLength,
    max_tokens: m.maxMaxTokens,
  };
}

/** Anthropic's cursor paging: `limit` (1–1000, default 20), `after_id` / `before_id`. */
function anthropicPage(models: Model[], query: Record<string, string>) {
  const raw = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(raw) || raw < 1 || raw > 1000) {
    throw new ApiError("invalid_request", "limit must be an integer from 1 to 1000.", {
      field: "limit",
    });
  }
  let start = 0;
  let end = models.length;
  if (query.after_id !== undefined) {
    start = models.findIndex((m) => m.alias === query.after_id) + 1;
    if (start === 0) start = models.length;
  }
  if (query.before_id !== undefined) {
    const at = models.findIndex((m) => m.alias === query.before_id);
    end = at === -1 ? 0 : at;
  }
  const window = models.slice(start, end);
  const page = query.before_id !== undefined ? window.slice(-raw) : window.slice(0, raw);
  const hasMore = page.length < window.length;
  return {
    data: page.map(anthropicModel),
    has_more: hasMore,
    first_id: page[0]?.alias ?? null,
    last_id: page.at(-1)?.alias ?? null,
  };
}
