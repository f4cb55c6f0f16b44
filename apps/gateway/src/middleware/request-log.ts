import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { requestClientIp } from "../lib/client-ip.js";
import type { StreamEnd } from "../services/streaming/serve-stream.js";
import type { AppEnv } from "../types.js";

/** Queue one `request_logs` row per API request, rejected ones included (written in batches). */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  // A stream is logged when it is over: its whole duration, and the code of a failure that
  // came after the 200 (an error event), which the status alone cannot tell.
  const streamEnd = c.get("streamEnd");
  if (streamEnd) {
    void streamEnd.then((end) => logRequest(c, end));
    return;
  }
  logRequest(c, null);
});

function logRequest(c: Context<AppEnv>, end: StreamEnd | null): void {
  const latencyMs = performance.now() - c.get("receivedAt");
  const key = c.get("apiKey");
  const clientIp = requestClientIp(c);
  c.get("services").requestLogs.push({
    requestId: c.get("requestId"),
    orgId: key?.orgId ?? null,
    apiKeyId: key?.keyId ?? null,
    method: c.req.method,
    route: c.req.path.slice(0, 200),
    httpStatus: c.res.status,
    errorCode: end?.errorCode ?? c.get("errorCode") ?? null,
    modelAlias: c.get("modelAlias") ?? null,
    latencyMs: Math.round(latencyMs),
    overheadMs: Math.round(latencyMs - (end?.upstreamMs ?? c.get("upstreamMs") ?? 0)),
    clientIp,
    userAgent: c.req.header("user-agent")?.slice(0, 300) ?? null,
    createdAt: new Date(),
  });
}
