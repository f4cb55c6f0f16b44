import type { BillingResponse, LedgerEntryView, PlanView } from "@portal/contracts";
import { billingLedger, type Database, desc, eq } from "@portal/db";
import type { BalanceService } from "../balance/balance-service.js";

/** The ledger page shows this many most recent entries. */
const LEDGER_PAGE = 50;

/**
 * What the billing page shows for one org: plan, live balance (prepaid plans), the most recent
 * ledger entries, and whether credits can be bought on this installation.
 */
export async function billingOverview(
  db: Database,
  balance: BalanceService,
  input: { orgId: string; plan: PlanView; creditPurchases: boolean },
): Promise<BillingResponse> {
  const [rows, snapshot] = await Promise.all([
    db
      .select()
      .from(billingLedger)
      .where(eq(billingLedger.orgId, input.orgId))
      .orderBy(desc(billingLedger.createdAt), desc(billingLedger.id))
      .limit(LEDGER_PAGE),
    input.plan.billing_mode === "prepaid" ? balance.snapshot(input.orgId) : null,
  ]);
  const ledger: LedgerEntryView[] = rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    amount_micros: r.amountMicros.toString(),
    reference: r.reference,
    created_at: r.createdAt.toISOString(),
  }));
  return {
    plan: input.plan,
    balance: snapshot
      ? {
          available_micros: snapshot.available.toString(),
          reserved_micros: snapshot.reserved.toString(),
          credits_micros: snapshot.credits.toString(),
          spent_micros: snapshot.spent.toString(),
        }
      : null,
    ledger,
    credit_purchases: {
      available: input.creditPurchases && input.plan.billing_mode === "prepaid",
    },
  };
}
