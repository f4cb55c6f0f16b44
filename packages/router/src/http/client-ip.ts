import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { RouterEnv } from "./env.js";

/**
 * The caller's IP: the socket peer, or behind one trusted proxy the last X-Forwarded-For entry,
 * the address that proxy appended. Entries left of it were written by the client itself; taking
 * the first one would let anybody pick a fresh trial quota per request.
 */
export function clientIp(c: Context<RouterEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // app.request() in tests has no socket.
    return "unknown";
  }
}
