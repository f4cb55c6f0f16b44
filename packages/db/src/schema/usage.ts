import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { micros } from "./columns.js";
import { billingMode } from "./plans.js";

export const usageStatus = pgEnum("usage_status", ["ok", "failed", "cancelled"]);

/**
 * One row per request that reached a router. Range-partitioned by month on `created_at`
 * (custom migration `partition_usage`; drizzle-kit does not model partitions, so this definition
 * describes the parent table that queries use). A partitioned table's primary key must contain
 * the partition key, hence (request_id, created_at): `created_at` is fixed once when the event is
 * built and travels with it through the stream and the spool, so a replayed event carries the same
 * pair and writers' ON CONFLICT (request_id, created_at) DO NOTHING still deduplicates.
 */
export const usageEvents = pgTable(
  "usage_events",
  {
    requestId: text("request_id").notNull(),
    orgId: text("org_id").notNull(),
    apiKeyId: text("api_key_id").notNull(),
    modelAlias: text("model_alias").notNull(),
    routerPool: text("router_pool").notNull(),
    routerTargetId: text("router_target_id"),
    route: text("route").notNull(),
    status: usageStatus("status").notNull(),
    errorCode: text("error_code"),
    promptTokens: integer("prompt_tokens").notNull(),
    completionTokens: integer("completion_tokens").notNull(),
    costMicros: micros("cost_micros").notNull(),
    latencyMs: integer("latency_ms").notNull(),
    upstreamMs: integer("upstream_ms").notNull(),
    stream: boolean("stream").notNull().default(false),
    /** The org's billing mode when the request was served (null on rows older than billing). */
    billingMode: billingMode("billing_mode"),
    /** What the prepaid balance was charged (0 for free / postpaid / failed requests). */
    chargeMicros: micros("charge_micros").notNull().default(sql`0`),
    /**
     * The billing row that accounted for this event: the hourly `usage_charge` ledger entry
     * (prepaid) or the `stripe_outbox` row (postpaid). Null = not rolled up yet. It is set in the
     * same transaction that writes that row, so an event is billed exactly once however often
     * the rollup runs, and "charged but not rolled up" is exactly the rows where it is null.
     */
    billedEntryId: text("billed_entry_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.requestId, t.createdAt] }),
    // request_id last: exports page by (created_at, request_id) per org, which this index serves
    // in order, so every page is an index range scan instead of a sort of the org's month.
    index("usage_events_org_created_idx").on(t.orgId, t.createdAt, t.requestId),
    index("usage_events_key_created_idx").on(t.apiKeyId, t.createdAt),
    // Small by construction (only rows still waiting for the rollup): the rollup's work list and
    // the balance seed's "not rolled up yet" sum read it instead of the month.
    index("usage_events_unbilled_idx")
      .on(t.orgId, t.createdAt)
      .where(
        sql`billed_entry_id IS NULL AND (charge_micros > 0 OR (billing_mode = 'postpaid' AND cost_micros > 0 AND status <> 'failed'))`,
      ),
  ],
);

/**
 * Every request, rejected ones included; short retention, for support. Range-partitioned by UTC
 * day on `created_at`; expired days are dropped whole (REQUEST_LOG_RETENTION_DAYS).
 */
export const requestLogs = pgTable(
  "request_logs",
  {
    requestId: text("request_id").notNull(),
    orgId: text("org_id"),
    apiKeyId: text("api_key_id"),
    method: text("method").notNull(),
    route: text("route").notNull(),
    httpStatus: integer("http_status").notNull(),
    errorCode: text("error_code"),
    modelAlias: text("model_alias"),
    latencyMs: integer("latency_ms").notNull(),
    overheadMs: integer("overhead_ms"),
    clientIp: text("client_ip"),
    userAgent: text("user_agent"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.requestId, t.createdAt] }),
    index("request_logs_created_idx").on(t.createdAt),
    index("request_logs_org_created_idx").on(t.orgId, t.createdAt),
  ],
);

export type UsageEvent = typeof usageEvents.$inferSelect;
export type NewUsageEvent = typeof usageEvents.$inferInsert;
export type RequestLog = typeof requestLogs.$inferSelect;
export type NewRequestLog = typeof requestLogs.$inferInsert;
