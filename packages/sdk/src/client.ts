import { ConnectionError, errorFromEnvelope, PortalError } from "./errors.js";
import type {
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
  /** Custom fetch (tests, proxies); defaults to the global fetch of Node 18+ and browsers. */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export interface RequestOptions {
  /** Reused across retries so a retried completion is never paid twice (generated if absent). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

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

/** Typed client for the Portal gateway. Works wherever `fetch` exists (Node 18+, browsers). */
export class PortalClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  readonly completions = {
    /** POST /v1/completions: the Portal envelope; throws a typed `PortalError` on failure. */
    create: (req: CompletionRequest, opts: RequestOptions = {}) =>
      this.request<OkEnvelope<CompletionData>>("POST", "/v1/completions", req, {
        ...opts,
        idempotencyKey: opts.idempotencyKey ?? randomKey(),
      }),
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
    const maxRetries = this.opts.maxRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(method, path, body, opts);
      } catch (err) {
        if (!(err instanceof PortalError) || !RETRYABLE.has(err.code) || attempt >= maxRetries)
          throw err;
        if (opts.signal?.aborted) throw err;
        await sleep(this.retryDelay(err, attempt), opts.signal);
      }
    }
  }

  private async attempt<T>(
    method: string,
    path: string,
    body: unknown,
    opts: RequestOptions,
  ): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.opts.apiKey}`,
      accept: "application/json",
      ...this.opts.headers,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 600_000);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
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
    const requestId = res.headers.get("x-request-id");
    const text = await res.text();
    const json = parseJson(text);
    if (res.ok) return json as T;
    const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
    const envelope = json as Partial<Envelope<unknown>> | undefined;
    if (envelope?.error && typeof envelope.error === "object" && "code" in envelope.error) {
      throw errorFromEnvelope(
        envelope.error as ErrorBody,
        res.status,
        envelope.request_id ?? requestId,
        retryAfter,
      );
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
