import { Hono } from "hono";
import {
  AnthropicMessageStreamEncoder,
  buildAnthropicMessage,
  parseAnthropicMessagesRequest,
} from "../../../services/compat/index.js";
import type { AppEnv } from "../../../types.js";
import { serveCompatRoute } from "../compat-route.js";

/** POST /v1/messages: Anthropic's Messages shape (and its named SSE events). */
export const messagesRoute = new Hono<AppEnv>().post("/", (c) =>
  serveCompatRoute(c, {
    route: "/v1/messages",
    parse: parseAnthropicMessagesRequest,
    build: (data) => buildAnthropicMessage(data),
    encoder: ({ id, model }) => new AnthropicMessageStreamEncoder({ id, model }),
  }),
);
