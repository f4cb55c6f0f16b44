import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { AppEnv } from "../types.js";

/**
 * The client's address given the socket peer, the `X-Forwarded-For` header and how many proxies
 * in front of us are trusted. Each trusted proxy appends the address it received the request
 * from, so the client is the entry `hops` from the right of [...forwarded, peer]; entries left
 * of it were sent by the client and can be anything (taking the first one would let anybody
 * pick their own throttling key). With 0 hops, or a header shorter than the chain, the peer or
 * the leftmost address we can vouch for is used.
 */
export function clientAddress(
  peer: string | null,
  forwardedFor: string | undefined,
  trustedHops: number,
): string | null {
  if (trustedHops <= 0 || forwardedFor === undefined) return peer;
  const chain: Array<string | null> = forwardedFor
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  // The peer (the nearest proxy) ends the chain even when unknown (in-process requests).
  chain.push(peer);
  const at = Math.max(0, chain.length - 1 - trustedHops);
  return chain[at] ?? peer;
}

/** The request's client address (socket peer, or behind `TRUSTED_PROXY_HOPS` proxies). */
export function requestClientIp(c: Context<AppEnv>): string | null {
  let peer: string | null = null;
  try {
    peer = getConnInfo(c).remote.address ?? null;
  } catch {
    // In-process requests (tests) have no socket.
  }
  const hops = c.get("services")?.config.trustedProxyHops ?? 0;
  return clientAddress(peer, c.req.header("x-forwarded-for"), hops);
}
