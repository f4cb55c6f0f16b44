import type { BillingResponse } from "@portal/contracts";
import { eq, organizations } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendLedgerEntry } from "../../services/balance/ledger.js";
import { createTestGateway, type TestGateway } from "../../testing/harness.js";
import { asUser, expectJson, type PortalSession, signUp } from "../../testing/portal.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

const billingOf = async (s: PortalSession) =>
  expectJson<BillingResponse>(
    await asUser(gw, s, "GET", `/portal/api/orgs/${s.orgId}/billing`),
    200,
  );

async function moveToPrepaid(s: PortalSession) {
  const planId = gw.planIds.get("prepaid");
  if (!planId) throw new Error("no prepaid plan");
  await gw.dbHandle.db.update(organizations).set({ planId }).where(eq(organizations.id, s.orgId));
}

describe("billing page data", () => {
  it("free plan: no balance, an empty ledger, no credit purchases", async () => {
    const s = await signUp(gw);
    expect(await billingOf(s)).toEqual({
      plan: expect.objectContaining({ slug: "free", billing_mode: "free" }),
      balance: null,
      ledger: [],
      credit_purchases: { available: false },
    });
  });

  it("prepaid plan: live balance from the ledger and its entries, newest first", async () => {
    const s = await signUp(gw);
    await moveToPrepaid(s);
    await appendLedgerEntry(gw.dbHandle.db, {
      orgId: s.orgId,
      kind: "grant",
      amountMicros: 5_000_000n,
      reference: `grant:${s.orgId}`,
    });
    await new Promise((r) => setTimeout(r, 5)); // distinct created_at for a stable order
    await appendLedgerEntry(gw.dbHandle.db, {
      orgId: s.orgId,
      kind: "adjustment",
      amountMicros: -250_000n,
      reference: `adj:${s.orgId}`,
    });
    const billing = await billingOf(s);
    expect(billing.plan.billing_mode).toBe("prepaid");
    expect(billing.balance).toEqual({
      available_micros: "4750000",
      reserved_micros: "0",
      credits_micros: "4750000",
      spent_micros: "0",
    });
    expect(billing.ledger.map((e) => [e.kind, e.amount_micros])).toEqual([
      ["adjustment", "-250000"],
      ["grant", "5000000"],
    ]);
    expect(billing.credit_purchases).toEqual({ available: false });
  });

  it("offers credit purchases only when payments are configured and the plan is prepaid", async () => {
    const free = await signUp(gw);
    const prepaid = await signUp(gw);
    await moveToPrepaid(prepaid);
    gw.services.config.creditPurchases = true;
    try {
      expect((await billingOf(prepaid)).credit_purchases).toEqual({ available: true });
      expect((await billingOf(free)).credit_purchases).toEqual({ available: false });
    } finally {
      gw.services.config.creditPurchases = undefined;
    }
  });

  it("isolates tenants and needs a session", async () => {
    const a = await signUp(gw);
    const b = await signUp(gw);
    const res = await asUser(gw, a, "GET", `/portal/api/orgs/${b.orgId}/billing`);
    expect(await expectJson(res, 404)).toMatchObject({ error: { code: "not_found" } });
    const anon = await gw.app.request(`/portal/api/orgs/${a.orgId}/billing`);
    expect(anon.status).toBe(401);
  });
});
