import { createMiddleware } from "hono/factory";
import { requestClientIp } from "../lib/client-ip.js";
import type { AppEnv } from "../types.js";

/** Queue one `request_logs` row per API request, rejected ones included (written in batches). */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
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
    errorCode: c.get("errorCode") ?? null,
    modelAlias: c.get("modelAlias") ?? null,
    latencyMs: Math.round(latencyMs),
    overheadMs: Math.round(latencyMs - (c.get("upstreamMs") ?? 0)),
    clientIp,
    userAgent: c.req.header("user-agent")?.slice(0, 300) ?? null,
    createdAt: new Date(),
  });
});
