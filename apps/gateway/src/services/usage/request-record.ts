import { formatMicrosUsd, type RequestRecord } from "@portal/contracts";
import type { Database } from "@portal/db";
import { requestRows } from "../admin/lookup.js";

/**
 * One request of an org as the gateway recorded it: its request log line (every request, kept
 * for the log retention) and its usage row (requests that reached a router). Null when neither
 * is on record for this org: another org's request looks exactly like a missing one.
 */
export async function requestRecord(
  db: Database,
  orgId: string,
  requestId: string,
): Promise<RequestRecord | null> {
  const { log, usage } = await requestRows(db, requestId, orgId);
  if (!log && !usage) return null;
  return {
    object: "request",
    request_id: requestId,
    created_at: (log?.createdAt ?? usage?.createdAt ?? new Date()).toISOString(),
    route: log?.route ?? usage?.route ?? "",
    model: usage?.modelAlias ?? log?.modelAlias ?? null,
    router_pool: usage?.routerPool ?? null,
    api_key_id: usage?.apiKeyId ?? log?.apiKeyId ?? null,
    http_status: log?.httpStatus ?? null,
    status: usage?.status ?? statusOf(log?.httpStatus ?? 500),
    error_code: usage?.errorCode ?? log?.errorCode ?? null,
    stream: usage ? usage.stream : null,
    usage: usage
      ? {
          prompt_tokens: usage.promptTokens,
          completion_tokens: usage.completionTokens,
          total_tokens: usage.promptTokens + usage.completionTokens,
          cost: { amount: formatMicrosUsd(usage.costMicros), currency: "USD" },
        }
      : null,
    timing: {
      latency_ms: log?.latencyMs ?? usage?.latencyMs ?? null,
      upstream_ms: usage?.upstreamMs ?? null,
      overhead_ms: log?.overheadMs ?? null,
    },
  };
}

/** A request that never reached a router, by its HTTP status (499: the client left). */
function statusOf(httpStatus: number): RequestRecord["status"] {
  if (httpStatus === 499) return "cancelled";
  return httpStatus < 400 ? "ok" : "failed";
}
