import { CompletionRequest } from "@portal/contracts";
import { Hono } from "hono";
import { parseJsonBody } from "../../../lib/validate.js";
import { EnvelopeStreamEncoder } from "../../../services/streaming/envelope-encoder.js";
import type { AppEnv } from "../../../types.js";
import {
  completionContext,
  idempotencyKeyOf,
  respondWithStream,
  runCompletion,
} from "../completion-request.js";

/** POST /v1/completions: the Portal envelope route (JSON, or SSE envelopes with stream: true). */
export const completionsRoute = new Hono<AppEnv>().post("/", async (c) => {
  const ctx = completionContext(c, "/v1/completions");
  const input = await parseJsonBody(c, CompletionRequest, { anyText: true });
  const idempotencyKey = idempotencyKeyOf(c, input.stream === true);
  c.set("modelAlias", input.model);
  if (input.stream) {
    return respondWithStream(c, {
      ctx,
      input,
      encoder: (route) =>
        new EnvelopeStreamEncoder({
          requestId: ctx.requestId,
          model: input.model,
          routerPool: route.pool.name,
          created: Math.floor(Date.now() / 1000),
        }),
    });
  }
  const outcome = await runCompletion(c, {
    ctx,
    input,
    rawBody: await c.req.text(),
    idempotencyKey,
  });
  return c.body(outcome.body, outcome.status as 200, { "Content-Type": "application/json" });
});
