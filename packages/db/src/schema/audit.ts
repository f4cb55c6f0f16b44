import { index, jsonb, pgEnum, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, idColumn } from "./columns.js";

export const actorKind = pgEnum("actor_kind", ["user", "operator", "system"]);

/** Append-only record of every administrative change, written in the mutation's transaction. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: idColumn(),
    orgId: text("org_id"),
    actorKind: actorKind("actor_kind").notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    requestId: text("request_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_log_org_created_idx").on(t.orgId, t.createdAt),
    index("audit_log_target_idx").on(t.targetType, t.targetId),
  ],
);

export type AuditEntry = typeof auditLog.$inferSelect;
