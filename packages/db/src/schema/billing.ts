import { index, pgEnum, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, idColumn, micros } from "./columns.js";
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
 * (a retried payment webhook, a replayed usage batch) is a no-op.
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
    /** Idempotency reference, e.g. `usage:<request_id>` or a payment id. */
    reference: text("reference").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("billing_ledger_reference_uq").on(t.reference),
    index("billing_ledger_org_created_idx").on(t.orgId, t.createdAt),
  ],
);

export type LedgerEntry = typeof billingLedger.$inferSelect;
export type NewLedgerEntry = typeof billingLedger.$inferInsert;
