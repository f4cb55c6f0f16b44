import { integer, pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, idColumn, updatedAt } from "./columns.js";

export const billingMode = pgEnum("billing_mode", ["free", "prepaid", "postpaid"]);

/** Limits and price behaviour shared by every org on the plan (DESIGN §3). */
export const plans = pgTable(
  "plans",
  {
    id: idColumn(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    billingMode: billingMode("billing_mode").notNull(),
    requestsPerMinuteKey: integer("requests_per_minute_key").notNull(),
    requestsPerMinuteOrg: integer("requests_per_minute_org").notNull(),
    tokensPerMinuteOrg: integer("tokens_per_minute_org").notNull(),
    maxConcurrentPerKey: integer("max_concurrent_per_key").notNull(),
    /** Requests per ISO week; null means no weekly allowance (paid plans). */
    weeklyRequestAllowance: integer("weekly_request_allowance"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("plans_slug_uq").on(t.slug)],
);

export type Plan = typeof plans.$inferSelect;
