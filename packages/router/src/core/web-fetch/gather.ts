import type { RouterDelegateRequest, RouterWebEvidence } from "@portal/contracts";
import { InvalidTaskInputError } from "../errors.js";
import type { FetchedPage, WebFetcher } from "./fetcher.js";
import { checkUrl } from "./policy.js";
import { extractUrls, inputUrl, limitUrls } from "./urls.js";

/** One fetched page as a prompt section reads it. */
export interface WebPage {
  url: string;
  text: string;
}

/** One entry of a delegate response's `evidence.web`: what was fetched and used. */
export type WebEvidence = RouterWebEvidence;

/** What web fetch adds to a delegate prompt and response. */
export interface WebMaterial {
  /** The page behind an `input.kind: "url"` payload. */
  input?: WebPage;
  /** Pages of the URLs found with `fetch_web: true`. */
  pages: WebPage[];
  evidence: WebEvidence[];
}

/** True when the request asks for web fetch (`fetch_web: true` or `input.kind: "url"`). */
export function wantsWebFetch(req: RouterDelegateRequest): boolean {
  return req.fetch_web === true || req.input?.kind === "url";
}

/**
 * Lines of fetched text that start with `###` would read as prompt sections of their own; a
 * leading space keeps the page inside its section.
 */
function promptSafe(text: string): string {
  return text.replace(/^(?=###)/gm, " ");
}

function evidenceOf(page: FetchedPage, usedAs: WebEvidence["used_as"]): WebEvidence {
  return {
    url: page.url,
    final_url: page.finalUrl,
    status: page.status,
    content_type: page.contentType,
    bytes: page.bytes,
    sha256: page.sha256,
    used_as: usedAs,
  };
}

/** The URLs one delegate request will fetch, all checked against the policy. */
export interface WebFetchPlan {
  fetcher: WebFetcher;
  /** The `input.kind: "url"` page. */
  input?: URL;
  /** With `fetch_web`: the distinct URLs of the objective, input payload and task_request_input. */
  web: URL[];
}

/**
 * What a delegate request asks web fetch for, checked before anything is fetched: refused when
 * web fetch is off; the url input must be one http(s) URL; `max_urls` bounds the pages per
 * request (the url input counts); every URL passes the scheme/credential/allowlist/literal-address
 * rules. All refusals are 400s. Undefined when the request asks for no web fetch.
 */
export function planWebFetch(
  fetcher: WebFetcher | undefined,
  req: RouterDelegateRequest,
): WebFetchPlan | undefined {
  if (!wantsWebFetch(req)) return undefined;
  if (fetcher === undefined) {
    throw new InvalidTaskInputError(
      "web fetch is not enabled on this router: send the content with input.kind text or json " +
        "(an operator enables it with web_fetch.hosts in the router config or ROUTER_WEB_FETCH_HOSTS)",
      { fetch_web: req.fetch_web ?? false, input_kind: req.input?.kind ?? null },
    );
  }
  const input = req.input?.kind === "url" ? inputUrl(req.input.payload) : undefined;
  const web =
    req.fetch_web === true
      ? extractUrls([req.objective, req.input?.payload, req.task_request_input])
          .filter((u) => u !== input?.href)
          .map((u) => new URL(u))
      : [];
  const all = [...(input === undefined ? [] : [input]), ...web];
  limitUrls(
    all.map((u) => u.href),
    fetcher.policy.maxUrls,
  );
  for (const url of all) checkUrl(url, fetcher.policy);
  return { fetcher, ...(input !== undefined && { input }), web };
}

/** Fetch a plan's pages in parallel; the first failure cancels the others and is the one thrown. */
export async function fetchWebMaterial(
  plan: WebFetchPlan | undefined,
): Promise<WebMaterial | undefined> {
  if (plan === undefined) return undefined;
  const cancel = new AbortController();
  const get = (url: URL): Promise<FetchedPage> =>
    plan.fetcher.fetch(url, cancel.signal).catch((err: unknown) => {
      cancel.abort();
      throw err;
    });
  const [inputPage, webPages] = await Promise.all([
    plan.input === undefined ? undefined : get(plan.input),
    Promise.all(plan.web.map(get)),
  ]);
  return {
    ...(inputPage !== undefined && {
      input: { url: inputPage.url, text: promptSafe(inputPage.text) },
    }),
    pages: webPages.map((p) => ({ url: p.url, text: promptSafe(p.text) })),
    evidence: [
      ...(inputPage === undefined ? [] : [evidenceOf(inputPage, "input")]),
      ...webPages.map((p) => evidenceOf(p, "web_content")),
    ],
  };
}
