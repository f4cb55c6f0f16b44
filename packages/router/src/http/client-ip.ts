import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { RouterEnv } from "./env.js";

/** The caller's IP: the socket peer, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientIp(c: Context<RouterEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // app.request() in tests has no socket.
    return "unknown";
  }
}
