import type { CompletionRequest } from "@portal/contracts";
import type { Context } from "hono";
import { ApiError } from "../../errors.js";
import { clientGoneSignal } from "../../lib/client-gone.js";
import { rateLimitHeaders } from "../../lib/rate-limit-headers.js";
import { SSE_HEADERS } from "../../lib/sse-headers.js";
import type { ModelRoute } from "../../services/catalog.js";
import { serveCompletion } from "../../services/completion-pipeline.js";
import { type CompletionContext, resolveModelRoute } from "../../services/completions.js";
import type { StreamEncoder } from "../../services/streaming/encoder.js";
import { openCompletionStream, type StreamEnd } from "../../services/streaming/serve-stream.js";
import type { AppEnv } from "../../types.js";

/** Printable ASCII, as Stripe and the IETF draft allow; long enough for UUIDs and hashes. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

type RouteName = "/v1/completions" | "/v1/chat/completions" | "/v1/messages";

/** The per-request context every completion route builds from the Hono context. */
export function completionContext(c: Context<AppEnv>, route: RouteName): CompletionContext {
  const key = c.get("apiKey");
  if (!key) throw new ApiError("unauthorized", "Missing API key.");
  return { requestId: c.get("requestId"), key, receivedAt: c.get("receivedAt"), route };
}

/** The validated `Idempotency-Key` header; refused on streams, which cannot be replayed. */
export function idempotencyKeyOf(c: Context<AppEnv>, stream: boolean): string | undefined {
  const value = c.req.header("idempotency-key");
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new ApiError(
      "invalid_request",
      "Idempotency-Key must be 1–255 printable ASCII characters.",
      { field: "Idempotency-Key" },
    );
  }
  if (stream) {
    throw new ApiError(
      "invalid_request",
      "Idempotency-Key cannot be combined with stream: true (a stream cannot be replayed). Send the request without it, or use stream: false.",
      { field: "Idempotency-Key" },
    );
  }
  return value;
}

function setLimitHeaders(c: Context<AppEnv>) {
  return (info: Parameters<typeof rateLimitHeaders>[0]) => {
    for (const [name, value] of Object.entries(rateLimitHeaders(info))) c.header(name, value);
  };
}

/**
 * Run a non-streamed completion through the enforced pipeline; resolves to the stored envelope
 * JSON text and status (a replay returns the first response's).
 */
export async function runCompletion(
  c: Context<AppEnv>,
  args: {
    ctx: CompletionContext;
    input: CompletionRequest;
    renderedPrompt?: string;
    rawBody: string;
    idempotencyKey: string | undefined;
  },
) {
  const outcome = await serveCompletion(c.get("services"), {
    ...args,
    onRoute: (pool) => c.set("routerPool", pool),
    onLimits: setLimitHeaders(c),
    onUpstreamMs: (ms) => c.set("upstreamMs", ms),
    signal: clientGoneSignal(c),
  });
  c.set("upstreamMs", outcome.upstreamMs);
  if (outcome.replayed) c.header("Idempotent-Replayed", "true");
  return outcome;
}

/**
 * Open a streamed completion and answer with it as SSE. Refusals (limits, balance, no target)
 * happen before the first byte and are ordinary error responses.
 */
export async function respondWithStream(
  c: Context<AppEnv>,
  args: {
    ctx: CompletionContext;
    input: CompletionRequest;
    route?: ModelRoute;
    renderedPrompt?: string;
    encoder: (route: ModelRoute) => StreamEncoder;
  },
): Promise<Response> {
  const services = c.get("services");
  const route = args.route ?? (await resolveModelRoute(services, args.ctx.key, args.input.model));
  c.set("routerPool", route.pool.name);
  let ended: (end: StreamEnd) => void = () => {};
  const streamEnd = new Promise<StreamEnd>((resolve) => {
    ended = resolve;
  });
  const stream = await openCompletionStream(services, {
    ctx: args.ctx,
    input: args.input,
    route,
    ...(args.renderedPrompt !== undefined ? { renderedPrompt: args.renderedPrompt } : {}),
    encoder: args.encoder(route),
    onLimits: setLimitHeaders(c),
    onEnd: (end) => ended(end),
  });
  // Only once the stream is open: a refusal before it is logged like any other request.
  c.set("streamEnd", streamEnd);
  return c.body(stream, 200, SSE_HEADERS);
}
