import { Hono } from "hono";
import {
  buildChatCompletion,
  OpenAIChatStreamEncoder,
  parseOpenAIChatRequest,
} from "../../../services/compat/index.js";
import type { AppEnv } from "../../../types.js";
import { serveCompatRoute } from "../compat-route.js";

/** POST /v1/chat/completions: OpenAI's chat shape (and `chat.completion.chunk` streams). */
export const chatCompletionsRoute = new Hono<AppEnv>().post("/", (c) =>
  serveCompatRoute(c, {
    route: "/v1/chat/completions",
    parse: parseOpenAIChatRequest,
    build: buildChatCompletion,
    encoder: ({ id, model, includeUsage }) =>
      new OpenAIChatStreamEncoder({
        id,
        model,
        created: Math.floor(Date.now() / 1000),
        includeUsage,
      }),
  }),
);
