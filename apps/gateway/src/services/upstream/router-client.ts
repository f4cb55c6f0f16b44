import {
  parseJsonText,
  RouterCompletionChunk,
  type RouterCompletionRequest,
  RouterCompletionResponse,
  RouterErrorBody,
} from "@portal/contracts";
import { Pool } from "undici";
import { ClientGoneError, UpstreamFailedError, UpstreamTimeoutError } from "../../domain-errors.js";
import type { ClientGoneSignal } from "../../lib/client-gone.js";
import { parseSse } from "../../lib/sse-parse.js";
import type { TargetInfo } from "../catalog.js";
import { CallDeadline } from "./deadline.js";

/** The router could not be reached, or refused work before accepting it: safe to try elsewhere. */
export class TargetUnavailableError extends Error {
  constructor(
    readonly targetId: string,
    readonly reason: string,
  ) {
    super(`target ${targetId} unavailable: ${reason}`);
    this.name = "TargetUnavailableError";
  }
}

const CONNECT_ERRORS = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const TIMEOUT_ERRORS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** Told the outcome of every call: transport failures and bad answers count against a target. */
export type OutcomeListener = (targetId: string, ok: boolean, reason?: string) => void;

const endpoints = new Map<string, { origin: string; basePath: string }>();

/** A target URL's origin (the pool key) and path prefix, parsed once per URL, not per request. */
function endpointOf(url: string): { origin: string; basePath: string } {
  let e = endpoints.get(url);
  if (!e) {
    const u = new URL(url);
    e = { origin: u.origin, basePath: u.pathname.replace(/\/+$/, "") };
    // Targets are few; a bound keeps a long life of URL churn from growing it.
    if (endpoints.size >= 1024) endpoints.clear();
    endpoints.set(url, e);
  }
  return e;
}

