import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { Agent, type Dispatcher, request } from "undici";
import { RouterDomainError, WebFetchFailedError } from "../errors.js";
import { bodyText, contentKind, parseContentType } from "./content.js";
import { ACCEPTED_ENCODINGS, BodyDecodeError, decodeContent } from "./decode.js";
import { BlockedAddressError, guardedLookup, type Resolver } from "./guarded-lookup.js";
import { checkUrl, displayUrl, privateAddressRefusal, type WebFetchPolicy } from "./policy.js";

/** One page the router fetched, with what the response's `evidence.web` reports about it. */
export interface FetchedPage {
  /** The URL as asked for (credentials never appear: such URLs are refused). */
  url: string;
  /** Where the last redirect led (equal to `url` without redirects). */
  finalUrl: string;
  status: number;
  /** The response's Content-Type header as sent. */
  contentType: string;
  /** Body size as received (before any Content-Encoding is undone), and its sha256 (hex). */
  bytes: number;
  sha256: string;
  /** The body as prompt text (HTML reduced to text). */
  text: string;
}

/** Fetches allowed pages for delegate web fetch; the real one is HttpWebFetcher. */
export interface WebFetcher {
  readonly policy: WebFetchPolicy;
  /** Fetch one URL under the policy; throws WebFetchRefusedError (400) or WebFetchFailedError (502). */
  fetch(url: URL, signal?: AbortSignal): Promise<FetchedPage>;
  close(): Promise<void>;
}

/** Redirects followed per page; each hop is checked like the first URL. */
export const MAX_REDIRECTS = 3;
const REDIRECT = new Set([301, 302, 303, 307, 308]);
const HEADERS = {
  "user-agent": "portal-router-web-fetch/0.1",
  accept: "text/html, application/xhtml+xml, text/*;q=0.9, application/json;q=0.9",
  // Bodies are counted (max_bytes) and hashed as received, then decoded, again within max_bytes.
  "accept-encoding": ACCEPTED_ENCODINGS,
};

