import { Hono } from "hono";
import { apiKeyAuth } from "../../middleware/api-key.js";
import type { AppEnv } from "../../types.js";
import { chatCompletionsRoute } from "./chat/post.js";
import { completionsRoute } from "./completions/post.js";
import { messagesRoute } from "./messages/post.js";
import { listModelsRoute } from "./models/get.js";
import { requestsRoute } from "./requests/get.js";
import { usageRoute } from "./usage/get.js";

/** The customer API under /v1: every route needs an API key. */
export const v1Routes = new Hono<AppEnv>()
  .use("*", apiKeyAuth)
  .route("/models", listModelsRoute)
  .route("/completions", completionsRoute)
  .route("/chat/completions", chatCompletionsRoute)
  .route("/messages", messagesRoute)
  .route("/usage", usageRoute)
  .route("/requests", requestsRoute);
