import { bigint, date, index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { micros } from "./columns.js";

/**
 * Per (org, key, model, UTC day) totals for the portal and exports, so no page scans raw usage.
 * Maintained by the usage writer in the same transaction as the `usage_events` insert, counting
 * only rows that insert actually added, so replays never double count.
 */
export const usageDaily = pgTable(
  "usage_daily",
  {
    orgId: text("org_id").notNull(),
    apiKeyId: text("api_key_id").notNull(),
    modelAlias: text("model_alias").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    requests: integer("requests").notNull().default(0),
    failedRequests: integer("failed_requests").notNull().default(0),
    promptTokens: bigint("prompt_tokens", { mode: "number" }).notNull().default(0),
    completionTokens: bigint("completion_tokens", { mode: "number" }).notNull().default(0),
    costMicros: micros("cost_micros").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.apiKeyId, t.modelAlias, t.day] }),
    index("usage_daily_org_day_idx").on(t.orgId, t.day),
  ],
);

export type UsageDaily = typeof usageDaily.$inferSelect;
