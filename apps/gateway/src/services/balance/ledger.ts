import { newId } from "@portal/contracts";
import { billingLedger, type Database, rowsOf, sql } from "@portal/db";
import type { BalanceSeed } from "./types.js";

export type CreditKind = "credit_purchase" | "grant" | "refund" | "adjustment";

/**
 * Append one non-usage entry (credits are positive, adjustments may be negative). Returns false
 * when `reference` was already recorded (a retried webhook or admin action is a no-op).
 */
export async function appendLedgerEntry(
  db: Database,
  input: { orgId: string; kind: CreditKind; amountMicros: bigint; reference: string },
): Promise<boolean> {
  const rows = await db
    .insert(billingLedger)
    .values({ id: newId("led"), ...input })
    .onConflictDoNothing({ target: billingLedger.reference })
    .returning({ id: billingLedger.id });
  return rows.length > 0;
}

/**
 * The org's balance as Postgres has it: credits, usage charged (rolled-up ledger charges plus the
 * charges of usage rows the hourly rollup has not reached yet), entry watermark. One statement,
 * so one snapshot: a rollup committing meanwhile moves an amount from one sum to the other and
 * never counts it twice or not at all.
 */
export async function ledgerSeed(db: Database, orgId: string): Promise<BalanceSeed> {
  const result = await db.execute(sql`
    SELECT
      coalesce(sum(amount_micros) FILTER (WHERE kind <> 'usage_charge'), 0)::text AS credits,
      coalesce(sum(amount_micros) FILTER (WHERE kind = 'usage_charge'), 0)::text AS charges,
      (count(*) FILTER (WHERE kind <> 'usage_charge'))::int AS entries,
      (SELECT coalesce(sum(charge_micros), 0) FROM usage_events
        WHERE org_id = ${orgId} AND charge_micros > 0 AND billed_entry_id IS NULL)::text
        AS unrolled
    FROM billing_ledger WHERE org_id = ${orgId}`);
  const [row] = rowsOf<{ credits: string; charges: string; entries: number; unrolled: string }>(
    result,
  );
  return {
    credits: BigInt(row?.credits ?? "0"),
    spent: -BigInt(row?.charges ?? "0") + BigInt(row?.unrolled ?? "0"),
    watermark: Number(row?.entries ?? 0),
  };
}

/** The org's balance once the usage queue has drained: SUM(ledger) − charges not rolled up yet. */
export async function ledgerBalance(db: Database, orgId: string): Promise<bigint> {
  const seed = await ledgerSeed(db, orgId);
  return seed.credits - seed.spent;
}
