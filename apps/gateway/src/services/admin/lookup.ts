import {
  and,
  auditLog,
  type Database,
  desc,
  eq,
  lt,
  type RequestLog,
  requestLogs,
  type UsageEvent,
  usageEvents,
} from "@portal/db";
import { ResourceNotFoundError } from "../portal/errors.js";

/**
 * One request's log line and, when it reached a router, its usage row (either may be missing);
 * with `orgId`, only if they are that org's.
 */
export async function requestRows(
  db: Database,
  requestId: string,
  orgId?: string,
): Promise<{ log: RequestLog | undefined; usage: UsageEvent | undefined }> {
  const [[log], [usage]] = await Promise.all([
    db
      .select()
      .from(requestLogs)
      .where(
        and(
          eq(requestLogs.requestId, requestId),
          orgId === undefined ? undefined : eq(requestLogs.orgId, orgId),
        ),
      )
      .limit(1),
    db
      .select()
      .from(usageEvents)
      .where(
        and(
          eq(usageEvents.requestId, requestId),
          orgId === undefined ? undefined : eq(usageEvents.orgId, orgId),
        ),
      )
      .limit(1),
  ]);
  return { log, usage };
}

/** What support needs about one request: its log line and, when it reached a router, its usage. */
export async function lookupRequest(db: Database, requestId: string) {
  const { log, usage } = await requestRows(db, requestId);
  if (!log && !usage) throw new ResourceNotFoundError("request");
  return {
    request_id: requestId,
    request_log: log
      ? {
          org_id: log.orgId,
          api_key_id: log.apiKeyId,
          method: log.method,
          route: log.route,
          http_status: log.httpStatus,
          error_code: log.errorCode,
          model_alias: log.modelAlias,
          latency_ms: log.latencyMs,
          overhead_ms: log.overheadMs,
          client_ip: log.clientIp,
          user_agent: log.userAgent,
          created_at: log.createdAt.toISOString(),
        }
      : null,
    usage_event: usage
      ? {
          org_id: usage.orgId,
          api_key_id: usage.apiKeyId,
          model_alias: usage.modelAlias,
          router_pool: usage.routerPool,
          router_target_id: usage.routerTargetId,
          route: usage.route,
          status: usage.status,
          error_code: usage.errorCode,
          prompt_tokens: usage.promptTokens,
          completion_tokens: usage.completionTokens,
          cost_micros: usage.costMicros.toString(),
          latency_ms: usage.latencyMs,
          upstream_ms: usage.upstreamMs,
          stream: usage.stream,
          created_at: usage.createdAt.toISOString(),
        }
      : null,
  };
}

/** Audit entries, newest first; `before` is an audit id for paging (ids sort by time). */
export async function listAudit(
  db: Database,
  opts: { orgId?: string | undefined; before?: string | undefined; limit: number },
) {
  const conds = [
    ...(opts.orgId ? [eq(auditLog.orgId, opts.orgId)] : []),
    ...(opts.before ? [lt(auditLog.id, opts.before)] : []),
  ];
  const rows = await db
    .select()
    .from(auditLog)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(opts.limit);
  return rows.map((a) => ({
    id: a.id,
    org_id: a.orgId,
    actor_kind: a.actorKind,
    actor_id: a.actorId,
    action: a.action,
    target_type: a.targetType,
    target_id: a.targetId,
    details: a.details,
    request_id: a.requestId,
    created_at: a.createdAt.toISOString(),
  }));
}