/** HTTP client for router nodes: one keep-alive undici pool per router origin. */
export class RouterClient {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly onOutcome: OutcomeListener = () => {}) {}

  /** POST /api/v3/completions/{session} on one target; throws typed errors. */
  /** `signal`: the client's; when it aborts, so does the request to the router (ClientGoneError). */
  async complete(
    target: TargetInfo,
    body: RouterCompletionRequest,
    timeoutMs: number,
    signal?: ClientGoneSignal,
  ): Promise<RouterCompletionResponse> {
    try {
      const response = await this.send(target, body, timeoutMs, signal);
      this.onOutcome(target.id, true);
      return response;
    } catch (err) {
      // The client left: not the router's doing, whatever the transport error says.
      if (signal?.aborted) throw new ClientGoneError();
      // A busy router (503) or a slow task is not a sick router; transport errors and garbage are.
      const sick =
        (err instanceof TargetUnavailableError && !err.reason.startsWith("router answered 503")) ||
        (err instanceof UpstreamFailedError && err.internal.status === undefined);
      if (sick) this.onOutcome(target.id, false, (err as Error).message);
      throw err;
    }
  }

  private async send(
    target: TargetInfo,
    body: RouterCompletionRequest,
    timeoutMs: number,
    signal: ClientGoneSignal | undefined,
  ): Promise<RouterCompletionResponse> {
    const deadline = new CallDeadline(timeoutMs, signal);
    try {
      return await this.sendWithin(target, body, timeoutMs, deadline);
    } catch (err) {
      if (deadline.reason === "deadline") throw new UpstreamTimeoutError(timeoutMs);
      throw err;
    } finally {
      deadline.dispose();
    }
  }

  private async sendWithin(
    target: TargetInfo,
    body: RouterCompletionRequest,
    timeoutMs: number,
    deadline: CallDeadline,
  ): Promise<RouterCompletionResponse> {
    const { origin, basePath } = endpointOf(target.url);
    let res: Awaited<ReturnType<Pool["request"]>>;
    try {
      res = await this.pool(origin).request({
        method: "POST",
        path: `${basePath}/api/v3/completions/${target.sessionId}`,
        headers: {
          authorization: `Bearer ${target.routerKey}`,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify(body),
        signal: deadline,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      throw classifyTransportError(err, target, timeoutMs);
    }
    const text = await readBody(res.body, target, timeoutMs);
    if (res.statusCode === 503) {
      // The router refused before creating a task (no miner free): another router may take it.
      throw new TargetUnavailableError(target.id, `router answered 503: ${text.slice(0, 200)}`);
    }
    if (refusedOurKey(res.statusCode)) throw keyRefused(target, res.statusCode, text);
    const json = safeJson(text);
    if (res.statusCode === 504) throw routerTimedOut(body, timeoutMs);
    if (res.statusCode !== 200) {
      const parsed = RouterErrorBody.safeParse(json);
      throw new UpstreamFailedError("The router failed to complete the request.", {
        targetId: target.id,
        status: res.statusCode,
        routerError: parsed.success ? parsed.data.error : text.slice(0, 500),
      });
    }
    return parseAnswer(json, text, target);
  }

  /**
   * POST a streaming completion and yield the router's events. Failures before the first byte
   * throw like `complete()` (so a 503 or a connect error can fail over); after that, router
   * error events are yielded and the stream ends. `signal` aborts the upstream request.
   */
  async openStream(
    target: TargetInfo,
    body: RouterCompletionRequest,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<RouterStreamEvent>> {
    const { origin, basePath } = endpointOf(target.url);
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    let res: Awaited<ReturnType<Pool["request"]>>;
    try {
      res = await this.pool(origin).request({
        method: "POST",
        path: `${basePath}/api/v3/completions/${target.sessionId}`,
        headers: {
          authorization: `Bearer ${target.routerKey}`,
          "content-type": "application/json",
          accept: "text/event-stream",
        },
        body: JSON.stringify({ ...body, stream: true }),
        headersTimeout: timeoutMs,
        // Routers send keep-alive comments every few seconds; a longer silence is a dead stream.
        bodyTimeout: Math.min(timeoutMs, 60_000),
        signal: deadline,
      });
    } catch (err) {
      const error =
        deadline.aborted && !signal.aborted
          ? new UpstreamTimeoutError(timeoutMs)
          : classifyTransportError(err, target, timeoutMs);
      this.onOutcome(
        target.id,
        !(error instanceof TargetUnavailableError),
        (error as Error).message,
      );
      throw error;
    }
    const contentType = String(res.headers["content-type"] ?? "");
    if (res.statusCode === 200 && contentType.includes("application/json")) {
      // The router turned streaming off (private and encrypted sessions do) and answered in one
      // piece: relay that answer as a stream of one chunk, so the work is delivered and billed.
      const text = await readBody(res.body, target, timeoutMs);
      let answer: RouterCompletionResponse;
      try {
        answer = parseAnswer(safeJson(text), text, target);
      } catch (err) {
        this.onOutcome(target.id, false, (err as Error).message);
        throw err;
      }
      this.onOutcome(target.id, true);
      return answerAsEvents(answer);
    }
    if (res.statusCode !== 200 || !contentType.includes("text/event-stream")) {
      const text = await readCapped(res.body, MAX_RESPONSE_BYTES).catch(() => "");
      if (res.statusCode === 503)
        throw new TargetUnavailableError(target.id, `router answered 503: ${text.slice(0, 200)}`);
      if (refusedOurKey(res.statusCode)) {
        const error = keyRefused(target, res.statusCode, text);
        this.onOutcome(target.id, false, error.message);
        throw error;
      }
      if (res.statusCode === 504) throw routerTimedOut(body, timeoutMs);
      const parsed = RouterErrorBody.safeParse(safeJson(text));
      throw new UpstreamFailedError("The router failed to stream the completion.", {
        targetId: target.id,
        status: res.statusCode,
        routerError: parsed.success ? parsed.data.error : text.slice(0, 500),
      });
    }
    this.onOutcome(target.id, true);
    return relayEvents(res.body, deadline, timeoutMs, signal);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: 128,
        keepAliveTimeout: 30_000,
        connectTimeout: 3_000,
        pipelining: 1,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

export type RouterStreamEvent =
  | { type: "chunk"; chunk: RouterCompletionChunk }
  | { type: "error"; error: RouterErrorBody["error"] }
  | { type: "keepalive" };

/** A whole (non-streamed) router answer as the events of a stream: one chunk with its usage. */
async function* answerAsEvents(
  answer: RouterCompletionResponse,
): AsyncGenerator<RouterStreamEvent> {
  const choice = answer.choices[0];
  yield {
    type: "chunk",
    chunk: {
      id: answer.id,
      object: answer.object,
      created: answer.created,
      model: answer.model,
      choices: [
        { index: 0, text: choice?.text ?? "", finish_reason: choice?.finish_reason ?? null },
      ],
      usage: answer.usage,
      session_id: answer.session_id,
      task_id: answer.task_id,
    },
  };
}

/** A 200 answer's body as a router completion, or the typed error for a malformed one. */
function parseAnswer(json: unknown, text: string, target: TargetInfo): RouterCompletionResponse {
  const parsed = RouterCompletionResponse.safeParse(json);
  if (!parsed.success) {
    throw new UpstreamFailedError("The router returned an invalid response.", {
      targetId: target.id,
      issues: parsed.error.issues.slice(0, 5),
      body: text.slice(0, 500),
    });
  }
  return parsed.data;
}

async function* relayEvents(
  body: AsyncIterable<Buffer>,
  deadline: AbortSignal,
  timeoutMs: number,
  clientSignal: AbortSignal,
): AsyncGenerator<RouterStreamEvent> {
  try {
    for await (const item of parseSse(body)) {
      if (item.kind === "comment") {
        yield { type: "keepalive" };
        continue;
      }
      if (item.data === "[DONE]") return;
      const json = safeJson(item.data);
      const chunk = RouterCompletionChunk.safeParse(json);
      if (chunk.success) {
        yield { type: "chunk", chunk: chunk.data };
        continue;
      }
      const error = RouterErrorBody.safeParse(json);
      yield {
        type: "error",
        error: error.success
          ? error.data.error
          : {
              code: "internal_error",
              message: "the router sent an event that is neither a chunk nor an error",
            },
      };
      return;
    }
  } catch (err) {
    if (clientSignal.aborted) return;
    if (deadline.aborted) throw new UpstreamTimeoutError(timeoutMs);
    throw new UpstreamFailedError("The router's stream broke off.", {
      message: err instanceof Error ? err.message : String(err),
    });
  }
  // The connection closed without [DONE]: the router went away mid-stream.
  if (!clientSignal.aborted) {
    throw new UpstreamFailedError("The router's stream ended without completing.", {});
  }
}

/** The router refused the target's key (401/403): it did no work, so another router may. */
function refusedOurKey(status: number): boolean {
  return status === 401 || status === 403;
}

/**
 * A router that refuses our key (a rotated or mistyped router key) refused before doing any
 * work: like a 503, the request fails over to the next target, and if every target refuses it
 * is `pool_unavailable` with its limits given back. Unlike a 503 the target is sick (every
 * request will be refused), so it counts against its circuit breaker.
 */
function keyRefused(target: TargetInfo, status: number, text: string): TargetUnavailableError {
  return new TargetUnavailableError(
    target.id,
    `router refused the target's key (${status}): ${text.slice(0, 200)}`,
  );
}

function classifyTransportError(err: unknown, target: TargetInfo, timeoutMs: number): Error {
  const code = (err as { code?: string }).code ?? "";
  if (CONNECT_ERRORS.has(code)) return new TargetUnavailableError(target.id, code);
  if (TIMEOUT_ERRORS.has(code)) return new UpstreamTimeoutError(timeoutMs);
  return new UpstreamFailedError("The connection to the router failed.", {
    targetId: target.id,
    code,
    message: err instanceof Error ? err.message : String(err),
  });
}

/** A router answer's whole body (capped); a broken or oversized one is a typed transport error. */
async function readBody(
  body: AsyncIterable<Buffer>,
  target: TargetInfo,
  timeoutMs: number,
): Promise<string> {
  try {
    return await readCapped(body, MAX_RESPONSE_BYTES);
  } catch (err) {
    throw classifyTransportError(err, target, timeoutMs);
  }
}

async function readCapped(body: AsyncIterable<Buffer>, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max)
      throw Object.assign(new Error("router response too large"), { code: "TOO_LARGE" });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The router's answer as JSON; undefined (an upstream error) for garbage or absurd nesting. */
function safeJson(text: string): unknown {
  const read = parseJsonText(text);
  return read.ok ? read.value : undefined;
}

/** The router answered 504: its task ran past the request's own `timeout` (when it has one). */
function routerTimedOut(body: RouterCompletionRequest, deadlineMs: number): UpstreamTimeoutError {
  return body.timeout === undefined
    ? new UpstreamTimeoutError(deadlineMs)
    : new UpstreamTimeoutError(body.timeout * 1000, true);
}
