import { countTokens } from "@portal/router/tokens";
import { Hono } from "hono";
import { ApiError } from "../../../errors.js";
import {
  AnthropicMessageStreamEncoder,
  buildAnthropicMessage,
  inVendorTerms,
  parseAnthropicCountTokensRequest,
  parseAnthropicMessagesRequest,
  renderChatPrompt,
} from "../../../services/compat/index.js";
import { resolveModelRoute } from "../../../services/completions.js";
import type { AppEnv } from "../../../types.js";
import { serveCompatRoute } from "../compat-route.js";
import { completionContext } from "../completion-request.js";

/** POST /v1/messages: Anthropic's Messages shape (and its named SSE events). */
export const messagesRoute = new Hono<AppEnv>()
  .post("/", (c) =>
    serveCompatRoute(c, {
      route: "/v1/messages",
      parse: parseAnthropicMessagesRequest,
      build: (data) => buildAnthropicMessage(data),
      encoder: ({ id, model }) => new AnthropicMessageStreamEncoder({ id, model }),
    }),
  )
  /**
   * POST /v1/messages/count_tokens: the prompt's token count as the model would see it (rendered
   * with its template, counted with the tokenizer that prices it), so clients can budget a
   * context before sending. Nothing runs on a router; no limit or balance is spent.
   */
  .post("/count_tokens", async (c) => {
    const ctx = completionContext(c, "/v1/messages");
    const parsed = parseAnthropicCountTokensRequest(await c.req.text());
    if (!parsed.ok) {
      throw new ApiError(parsed.error.code, parsed.error.message, parsed.error.details);
    }
    const req = parsed.value;
    c.set("modelAlias", req.completion.model);
    c.header("request-id", ctx.requestId);
    try {
      const route = await resolveModelRoute(c.get("services"), ctx.key, req.completion.model);
      const prompt = renderChatPrompt(route.model.promptTemplate, req.chat);
      return c.json({ input_tokens: countTokens(prompt) });
    } catch (err) {
      throw inVendorTerms(err, req.fieldNames);
    }
  });
