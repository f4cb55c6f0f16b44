import type { Context } from "hono";

/**
 * The status recorded (request log, metrics) for a request whose client closed the connection
 * before the gateway could answer: nginx's 499 "client closed request". Nothing is sent: there
 * is nobody to send it to.
 */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * True when `err` is Node's "the client hung up while we were reading its body" (`aborted`,
 * ECONNRESET) and the request's socket is indeed gone: a client's doing, not a server error.
 */
export function isClientAbort(err: unknown, c: Context): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== "object") return false;
  const aborted =
    (e.code === "ECONNRESET" && e.message === "aborted") || e.code === "ERR_STREAM_PREMATURE_CLOSE";
  if (!aborted) return false;
  const incoming = (c.env as { incoming?: { destroyed?: boolean } } | undefined)?.incoming;
  // Without node-server's bindings (app.request in tests) the error alone has to do.
  return incoming === undefined || incoming.destroyed === true;
}
