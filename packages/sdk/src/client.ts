import { ConnectionError, errorFromEnvelope, isErrorCode, PortalError } from "./errors.js";
import { sseData } from "./sse.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  CompletionChunk,
  CompletionData,
  CompletionRequest,
  Envelope,
  ErrorBody,
  ErrorCode,
  ModelList,
  OkEnvelope,
} from "./types.js";

export interface PortalClientOptions {
  apiKey: string;
  /** Gateway base URL, e.g. `https://api.example.com` (default `http://127.0.0.1:8080`). */
  baseUrl?: string;
  /** Retries after the first attempt for retryable failures (default 2). */
  maxRetries?: number;
  /** Per-attempt timeout in ms (default 10 minutes: decentralized inference can be slow). */
  timeoutMs?: number;
  /** Longest single wait between retries in ms, whatever Retry-After says (default 60 s). */
  maxRetryDelayMs?: number;
  /** Custom fetch (tests, proxies); defaults to the global fetch of Node 20+ and browsers. */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export interface RequestOptions {
  /** Reused across retries so a retried completion is never paid twice (generated if absent). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** Streams are never replayed, so they take no Idempotency-Key. */
export type StreamOptions = Omit<RequestOptions, "idempotencyKey">;

/** Codes worth retrying automatically: the request did no paid work and may succeed later. */
const RETRYABLE: ReadonlySet<string> = new Set([
  "rate_limited",
  "pool_unavailable",
  "connection_error",
]);

const STATUS_FALLBACK: Record<number, ErrorCode> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "account_disabled",
  404: "not_found",
  409: "idempotency_conflict",
  413: "payload_too_large",
  429: "rate_limited",
  502: "upstream_error",
  503: "pool_unavailable",
  504: "upstream_timeout",
};

/** Typed client for the Portal gateway. Works wherever `fetch` exists (Node 20+, browsers). */
export class PortalClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  readonly completions = {
    /** POST /v1/completions: the Portal envelope; throws a typed `PortalError` on failure. */
    create: (req: CompletionRequest, opts: RequestOptions = {}) =>
      this.request<OkEnvelope<CompletionData>>(
        "POST",
        "/v1/completions",
        { ...req, stream: false },
        { ...opts, idempotencyKey: opts.idempotencyKey ?? randomKey() },
      ),
    /**
     * POST /v1/completions with `stream: true`, as an async iterator of envelopes whose `data`
     * is a chunk (`choices[0].text` is the delta; the last one carries `usage` and `timing`).
     * Refusals before the first byte are retried like `create`; a failure mid-stream throws.
     */
    stream: (req: CompletionRequest, opts: StreamOptions = {}) =>
      this.streamEvents<OkEnvelope<CompletionChunk>>("/v1/completions", req, opts, (event) => {
        const env = event as Envelope<CompletionChunk>;
        if (env.status === "failed" && env.error) {
          throw errorFromEnvelope(env.error, 200, env.request_id, null);
        }
        return env as OkEnvelope<CompletionChunk>;
      }),
  };

  readonly chat = {
    completions: {
      /** POST /v1/chat/completions: OpenAI's chat completion shape. */
      create: (req: ChatCompletionRequest, opts: RequestOptions = {}) =>
        this.request<ChatCompletion>(
          "POST",
          "/v1/chat/completions",
          { ...req, stream: false },
          opts,
        ),
      /** Streamed chat completion chunks (`choices[0].delta.content`). */
      stream: (req: ChatCompletionRequest, opts: StreamOptions = {}) =>
        this.streamEvents<ChatCompletionChunk>("/v1/chat/completions", req, opts, (event) => {
          const failed = event as { error?: { message?: string; code?: string } };
          if (failed.error) throw errorFromBody(failed, 200, null, null);
          return event as ChatCompletionChunk;
        }),
    },
  };

  readonly models = {
    /** GET /v1/models: the models this key may use. */
    list: (opts: RequestOptions = {}) =>
      this.request<ModelList>("GET", "/v1/models", undefined, opts),
  };

  readonly usage = {
    /** GET /v1/usage: this key's usage, allowance and balance. */
    get: (opts: RequestOptions = {}) =>
      this.request<OkEnvelope<Record<string, unknown>>>("GET", "/v1/usage", undefined, opts),
  };

