import { InvalidTaskInputError, WebFetchRefusedError } from "../errors.js";

/** http(s) URLs in free text; stops at whitespace, quotes, angle brackets and backslashes. */
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`\\]+/gi;
/** Sentence punctuation that ends a URL written in prose rather than belonging to it. */
const TRAILING = /[.,;:!?]+$/;

/** Drop prose punctuation and unbalanced closing brackets from the end of a matched URL. */
function trimUrl(raw: string): string {
  let url = raw.replace(TRAILING, "");
  for (const [open, close] of [
    ["(", ")"],
    ["[", "]"],
    ["{", "}"],
  ] as const) {
    while (url.endsWith(close) && url.split(close).length > url.split(open).length) {
      url = url.slice(0, -1).replace(TRAILING, "");
    }
  }
  return url;
}

/** Every string inside a JSON-ish value, depth-first, in key order. */
function stringsOf(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 32) return out;
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out, depth + 1);
  else if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) stringsOf(v, out, depth + 1);
  }
  return out;
}

/**
 * The distinct http(s) URLs in `sources` (strings, or JSON values whose strings are searched), in
 * order of first appearance, normalized by the WHATWG parser (so `HTTP://Example.com` and
 * `http://example.com/` are one URL). Text that does not parse as a URL is skipped.
 */
export function extractUrls(sources: readonly unknown[]): string[] {
  const seen = new Set<string>();
  for (const text of stringsOf(sources)) {
    for (const match of text.matchAll(URL_IN_TEXT)) {
      const candidate = trimUrl(match[0]);
      if (!URL.canParse(candidate)) continue;
      seen.add(new URL(candidate).href);
    }
  }
  return [...seen];
}

/** Refuse a request that would fetch more than `max` pages. */
export function limitUrls(urls: readonly string[], max: number): void {
  if (urls.length <= max) return;
  throw new WebFetchRefusedError(
    `web fetch refused: the request names ${urls.length} URLs and this router fetches at most ${max} per request`,
    { reason: "too_many_urls", found: urls.length, max_urls: max, urls: urls.slice(0, 20) },
  );
}

/**
 * The URL of an `input.kind: "url"` payload: exactly one absolute http(s) URL string (surrounding
 * whitespace allowed). Anything else is a 400 naming what is wrong.
 */
export function inputUrl(payload: unknown): URL {
  const bad = (why: string, extra: Record<string, unknown> = {}): InvalidTaskInputError =>
    new InvalidTaskInputError(`input.payload of kind "url" ${why}`, {
      field: "input.payload",
      input_kind: "url",
      ...extra,
    });
  if (typeof payload !== "string") {
    throw bad("must be a URL string, not an object", { payload_type: typeof payload });
  }
  const text = payload.trim();
  if (text === "" || /\s/.test(text)) {
    throw bad("must be one absolute http(s) URL (no spaces, no list)", {
      payload: text.slice(0, 200),
    });
  }
  if (!URL.canParse(text)) {
    throw bad("is not an absolute URL", { payload: text.slice(0, 200) });
  }
  const url = new URL(text);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new WebFetchRefusedError(
      `input.payload of kind "url" must be an http(s) URL, not ${url.protocol.slice(0, -1)}`,
      { field: "input.payload", input_kind: "url", reason: "scheme", scheme: url.protocol },
    );
  }
  return url;
}
