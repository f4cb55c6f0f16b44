import { billingLedger, eq, sql, usageDaily, usageEvents } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerBalance } from "../../../services/balance/ledger.js";
import { rollupUsage } from "../../../services/billing/rollup.js";
import { closedPortUrl } from "../../../testing/fake-router.js";
import { type FixtureRouter, startFixtureRouter } from "../../../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  postJson,
  readJson,
  type TestGateway,
} from "../../../testing/harness.js";
import { testRedisUrl } from "../../../testing/redis.js";

const modes = [
  { name: "in-process balance", redis: false },
  ...(testRedisUrl() ? [{ name: "Redis balance", redis: true }] : []),
];

// Harness prices: 1 µUSD per input token, 2 µUSD per output token. The fixture router reports
// 1 prompt token ("hello" is one token for our tokenizer too) and max_tokens completion tokens,
// so each request reserves and costs exactly 1 + 2 × 40 = 81 µUSD.
const COST = 81n;
const body = (alias: string) => ({ model: alias, prompt: "hello", max_tokens: 40 });

describe.each(modes)("prepaid balances ($name)", ({ redis }) => {
  let gw: TestGateway;
  let router: FixtureRouter;
  beforeAll(async () => {
    gw = await createTestGateway({ redis });
    router = await startFixtureRouter({ promptTokens: 1, delayMs: 5 });
  });
  afterAll(async () => {
    await gw.close();
    await router.close();
  });

  it("100 parallel requests against a balance covering 10: 10 succeed, never overdrawn", async () => {
    // Room for 100 in flight, so only the balance decides (the plan allows 32 per key).
    const t = await createTenant(gw, {
      plan: "prepaid",
      targets: [{ url: router.url }],
      planLimits: { maxConcurrentPerKey: 200 },
    });
    await fundOrg(gw, t.orgId, 10n * COST);
    const servedBefore = router.served();
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => postJson(gw, "/v1/completions", body(t.alias), t.key)),
    );
    const bodies = await Promise.all(responses.map(readJson));
    const ok = bodies.filter((b) => b.status === "ok");
    const refused = bodies.filter((b) => b.error?.code === "insufficient_balance");
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(90);
    expect(router.served() - servedBefore).toBe(10); // refused requests never reached a router
    for (const b of ok) expect(b.data.usage.cost.amount).toBe("0.000081");
    expect(refused[0].error.details).toMatchObject({ required: "0.000081", currency: "USD" });
    expect(BigInt(refused[0].error.details.available.replace(".", ""))).toBeLessThan(COST);

    const live = await gw.services.balance.snapshot(t.orgId);
    expect(live).toMatchObject({ available: 0n, reserved: 0n, spent: 10n * COST });

    await gw.services.usage.flush();
    // The ledger adds up: one grant, ten charges, sum zero, never negative — before the hourly
    // rollup (charges on the usage rows) and after it (one usage_charge entry per hour).
    expect(await ledgerBalance(gw.dbHandle.db, t.orgId)).toBe(0n);
    await rollupUsage(gw.dbHandle.db, {
      before: new Date(Date.now() + 3_600_000),
      orgId: t.orgId,
    });
    expect(await ledgerBalance(gw.dbHandle.db, t.orgId)).toBe(0n);
    const charges = await gw.dbHandle.db
      .select({ n: sql<number>`count(*)::int`, sum: sql<string>`sum(amount_micros)::text` })
      .from(billingLedger)
      .where(sql`${billingLedger.orgId} = ${t.orgId} and ${billingLedger.kind} = 'usage_charge'`);
    // Ten requests within at most two UTC hours (the test may straddle an hour boundary).
    expect(charges[0]?.sum).toBe(String(-10n * COST));
    expect([1, 2]).toContain(charges[0]?.n);
    const events = await gw.dbHandle.db
      .select()
      .from(usageEvents)
      .where(eq(usageEvents.orgId, t.orgId));
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.costMicros === COST)).toBe(true);
    const [daily] = await gw.dbHandle.db
      .select()
      .from(usageDaily)
      .where(eq(usageDaily.orgId, t.orgId));
    expect(daily).toMatchObject({ requests: 10, costMicros: 10n * COST, completionTokens: 400 });
  });

  it("refuses with insufficient_balance (402) when nothing is funded", async () => {
    const t = await createTenant(gw, { plan: "prepaid", targets: [{ url: router.url }] });
    const res = await postJson(gw, "/v1/completions", body(t.alias), t.key);
    const text = await res.text();
    expect(res.status, text).toBe(402);
    expect(JSON.parse(text)).toMatchObject({
      status: "failed",
      data: null,
      error: {
        code: "insufficient_balance",
        details: { required: "0.000081", available: "0.000000", currency: "USD" },
      },
    });
  });

  it("releases the reservation when the request fails", async () => {
    const t = await createTenant(gw, {
      plan: "prepaid",
      targets: [{ url: await closedPortUrl() }],
    });
    await fundOrg(gw, t.orgId, 100n);
    const res = await postJson(gw, "/v1/completions", body(t.alias), t.key);
    expect(res.status, await res.clone().text()).toBe(503);
    expect(await gw.services.balance.snapshot(t.orgId)).toMatchObject({
      available: 100n,
      reserved: 0n,
      spent: 0n,
    });
  });

  it("sees credits added after the mirror was seeded", async () => {
    const t = await createTenant(gw, { plan: "prepaid", targets: [{ url: router.url }] });
    expect((await postJson(gw, "/v1/completions", body(t.alias), t.key)).status).toBe(402);
    await fundOrg(gw, t.orgId, COST);
    expect((await postJson(gw, "/v1/completions", body(t.alias), t.key)).status).toBe(200);
    expect((await postJson(gw, "/v1/completions", body(t.alias), t.key)).status).toBe(402);
  });

  it("counts a request the balance refuses against no limit, and holds nothing for one the limits refuse", async () => {
    const t = await createTenant(gw, {
      plan: "prepaid",
      targets: [{ url: router.url }],
      key: { rpmLimit: 2 },
    });
    // Refused for money: the limit figures still come back, and nothing is counted.
    for (let i = 0; i < 3; i++) {
      const res = await postJson(gw, "/v1/completions", body(t.alias), t.key);
      expect(res.status, await res.clone().text()).toBe(402);
      expect(res.headers.get("x-ratelimit-limit")).toBe("2");
      expect(res.headers.get("x-ratelimit-remaining")).toBe("2");
    }
    await fundOrg(gw, t.orgId, 10n * COST);
    const served = [];
    for (let i = 0; i < 3; i++)
      served.push(await postJson(gw, "/v1/completions", body(t.alias), t.key));
    expect(served.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(served[1]?.headers.get("x-ratelimit-remaining")).toBe("0");
    // The request the limits refused held no money.
    expect(await gw.services.balance.snapshot(t.orgId)).toMatchObject({
      reserved: 0n,
      spent: 2n * COST,
      available: 8n * COST,
    });
  });

  it("charges free-plan orgs nothing and needs no balance", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }] });
    const res = await postJson(gw, "/v1/completions", body(t.alias), t.key);
    expect(res.status).toBe(200);
    await gw.services.usage.flush();
    expect(await ledgerBalance(gw.dbHandle.db, t.orgId)).toBe(0n);
  });
});
