import { domainToASCII } from "node:url";
import type { ResolvedFeatures } from "../../config.js";
import { WebFetchRefusedError } from "../errors.js";
import {
  type AddressClass,
  classifyAddress,
  isBlockedClass,
  isIpLiteral,
  parseIPv6,
} from "./address.js";

/** What the fetcher needs from the `web_fetch` config block (defaults applied). */
export interface WebFetchPolicy {
  /** Normalized allowlist: exact host names / IP literals, or `*.suffix` wildcards. */
  hosts: string[];
  allowPrivate: boolean;
  timeoutMs: number;
  maxBytes: number;
  maxUrls: number;
}

/** The fetcher's policy from a parsed `web_fetch` config block (allowlist normalized). */
export function webFetchPolicy(block: NonNullable<ResolvedFeatures["web_fetch"]>): WebFetchPolicy {
  return {
    hosts: block.hosts.flatMap((h) => normalizeHostPattern(h) ?? []),
    allowPrivate: block.allow_private,
    timeoutMs: block.timeout_ms,
    maxBytes: block.max_bytes,
    maxUrls: block.max_urls,
  };
}

const LABEL = "[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?";
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/**
 * A host as the allowlist compares it: lower case, IDN in punycode, no trailing dot, IPv6 without
 * brackets. Undefined when it is not a host name or IP literal.
 */
export function normalizeHost(host: string): string | undefined {
  const h = host.trim().toLowerCase().replace(/\.$/, "");
  if (h === "") return undefined;
  const v6 = parseIPv6(h);
  if (v6 !== undefined) return h.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  // Only name characters: domainToASCII would otherwise cut "a.com/x" down to "a.com".
  if (!/^[\p{L}\p{N}\p{M}._-]+$/u.test(h)) return undefined;
  const ascii = domainToASCII(h);
  return ascii !== "" && HOST_NAME.test(ascii) && ascii.length <= 253 ? ascii : undefined;
}

/** An allowlist entry normalized (`*.Example.COM.` → `*.example.com`); undefined when invalid. */
export function normalizeHostPattern(pattern: string): string | undefined {
  const p = pattern.trim();
  if (p.startsWith("*.")) {
    const suffix = normalizeHost(p.slice(2));
    // A wildcard names a DNS suffix, never an IP range.
    return suffix === undefined || isIpLiteral(suffix) ? undefined : `*.${suffix}`;
  }
  return normalizeHost(p);
}

/** True when `pattern` is a valid allowlist entry. */
export function isHostPattern(pattern: string): boolean {
  return normalizeHostPattern(pattern) !== undefined;
}

/**
 * True when the host is on the allowlist: an exact entry, or `*.suffix` for any name strictly
 * below the suffix (`*.example.com` matches `a.example.com` and `a.b.example.com`, not
 * `example.com`). Case and a trailing dot do not matter.
 */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = normalizeHost(host);
  if (h === undefined) return false;
  for (const raw of patterns) {
    const p = normalizeHostPattern(raw);
    if (p === undefined) continue;
    if (p.startsWith("*.")) {
      if (!isIpLiteral(h) && h.endsWith(p.slice(1))) return true;
    } else if (p === h || (isIpLiteral(p) && sameIp(p, h))) {
      return true;
    }
  }
  return false;
}

function sameIp(a: string, b: string): boolean {
  const ga = parseIPv6(a);
  const gb = parseIPv6(b);
  return ga !== undefined && gb !== undefined && ga.every((x, i) => x === gb[i]);
}

/** A URL without its user info, for messages and error details. */
export function displayUrl(url: URL): string {
  if (url.username === "" && url.password === "") return url.href;
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy.href;
}

/**
 * Check one URL (the request's or a redirect's) against the scheme, credential, allowlist and,
 * for IP literals, address rules; throws WebFetchRefusedError (400) saying which rule refused it.
 * Host names are checked against the address rules at connect time (see guarded-lookup.ts).
 */
export function checkUrl(url: URL, policy: WebFetchPolicy, redirectedFrom?: string): void {
  const shown = displayUrl(url);
  const from = redirectedFrom === undefined ? {} : { redirected_from: redirectedFrom };
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new WebFetchRefusedError(`web fetch refused ${shown}: only http and https are fetched`, {
      url: shown,
      reason: "scheme",
      ...from,
    });
  }
  if (url.username !== "" || url.password !== "") {
    throw new WebFetchRefusedError(
      `web fetch refused ${shown}: URLs with credentials (user:password@) are not fetched`,
      { url: shown, reason: "credentials", ...from },
    );
  }
  const host = normalizeHost(url.hostname) ?? url.hostname;
  if (!hostAllowed(url.hostname, policy.hosts)) {
    throw new WebFetchRefusedError(
      `web fetch refused ${shown}: host ${host} is not on this router's web fetch allowlist`,
      { url: shown, reason: "host_not_allowed", host, ...from },
    );
  }
  if (!policy.allowPrivate && isIpLiteral(host)) {
    const kind = classifyAddress(host);
    if (isBlockedClass(kind)) throw privateAddressRefusal(shown, host, kind, redirectedFrom);
  }
}

/** The refusal for a URL whose host is (or resolves to) a non-public address. */
export function privateAddressRefusal(
  url: string,
  host: string,
  kind: AddressClass,
  redirectedFrom?: string,
): WebFetchRefusedError {
  return new WebFetchRefusedError(
    `web fetch refused ${url}: ${host} is or resolves to a non-public address (${kind})`,
    {
      url,
      reason: "private_address",
      host,
      address_class: kind,
      ...(redirectedFrom !== undefined && { redirected_from: redirectedFrom }),
    },
  );
}
