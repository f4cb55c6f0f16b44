import { newId } from "@portal/contracts";
import { billingLedger, type Database, eq, sql } from "@portal/db";
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

/** The org's balance as the ledger has it: credits, recorded usage charges, entry watermark. */
export async function ledgerSeed(db: Database, orgId: string): Promise<BalanceSeed> {
  const [row] = await db
    .select({
      credits: sql<string>`coalesce(sum(${billingLedger.amountMicros}) filter (where ${billingLedger.kind} <> 'usage_charge'), 0)::text`,
      charges: sql<string>`coalesce(sum(${billingLedger.amountMicros}) filter (where ${billingLedger.kind} = 'usage_charge'), 0)::text`,
      entries: sql<number>`(count(*) filter (where ${billingLedger.kind} <> 'usage_charge'))::int`,
    })
    .from(billingLedger)
    .where(eq(billingLedger.orgId, orgId));
  return {
    credits: BigInt(row?.credits ?? "0"),
    spent: -BigInt(row?.charges ?? "0"),
    watermark: Number(row?.entries ?? 0),
  };
}

/** SUM(amount) over the org's ledger: the balance once the usage queue has drained. */
export async function ledgerBalance(db: Database, orgId: string): Promise<bigint> {
  const seed = await ledgerSeed(db, orgId);
  return seed.credits - seed.spent;
}
