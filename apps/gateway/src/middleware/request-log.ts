import { createMiddleware } from "hono/factory";
import { requestClientIp } from "../lib/client-ip.js";
import type { AppEnv } from "../types.js";
import { whenAnswered } from "./answered.js";

/** Queue one `request_logs` row per API request, rejected ones included (written in batches). */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  // Read while the connection is surely open (a stream's row is written after it ends).
  const clientIp = requestClientIp(c);
  whenAnswered(c, ({ latencyMs, upstreamMs, errorCode }) => {
    const key = c.get("apiKey");
    c.get("services").requestLogs.push({
      requestId: c.get("requestId"),
      orgId: key?.orgId ?? null,
      apiKeyId: key?.keyId ?? null,
      method: c.req.method,
      route: c.req.path.slice(0, 200),
      httpStatus: c.res.status,
      errorCode,
      modelAlias: c.get("modelAlias") ?? null,
      latencyMs: Math.round(latencyMs),
      overheadMs: Math.round(latencyMs - upstreamMs),
      clientIp,
      userAgent: c.req.header("user-agent")?.slice(0, 300) ?? null,
      createdAt: new Date(),
    });
  });
});