function header(headers: Dispatcher.ResponseData["headers"], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The first error in a cause chain that satisfies `test`. */
function findCause<T>(err: unknown, test: (e: unknown) => e is T): T | undefined {
  let e: unknown = err;
  for (let i = 0; i < 8 && e !== undefined && e !== null; i++) {
    if (test(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  const withCode = findCause(
    err,
    (e): e is { code: string } => typeof (e as { code?: unknown }).code === "string",
  );
  return withCode?.code;
}

const TIMEOUT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
]);

/**
 * The real fetcher: undici with a connect-time address check (unless `allow_private`), manual
 * redirects (at most MAX_REDIRECTS, each re-checked), `timeout_ms` over the whole fetch (all hops
 * and the body) and `max_bytes` enforced while the body streams. A body over `max_bytes` is
 * refused, never truncated.
 */
export class HttpWebFetcher implements WebFetcher {
  private readonly agent: Agent;
  private readonly logger: Logger | undefined;

  constructor(
    readonly policy: WebFetchPolicy,
    opts: { logger?: Logger; resolver?: Resolver } = {},
  ) {
    this.logger = opts.logger;
    this.agent = new Agent({
      connect: {
        timeout: policy.timeoutMs,
        ...(!policy.allowPrivate && { lookup: guardedLookup(opts.resolver) }),
      },
      headersTimeout: policy.timeoutMs,
      bodyTimeout: policy.timeoutMs,
      keepAliveTimeout: 4_000,
      connections: 32,
    });
  }

  async fetch(url: URL, parent?: AbortSignal): Promise<FetchedPage> {
    const timeout = AbortSignal.timeout(this.policy.timeoutMs);
    const signal = parent === undefined ? timeout : AbortSignal.any([parent, timeout]);
    const requested = displayUrl(url);
    let current = url;
    let previous: string | undefined;
    try {
      for (let hop = 0; ; hop++) {
        checkUrl(current, this.policy, previous);
        const res = await this.send(current, signal);
        if (REDIRECT.has(res.statusCode)) {
          res.body.destroy();
          previous = displayUrl(current);
          current = this.nextHop(requested, current, res, hop);
          continue;
        }
        return await this.read(requested, current, res);
      }
    } catch (err) {
      if (err instanceof RouterDomainError) throw err;
      if (parent?.aborted === true && !timeout.aborted) {
        // A sibling fetch of the same request failed first; its error is the one reported.
        throw new WebFetchFailedError(`web fetch of ${requested} cancelled`, {
          url: requested,
          reason: "cancelled",
        });
      }
      throw this.failure(err, requested, current, timeout.aborted);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async send(url: URL, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const res = await request(url, {
      dispatcher: this.agent,
      method: "GET",
      headers: HEADERS,
      signal,
    });
    // A body destroyed unread (redirect, refusal) still hears the signal's later abort and would
    // emit that as an unhandled 'error'; reading errors still reach the body's iterator.
    res.body.on("error", () => {});
    return res;
  }

  private nextHop(requested: string, from: URL, res: Dispatcher.ResponseData, hop: number): URL {
    const location = header(res.headers, "location");
    const details = { url: requested, status: res.statusCode, at: displayUrl(from) };
    if (location === undefined || !URL.canParse(location, from.href)) {
      throw new WebFetchFailedError(
        `web fetch of ${requested} failed: HTTP ${res.statusCode} without a usable Location`,
        { ...details, reason: "bad_redirect" },
      );
    }
    if (hop >= MAX_REDIRECTS) {
      throw new WebFetchFailedError(
        `web fetch of ${requested} failed: more than ${MAX_REDIRECTS} redirects`,
        { ...details, reason: "too_many_redirects", max_redirects: MAX_REDIRECTS },
      );
    }
    return new URL(location, from);
  }

  private async read(
    requested: string,
    at: URL,
    res: Dispatcher.ResponseData,
  ): Promise<FetchedPage> {
    const finalUrl = displayUrl(at);
    const fail = (why: string, reason: string, extra: Record<string, unknown> = {}) => {
      res.body.destroy();
      return new WebFetchFailedError(`web fetch of ${requested} failed: ${why}`, {
        url: requested,
        final_url: finalUrl,
        reason,
        status: res.statusCode,
        ...extra,
      });
    };
    if (res.statusCode < 200 || res.statusCode > 299) {
      throw fail(`the server answered HTTP ${res.statusCode}`, "http_status");
    }
    const contentType = header(res.headers, "content-type") ?? "";
    const { mime, charset } = parseContentType(contentType);
    const kind = contentKind(mime);
    if (kind === undefined) {
      throw fail(
        `content type ${mime === "" ? "(none)" : mime} is not read (HTML, text/* and JSON are)`,
        "content_type",
        { content_type: contentType },
      );
    }
    const encoding = header(res.headers, "content-encoding")?.trim().toLowerCase();
    const max = this.policy.maxBytes;
    const tooLarge = () =>
      fail(`the body is larger than ${max} bytes (web_fetch.max_bytes)`, "too_large", {
        max_bytes: max,
      });
    if (Number(header(res.headers, "content-length") ?? 0) > max) throw tooLarge();
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      if (bytes > max) throw tooLarge();
      chunks.push(buf);
    }
    const body = Buffer.concat(chunks, bytes);
    let decoded: Buffer;
    try {
      decoded = await decodeContent(body, encoding, max);
    } catch (err) {
      if (!(err instanceof BodyDecodeError)) throw err;
      throw fail(err.message, err.reason, {
        ...(err.reason === "too_large" ? { max_bytes: max } : { encoding }),
      });
    }
    return {
      url: requested,
      finalUrl,
      status: res.statusCode,
      contentType,
      bytes,
      sha256: createHash("sha256").update(body).digest("hex"),
      text: bodyText(decoded, kind, charset),
    };
  }

  /** Turn a transport error into the domain error the caller sees (no stack, no internals). */
  private failure(err: unknown, requested: string, at: URL, timedOut: boolean): RouterDomainError {
    const blocked = findCause(
      err,
      (e): e is BlockedAddressError => e instanceof BlockedAddressError,
    );
    if (blocked !== undefined) {
      this.logger?.warn(
        { url: requested, host: blocked.host, address: blocked.address, kind: blocked.kind },
        "web fetch refused a non-public address",
      );
      return privateAddressRefusal(requested, blocked.host, blocked.kind);
    }
    const code = errorCode(err);
    const base = { url: requested, at: displayUrl(at) };
    if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
      return new WebFetchFailedError(
        `web fetch of ${requested} failed: no complete answer within ${this.policy.timeoutMs} ms`,
        { ...base, reason: "timeout", timeout_ms: this.policy.timeoutMs },
      );
    }
    this.logger?.warn({ url: requested, code, err: (err as Error).message }, "web fetch failed");
    return new WebFetchFailedError(
      `web fetch of ${requested} failed: could not get an answer${code === undefined ? "" : ` (${code})`}`,
      { ...base, reason: "network", ...(code !== undefined && { error: code }) },
    );
  }
}
