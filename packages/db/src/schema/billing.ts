import { sql } from "drizzle-orm";
import { index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, idColumn, micros, updatedAt } from "./columns.js";
import { organizations } from "./tenancy.js";

export const ledgerKind = pgEnum("ledger_kind", [
  "credit_purchase",
  "grant",
  "usage_charge",
  "refund",
  "adjustment",
]);

/**
 * Append-only money ledger, the source of truth of every prepaid balance: balance = SUM(amount).
 * Credits are positive, usage charges negative. `reference` is unique, so writing an entry twice
 * (a retried payment webhook, a re-run rollup) is a no-op.
 */
export const billingLedger = pgTable(
  "billing_ledger",
  {
    id: idColumn(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    kind: ledgerKind("kind").notNull(),
    /** Signed integer micro-USD. */
    amountMicros: micros("amount_micros").notNull(),
    /**
     * Idempotency reference: `usage:<org>:<hour ISO>` for an hourly usage rollup (`…#<n>` for a
     * late-events delta of the same hour), `stripe:checkout:<session>`, `stripe:refund:…`, ….
     */
    reference: text("reference").notNull(),
    /** Usage charges: the UTC hour they roll up (null for other kinds). */
    periodStart: timestamp("period_start", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("billing_ledger_reference_uq").on(t.reference),
    // id last: ledger exports page by (created_at, id) per org (see usage_events_org_created_idx).
    index("billing_ledger_org_created_idx").on(t.orgId, t.createdAt, t.id),
  ],
);

/** One Stripe customer per org, created on first need (checkout or metering). */
export const stripeCustomers = pgTable(
  "stripe_customers",
  {
    orgId: text("org_id")
      .primaryKey()
      .references(() => organizations.id, { onDelete: "cascade" }),
    customerId: text("customer_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("stripe_customers_customer_uq").on(t.customerId)],
);

export const outboxStatus = pgEnum("stripe_outbox_status", ["pending", "sent", "failed"]);

/**
 * Meter events for postpaid orgs waiting to reach Stripe: one row per (org, model, UTC hour, seq),
 * written by the usage rollup in the transaction that marks the events it covers; seq > 0 rows
 * are deltas for events that arrived after the hour was first sent. `identifier` is deterministic
 * (Stripe deduplicates on it, and it doubles as the Idempotency-Key), so a resend after a crash
 * between Stripe's answer and our update is harmless.
 */
export const stripeOutbox = pgTable(
  "stripe_outbox",
  {
    id: idColumn(),
    orgId: text("org_id")
      .notNull()
      .references(() => organizations.id, { onDelete: "cascade" }),
    modelAlias: text("model_alias").notNull(),
    periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
    seq: integer("seq").notNull(),
    /** Whole micro-USD of usage (Stripe meter values must be integers). */
    valueMicros: micros("value_micros").notNull(),
    identifier: text("identifier").notNull(),
    status: outboxStatus("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    lastError: text("last_error"),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("stripe_outbox_identifier_uq").on(t.identifier),
    uniqueIndex("stripe_outbox_key_uq").on(t.orgId, t.modelAlias, t.periodStart, t.seq),
    index("stripe_outbox_due_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
);

export type LedgerEntry = typeof billingLedger.$inferSelect;
export type NewLedgerEntry = typeof billingLedger.$inferInsert;
export type StripeOutboxRow = typeof stripeOutbox.$inferSelect;
