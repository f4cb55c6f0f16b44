import { index, integer, pgEnum, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.js";

export const idempotencyState = pgEnum("idempotency_state", ["in_progress", "completed"]);

/**
 * `Idempotency-Key` records, scoped per org. The first request inserts `in_progress`; the
 * stored response is replayed to retries with the same body until `expires_at`.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    orgId: text("org_id").notNull(),
    key: text("key").notNull(),
    /** SHA-256 (hex) of the request body. */
    requestHash: text("request_hash").notNull(),
    state: idempotencyState("state").notNull(),
    /** The request that owns (or owned) the key. */
    requestId: text("request_id").notNull(),
    /** While `in_progress`, another request may take the key over after this time (crash). */
    lockedUntil: timestamp("locked_until", { withTimezone: true }).notNull(),
    responseStatus: integer("response_status"),
    /** The response body exactly as sent (JSON text). */
    responseBody: text("response_body"),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.key] }),
    index("idempotency_keys_expires_idx").on(t.expiresAt),
  ],
);

export type IdempotencyRecord = typeof idempotencyKeys.$inferSelect;
