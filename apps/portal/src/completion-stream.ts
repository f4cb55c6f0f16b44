import type { CompletionData } from "@portal/contracts";
import { parseSse } from "@portal/contracts/sse";

/** One `/v1/completions` stream event: a Portal envelope around a text-completion chunk. */
export interface StreamEnvelope {
  request_id: string;
  status: "ok" | "failed";
  model: string | null;
  router_pool: string | null;
  data:
    | (Omit<CompletionData, "usage" | "timing"> & Partial<Pick<CompletionData, "usage" | "timing">>)
    | null;
  /** The gateway's catalogue code, or a client-side one (`stream_incomplete`, `unexpected_response`). */
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
}

export interface StreamCallbacks {
  /** Every envelope event, in order (text deltas, the final usage event, a failed event). */
  onEnvelope(envelope: StreamEnvelope): void;
  /** A `: keep-alive` comment: the gateway is still waiting for the model. */
  onKeepAlive?(): void;
}

/** How a streamed completion ended. */
export type StreamOutcome =
  | { kind: "done"; final: StreamEnvelope }
  | { kind: "failed"; envelope: StreamEnvelope; httpStatus: number }
  | { kind: "aborted" };

/** Adapt a fetch body to the async iterable the shared SSE parser reads, via its reader. */
async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * POST a streaming completion through the gateway and report each envelope as it arrives. A
 * failure before streaming starts is a JSON envelope with an HTTP error status; a failure after
 * it is a `failed` envelope event; a stream that ends without `[DONE]` is reported as failed too.
 */
export async function streamCompletion(
  key: string,
  body: { model: string; prompt: string; max_tokens: number },
  callbacks: StreamCallbacks,
  signal: AbortSignal,
): Promise<StreamOutcome> {
  let res: Response;
  try {
    res = await fetch("/v1/completions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        accept: "text/event-stream",
      },
      body: JSON.stringify({ ...body, stream: true }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) return { kind: "aborted" };
    throw err;
  }
  const type = res.headers.get("content-type") ?? "";
  if (!res.ok || !type.startsWith("text/event-stream") || !res.body) {
    const envelope = await errorEnvelope(res);
    callbacks.onEnvelope(envelope);
    return { kind: "failed", envelope, httpStatus: res.status };
  }
  let last: StreamEnvelope | null = null;
  try {
    for await (const item of parseSse(chunks(res.body))) {
      if (item.kind === "comment") {
        callbacks.onKeepAlive?.();
        continue;
      }
      if (item.data === "[DONE]") break;
      const envelope = JSON.parse(item.data) as StreamEnvelope;
      last = envelope;
      callbacks.onEnvelope(envelope);
      if (envelope.status === "failed") {
        return { kind: "failed", envelope, httpStatus: res.status };
      }
    }
  } catch (err) {
    if (signal.aborted) return { kind: "aborted" };
    throw err;
  }
  if (!last?.data?.usage) {
    const envelope: StreamEnvelope = {
      request_id: last?.request_id ?? res.headers.get("x-request-id") ?? "",
      status: "failed",
      model: last?.model ?? null,
      router_pool: last?.router_pool ?? null,
      data: null,
      error: { code: "stream_incomplete", message: "The stream ended before the final event." },
    };
    return { kind: "failed", envelope, httpStatus: res.status };
  }
  return { kind: "done", final: last };
}

/** The failed envelope of a non-streaming answer, or one describing a response we cannot read. */
async function errorEnvelope(res: Response): Promise<StreamEnvelope> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as StreamEnvelope;
    if (parsed && typeof parsed === "object" && parsed.error) return parsed;
  } catch {
    // Not JSON (a proxy's HTML error page, say): describe it below.
  }
  return {
    request_id: res.headers.get("x-request-id") ?? "",
    status: "failed",
    model: null,
    router_pool: null,
    data: null,
    error: { code: "unexpected_response", message: `HTTP ${res.status}: ${text.slice(0, 200)}` },
  };
}
