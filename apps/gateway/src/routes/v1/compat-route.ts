import type { CompletionData, OkEnvelope } from "@portal/contracts";
import type { Context } from "hono";
import { ApiError } from "../../errors.js";
import {
  type CompatParseResult,
  type CompatRequest,
  inVendorTerms,
  renderChatPrompt,
  toCompletionRequest,
} from "../../services/compat/index.js";
import { resolveModelRoute } from "../../services/completions.js";
import type { StreamEncoder } from "../../services/streaming/encoder.js";
import type { AppEnv } from "../../types.js";
import {
  completionContext,
  idempotencyKeyOf,
  respondWithStream,
  runCompletion,
} from "./completion-request.js";

/**
 * One vendor-compatible chat route (OpenAI chat, Anthropic messages): parse the vendor body,
 * render the conversation with the model's template, run our completion path, answer in the
 * vendor's shape. Errors thrown here reach `onError`, which renders them in the vendor's shape
 * for these paths.
 */
export async function serveCompatRoute(
  c: Context<AppEnv>,
  spec: {
    route: "/v1/chat/completions" | "/v1/messages";
    parse: (rawBody: string) => CompatParseResult<CompatRequest>;
    build: (data: CompletionData) => unknown;
    encoder: (args: { id: string; model: string; includeUsage: boolean }) => StreamEncoder;
  },
): Promise<Response> {
  const ctx = completionContext(c, spec.route);
  const rawBody = await c.req.text();
  const parsed = spec.parse(rawBody);
  if (!parsed.ok) {
    throw new ApiError(parsed.error.code, parsed.error.message, parsed.error.details);
  }
  const req = parsed.value;
  const alias = req.completion.model;
  c.set("modelAlias", alias);
  const idempotencyKey = idempotencyKeyOf(c, req.stream);
  const route = await resolveModelRoute(c.get("services"), ctx.key, alias);
  const prompt = renderChatPrompt(route.model.promptTemplate, req.chat);
  const input = toCompletionRequest(req, prompt);
  try {
    return await answer(c, spec, { ctx, req, route, prompt, input, rawBody, idempotencyKey });
  } catch (err) {
    // "The prompt is too long" is about the caller's `messages`, and so on.
    throw inVendorTerms(err, req.fieldNames);
  }
}

async function answer(
  c: Context<AppEnv>,
  spec: Parameters<typeof serveCompatRoute>[1],
  args: {
    ctx: ReturnType<typeof completionContext>;
    req: CompatRequest;
    route: Awaited<ReturnType<typeof resolveModelRoute>>;
    prompt: string;
    input: ReturnType<typeof toCompletionRequest>;
    rawBody: string;
    idempotencyKey: string | undefined;
  },
): Promise<Response> {
  const { ctx, req, route, prompt, input, rawBody, idempotencyKey } = args;
  const alias = req.completion.model;
  // Anthropic's SDKs read the request id from `request-id` (errors carry it too).
  if (spec.route === "/v1/messages") c.header("request-id", ctx.requestId);
  if (req.stream) {
    return respondWithStream(c, {
      ctx,
      input,
      route,
      renderedPrompt: prompt,
      encoder: () =>
        spec.encoder({
          id: `cmpl_${ctx.requestId.slice(4)}`,
          model: alias,
          includeUsage: req.includeUsage,
        }),
    });
  }
  const outcome = await runCompletion(c, {
    ctx,
    input,
    renderedPrompt: prompt,
    rawBody,
    idempotencyKey,
  });
  const envelope = JSON.parse(outcome.body) as OkEnvelope<CompletionData>;
  if (!envelope.data) throw new ApiError("internal_error", "Internal error.");
  return c.json(spec.build(envelope.data) as object, 200);
}