  constructor(private readonly opts: PortalClientOptions) {
    if (!opts.apiKey) throw new Error("PortalClient needs an apiKey");
    this.baseUrl = (opts.baseUrl ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    const f = opts.fetch ?? globalThis.fetch;
    if (!f) throw new Error("no fetch available; pass options.fetch");
    this.fetchImpl = f.bind(globalThis);
  }

  private async request<T>(
    method: string,
    path: string,
    body: unknown,
    opts: RequestOptions,
  ): Promise<T> {
    const res = await this.withRetries(opts, () => this.send(method, path, body, opts));
    return parseJson(await res.text()) as T;
  }

  private async *streamEvents<T>(
    path: string,
    req: object,
    opts: StreamOptions,
    map: (event: unknown) => T,
  ): AsyncGenerator<T> {
    // No Idempotency-Key: a stream cannot be replayed, and the gateway refuses the header.
    const res = await this.withRetries(opts, () =>
      this.send("POST", path, { ...req, stream: true }, opts, "text/event-stream"),
    );
    if (!res.body) throw new ConnectionError(connectionArgs("The stream had no body.", res));
    for await (const data of sseData(res.body)) {
      if (data === "[DONE]") return;
      const event = parseJson(data);
      if (event === undefined) {
        throw new ConnectionError(
          connectionArgs(`Unparseable stream event: ${data.slice(0, 200)}`, res),
        );
      }
      yield map(event);
    }
  }

  /** Run `attempt`, retrying retryable refusals (honouring Retry-After) up to maxRetries. */
  private async withRetries<R>(opts: RequestOptions, attempt: () => Promise<R>): Promise<R> {
    const maxRetries = this.opts.maxRetries ?? 2;
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof PortalError) || !RETRYABLE.has(err.code) || n >= maxRetries) throw err;
        if (opts.signal?.aborted) throw err;
        await sleep(this.retryDelay(err, n), opts.signal);
      }
    }
  }

  /** One HTTP attempt; a non-2xx answer becomes the typed error of its catalogue code. */
  private async send(
    method: string,
    path: string,
    body: unknown,
    opts: RequestOptions,
    accept = "application/json",
  ): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.opts.apiKey}`,
      accept,
      ...this.opts.headers,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 600_000);
    const signal = opts.signal ? anySignal(opts.signal, timeout) : timeout;
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const timedOut = timeout.aborted;
      throw new ConnectionError({
        code: timedOut ? "upstream_timeout" : "connection_error",
        message: timedOut
          ? "The request timed out."
          : `Could not reach the gateway: ${(err as Error).message}`,
        status: null,
        requestId: null,
      });
    }
    if (res.ok) return res;
    const requestId = res.headers.get("x-request-id");
    const text = await res.text();
    const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
    const json = parseJson(text);
    if (json && typeof json === "object" && "error" in json && json.error) {
      throw errorFromBody(json, res.status, requestId, retryAfter);
    }
    // Not our envelope (a proxy's HTML page, say): classify by status.
    const code = STATUS_FALLBACK[res.status] ?? "internal_error";
    throw errorFromEnvelope(
      { code, message: `HTTP ${res.status}: ${text.slice(0, 200)}` },
      res.status,
      requestId,
      retryAfter,
    );
  }

  private retryDelay(err: PortalError, attempt: number): number {
    const cap = this.opts.maxRetryDelayMs ?? 60_000;
    if (err.retryAfter !== null) return Math.min(err.retryAfter * 1000, cap);
    // Exponential backoff with full jitter.
    return Math.min(cap, Math.random() * 500 * 2 ** attempt);
  }
}

/** OpenAI-shaped error codes of the chat route, mapped back to the catalogue. */
const VENDOR_CODES: Record<string, ErrorCode> = {
  invalid_api_key: "unauthorized",
  rate_limit_exceeded: "rate_limited",
  insufficient_quota: "quota_exceeded",
};

/**
 * The typed error of a failed body: the Portal envelope (`error.code` is a catalogue code) or
 * the OpenAI shape of the chat route (`error.code` is OpenAI's code or ours).
 */
function errorFromBody(
  json: object,
  status: number,
  requestId: string | null,
  retryAfter: number | null,
): PortalError {
  const body = json as {
    request_id?: string | null;
    error?: Partial<ErrorBody> & { type?: string };
  };
  const error = body.error ?? {};
  const raw = typeof error.code === "string" ? error.code : "";
  const code: ErrorCode = isErrorCode(raw)
    ? raw
    : (VENDOR_CODES[raw] ?? STATUS_FALLBACK[status] ?? "internal_error");
  return errorFromEnvelope(
    {
      code,
      message: typeof error.message === "string" ? error.message : `HTTP ${status}`,
      ...(error.details ? { details: error.details } : {}),
    },
    status,
    body.request_id ?? requestId,
    retryAfter,
  );
}

function connectionArgs(message: string, res: Response) {
  return {
    code: "connection_error" as const,
    message,
    status: res.status,
    requestId: res.headers.get("x-request-id"),
  };
}

/** `AbortSignal.any` where it exists (Node 20.3+, current browsers), a small fallback elsewhere. */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === "function") return AbortSignal.any([a, b]);
  const controller = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

function randomKey(): string {
  return globalThis.crypto.randomUUID();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
