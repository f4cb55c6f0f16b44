import { newId } from "@portal/contracts";
import { billingLedger, eq, memberships, organizations, stripeOutbox } from "@portal/db";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendDueMeterEvents } from "../../services/billing/meter-outbox.js";
import type { PaymentsConfig } from "../../services/billing/payments.js";
import { reconciliationReport } from "../../services/billing/reconcile.js";
import { hourStart, rollupUsage } from "../../services/billing/rollup.js";
import { StripeSdkClient } from "../../services/billing/stripe-client.js";
import { persistUsageBatch } from "../../services/usage/persist.js";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import { asUser, expectJson, type PortalSession, signUp } from "../../testing/portal.js";
import { StripeRecorder } from "../../testing/stripe-recorder.js";

// Stripe through the official SDK, pointed (host, port, protocol) at a local server that records
// the exact requests; webhooks signed with the SDK's own test-header helper.

const WEBHOOK_SECRET = "whsec_test_portal";
const HOUR = 3_600_000;
let recorder: StripeRecorder;
let client: StripeSdkClient;
let gw: TestGateway;
let bare: TestGateway;
let payments: PaymentsConfig;

beforeAll(async () => {
  recorder = await new StripeRecorder().start();
  client = new StripeSdkClient({
    secretKey: "sk_test_portal",
    webhookSecret: WEBHOOK_SECRET,
    apiBase: recorder.url,
  });
  payments = {
    client,
    meterEventName: "portal_usage_micros",
    successUrl: "http://127.0.0.1:8080/portal/billing?checkout=success",
    cancelUrl: "http://127.0.0.1:8080/portal/billing?checkout=cancelled",
    minPurchaseCents: 500,
    maxPurchaseCents: 100_000,
  };
  gw = await createTestGateway({ redis: false, payments });
  bare = await createTestGateway({ redis: false, shareWith: gw });
});
afterAll(async () => {
  await bare.close();
  await gw.close();
  await recorder.close();
});

async function prepaidOwner(): Promise<PortalSession> {
  const s = await signUp(gw);
  const planId = gw.planIds.get("prepaid");
  if (!planId) throw new Error("no prepaid plan");
  await gw.dbHandle.db.update(organizations).set({ planId }).where(eq(organizations.id, s.orgId));
  return s;
}

function signed(payload: string, opts: { secret?: string; timestamp?: number } = {}) {
  return client.stripe.webhooks.generateTestHeaderString({
    payload,
    secret: opts.secret ?? WEBHOOK_SECRET,
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
  });
}

function postWebhook(target: TestGateway, payload: string, signature: string | undefined) {
  return target.app.request("/webhooks/stripe", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature ? { "stripe-signature": signature } : {}),
    },
    body: payload,
  });
}

function checkoutEvent(orgId: string, sessionId: string, cents: number) {
  return JSON.stringify({
    id: `evt_${newId("req").slice(4)}`,
    object: "event",
    type: "checkout.session.completed",
    data: {
      object: {
        id: sessionId,
        object: "checkout.session",
        mode: "payment",
        payment_status: "paid",
        currency: "usd",
        amount_total: cents,
        client_reference_id: orgId,
        metadata: { org_id: orgId },
      },
    },
  });
}

async function ledgerOf(orgId: string) {
  return gw.dbHandle.db.select().from(billingLedger).where(eq(billingLedger.orgId, orgId));
}

describe("credit purchases (Checkout)", () => {
  it("refuses a bad purchase body naming the field, and sends nothing to Stripe", async () => {
    const s = await prepaidOwner();
    const before = recorder.requests.length;
    const path = `/portal/api/orgs/${s.orgId}/billing/checkout`;
    for (const [body, code, message] of [
      [{ amount_cents: 0 }, "invalid_request", /^Invalid request: amount_cents: /],
      [{ amount_cents: 25.5 }, "invalid_request", /^Invalid request: amount_cents: /],
      [{ amount_cents: "2500" }, "invalid_request", /^Invalid request: amount_cents: /],
      [{ amount_cents: 2500, coupon: "x" }, "invalid_request", /coupon/],
      [{}, "invalid_request", /^Invalid request: amount_cents: /],
    ] as const) {
      const res = await asUser(gw, s, "POST", path, body);
      const json = await expectJson<{ error: { code: string; message: string } }>(res, 400);
      expect(json.error.code, JSON.stringify(body)).toBe(code);
      expect(json.error.message, JSON.stringify(body)).toMatch(message);
    }
    const broken = await gw.app.request(path, {
      method: "POST",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/json" },
      body: "{amount_cents: 5",
    });
    expect(await expectJson(broken, 400)).toMatchObject({ error: { code: "invalid_json" } });
    expect(recorder.requests.length).toBe(before);
  });

  it("creates the org's customer once and a Checkout session per purchase, with idempotency keys", async () => {
    const s = await prepaidOwner();
    const before = recorder.requests.length;
    const res = await asUser(gw, s, "POST", `/portal/api/orgs/${s.orgId}/billing/checkout`, {
      amount_cents: 2500,
    });
    const body = await expectJson<{ id: string; url: string }>(res, 201);
    expect(body.url).toMatch(/^https:\/\/checkout\.stripe\.test\/cs_test/);
    await expectJson(
      await asUser(gw, s, "POST", `/portal/api/orgs/${s.orgId}/billing/checkout`, {
        amount_cents: 1000,
      }),
      201,
    );
    const sent = recorder.requests.slice(before);
    expect(sent.map((r) => r.path)).toEqual([
      "/v1/customers",
      "/v1/checkout/sessions",
      "/v1/checkout/sessions",
    ]);
    const [customer, first] = sent;
    expect(customer).toMatchObject({
      method: "POST",
      idempotencyKey: `portal-customer:${s.orgId}`,
      authorization: "Bearer sk_test_portal",
      form: { "metadata[org_id]": s.orgId },
    });
    expect(first?.form).toMatchObject({
      mode: "payment",
      client_reference_id: s.orgId,
      "line_items[0][price_data][currency]": "usd",
      "line_items[0][price_data][unit_amount]": "2500",
      "line_items[0][quantity]": "1",
      "metadata[org_id]": s.orgId,
      "payment_intent_data[metadata][org_id]": s.orgId,
      success_url: payments.successUrl,
    });
    expect(first?.form.customer).toMatch(/^cus_test/);
    expect(first?.idempotencyKey).toMatch(/^portal-checkout:req_/);
    expect(new Set(sent.slice(1).map((r) => r.idempotencyKey)).size).toBe(2);
  });

  it("refuses amounts out of range, members, other orgs, and answers 404 without Stripe", async () => {
    const s = await prepaidOwner();
    const path = `/portal/api/orgs/${s.orgId}/billing/checkout`;
    const low = await asUser(gw, s, "POST", path, { amount_cents: 10 });
    expect(await expectJson(low, 400)).toMatchObject({ error: { code: "invalid_request" } });
    const other = await signUp(gw);
    const foreign = await asUser(gw, other, "POST", path, { amount_cents: 1000 });
    expect(await expectJson(foreign, 404)).toMatchObject({ error: { code: "not_found" } });
    await gw.dbHandle.db.insert(memberships).values({
      id: newId("mem"),
      orgId: s.orgId,
      userId: other.userId,
      role: "member",
    });
    const member = await asUser(gw, other, "POST", path, { amount_cents: 1000 });
    expect(await expectJson(member, 403)).toMatchObject({ error: { code: "forbidden" } });
    // A gateway without Stripe (same database): a clear envelope, never a crash.
    const b = await signUp(bare);
    await gw.dbHandle.db
      .update(organizations)
      .set({ planId: gw.planIds.get("prepaid") ?? "" })
      .where(eq(organizations.id, b.orgId));
    const none = await asUser(bare, b, "POST", `/portal/api/orgs/${b.orgId}/billing/checkout`, {
      amount_cents: 1000,
    });
    expect(await expectJson(none, 404)).toMatchObject({
      status: "failed",
      error: { code: "not_found", details: { reason: "payments_not_configured" } },
    });
    const billing = await expectJson<{ credit_purchases: { available: boolean } }>(
      await asUser(bare, b, "GET", `/portal/api/orgs/${b.orgId}/billing`),
      200,
    );
    expect(billing.credit_purchases).toEqual({ available: false });
  });
});

describe("Stripe webhook", () => {
  it("credits a completed checkout exactly once, also when redelivered", async () => {
    const s = await prepaidOwner();
    const payload = checkoutEvent(s.orgId, `cs_${newId("req").slice(4)}`, 2500);
    const header = signed(payload);
    const res = await postWebhook(gw, payload, header);
    expect(await expectJson(res, 200)).toEqual({ received: true, applied: true });
    // Stripe retries deliveries: the same event again (and again with a fresh signature).
    expect(await expectJson(await postWebhook(gw, payload, header), 200)).toEqual({
      received: true,
      applied: false,
    });
    expect(await expectJson(await postWebhook(gw, payload, signed(payload)), 200)).toMatchObject({
      applied: false,
    });
    const entries = await ledgerOf(s.orgId);
    expect(entries.map((e) => [e.kind, e.amountMicros])).toEqual([
      ["credit_purchase", 25_000_000n],
    ]);
    const snap = await gw.services.balance.snapshot(s.orgId);
    expect(snap.available).toBe(25_000_000n);
  });

  it("refuses forged, tampered, unsigned and replayed (stale) deliveries", async () => {
    const s = await prepaidOwner();
    const payload = checkoutEvent(s.orgId, `cs_${newId("req").slice(4)}`, 9900);
    const forged = await postWebhook(gw, payload, signed(payload, { secret: "whsec_attacker" }));
    expect(await expectJson(forged, 400)).toMatchObject({
      status: "failed",
      error: { code: "invalid_request" },
    });
    const tampered = payload.replace("9900", "990000");
    expect((await postWebhook(gw, tampered, signed(payload))).status).toBe(400);
    expect((await postWebhook(gw, payload, undefined)).status).toBe(400);
    // A genuine signature captured 10 minutes ago and replayed: outside the 5-minute tolerance.
    const stale = signed(payload, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect((await postWebhook(gw, payload, stale)).status).toBe(400);
    // And one dated in the future: the window holds both ways.
    const ahead = signed(payload, { timestamp: Math.floor(Date.now() / 1000) + 4_000 });
    expect((await postWebhook(gw, payload, ahead)).status).toBe(400);
    expect(await ledgerOf(s.orgId)).toEqual([]);
    const unconfigured = await postWebhook(bare, payload, signed(payload));
    expect(await expectJson(unconfigured, 404)).toMatchObject({ error: { code: "not_found" } });
  });

  it("acknowledges signed events it cannot bill on without applying them (never a 500)", async () => {
    const s = await prepaidOwner();
    const event = (type: string, object: unknown) =>
      JSON.stringify({
        id: `evt_${newId("req").slice(4)}`,
        object: "event",
        type,
        data: { object },
      });
    const payloads = [
      // Absurd amounts (one overflowed the ledger's bigint), a missing object, ids that are not
      // Stripe ids (they were booked as "undefined" and "[object Object]").
      checkoutEvent(s.orgId, `cs_${newId("req").slice(4)}`, 1e15),
      event("checkout.session.completed", null),
      event("charge.refunded", null),
      event("charge.refunded", {
        currency: "usd",
        amount_refunded: 100,
        metadata: { org_id: s.orgId },
      }),
      event("charge.refunded", {
        id: { nested: true },
        currency: "usd",
        amount_refunded: 100,
        metadata: { org_id: s.orgId },
      }),
    ];
    for (const p of payloads) {
      const res = await postWebhook(gw, p, signed(p));
      expect(await expectJson(res, 200), p).toMatchObject({ received: true, applied: false });
    }
    expect(await ledgerOf(s.orgId)).toEqual([]);
  });

  it("keeps each charge's refunds apart, whatever its id holds (no LIKE wildcards)", async () => {
    const s = await prepaidOwner();
    const buy = checkoutEvent(s.orgId, `cs_${newId("req").slice(4)}`, 5000);
    await postWebhook(gw, buy, signed(buy));
    const refund = (charge: string, cents: number) =>
      JSON.stringify({
        id: `evt_${newId("req").slice(4)}`,
        object: "event",
        type: "charge.refunded",
        data: {
          object: {
            id: charge,
            currency: "usd",
            amount_refunded: cents,
            metadata: { org_id: s.orgId },
          },
        },
      });
    const base = `ch_${newId("req").slice(4)}`;
    // `ch_X_1` would match `ch_X:%`-style patterns of `ch_X` with `_` as a wildcard.
    for (const [charge, cents] of [
      [`${base}1`, 1000],
      [`${base}_`, 700],
    ] as const) {
      const p = refund(charge, cents);
      expect((await postWebhook(gw, p, signed(p))).status).toBe(200);
    }
    const entries = (await ledgerOf(s.orgId)).filter((e) => e.kind === "refund");
    expect(entries.map((e) => e.amountMicros).sort()).toEqual([-10_000_000n, -7_000_000n]);
  });

  it("books refunds once per cumulative amount, in any delivery order", async () => {
    const s = await prepaidOwner();
    const buy = checkoutEvent(s.orgId, `cs_${newId("req").slice(4)}`, 5000);
    await postWebhook(gw, buy, signed(buy));
    const charge = `ch_${newId("req").slice(4)}`;
    const refund = (cents: number) =>
      JSON.stringify({
        id: `evt_${newId("req").slice(4)}`,
        object: "event",
        type: "charge.refunded",
        data: {
          object: {
            id: charge,
            object: "charge",
            currency: "usd",
            amount: 5000,
            amount_refunded: cents,
            metadata: { org_id: s.orgId },
          },
        },
      });
    for (const cents of [1000, 1000, 1500, 1000]) {
      const p = refund(cents);
      expect((await postWebhook(gw, p, signed(p))).status).toBe(200);
    }
    const entries = (await ledgerOf(s.orgId)).filter((e) => e.kind === "refund");
    expect(entries.map((e) => e.amountMicros).sort()).toEqual([-10_000_000n, -5_000_000n]);
    expect((await gw.services.balance.snapshot(s.orgId)).available).toBe(35_000_000n);
  });
});

describe("meter events outbox", () => {
  it("sends one event per (org, model, hour) with deterministic ids, retrying 429/5xx with backoff", async () => {
    const db = gw.dbHandle.db;
    const t = await createTenant(gw, { plan: "postpaid" });
    const hour = hourStart(new Date(Date.now() - 2 * HOUR));
    const event = (model: string, cost: bigint, offset: number) => ({
      event: {
        requestId: newId("req"),
        orgId: t.orgId,
        apiKeyId: t.keyId,
        modelAlias: model,
        routerPool: "p",
        route: "/v1/completions",
        status: "ok" as const,
        promptTokens: 1,
        completionTokens: 1,
        costMicros: cost,
        latencyMs: 1,
        upstreamMs: 1,
        billingMode: "postpaid" as const,
        createdAt: new Date(hour.getTime() + offset),
      },
      chargeMicros: 0n,
    });
    await persistUsageBatch(db, [
      event("alpha", 120n, 1),
      event("alpha", 30n, 2),
      event("beta", 7n, 3),
    ]);
    await rollupUsage(db, { before: hourStart(new Date()), orgId: t.orgId });

    const logger = pino({ level: "silent" });
    let now = new Date();
    const opts = {
      db,
      client,
      eventName: "portal_usage_micros",
      logger,
      now: () => now,
      random: () => 0.5,
      orgId: t.orgId,
    };
    const start = recorder.requests.length;
    recorder.failNext("/v1/billing/meter_events", 429);
    const first = await sendDueMeterEvents(opts);
    // 429 on the first row: it and the org's other row wait together (order kept).
    expect(first).toEqual({ sent: 0, retried: 2, failed: 0 });
    const rows1 = await db.select().from(stripeOutbox).where(eq(stripeOutbox.orgId, t.orgId));
    for (const r of rows1) {
      const wait = r.nextAttemptAt.getTime() - now.getTime();
      expect(wait).toBeGreaterThanOrEqual(1_000); // 2 s step, equal jitter: 1–2 s
      expect(wait).toBeLessThanOrEqual(2_000);
      expect(r.lastError).toContain("429");
    }
    // Not due yet: nothing is sent.
    expect(await sendDueMeterEvents(opts)).toEqual({ sent: 0, retried: 0, failed: 0 });
    now = new Date(now.getTime() + 3_000);
    recorder.failNext("/v1/billing/meter_events", 503);
    expect(await sendDueMeterEvents(opts)).toMatchObject({ sent: 0, retried: 2 });
    now = new Date(now.getTime() + 60_000);
    expect(await sendDueMeterEvents(opts)).toEqual({ sent: 2, retried: 0, failed: 0 });
    // Sent rows are done: another pass sends nothing.
    now = new Date(now.getTime() + HOUR);
    expect(await sendDueMeterEvents(opts)).toEqual({ sent: 0, retried: 0, failed: 0 });

    const meter = recorder.requests
      .slice(start)
      .filter((r) => r.path === "/v1/billing/meter_events");
    expect(meter.map((r) => r.status)).toEqual([429, 503, 200, 200]);
    const alphaId = `portal:${t.orgId}:${hour.toISOString().slice(0, 13)}:0:alpha`;
    const customer = meter[0]?.form["payload[stripe_customer_id]"];
    expect(customer).toMatch(/^cus_test/);
    // The retried request is byte-for-byte the same event: same identifier, same key.
    for (const r of meter.slice(0, 3)) {
      expect(r).toMatchObject({
        idempotencyKey: `meter:${alphaId}`,
        form: {
          event_name: "portal_usage_micros",
          identifier: alphaId,
          timestamp: String(hour.getTime() / 1000),
          "payload[value]": "150",
          "payload[stripe_customer_id]": customer,
        },
      });
    }
    expect(meter[3]?.form).toMatchObject({ identifier: alphaId.replace(":alpha", ":beta") });
    expect(meter[3]?.form["payload[value]"]).toBe("7");

    const report = await reconciliationReport(db, {
      from: new Date(hour.getTime() - HOUR),
      to: new Date(hour.getTime() + 2 * HOUR),
      orgId: t.orgId,
    });
    expect(report.meter.map((m) => [m.model, m.usage_micros, m.sent_micros, m.status])).toEqual([
      ["alpha", "150", "150", "ok"],
      ["beta", "7", "7", "ok"],
    ]);
    expect(report.totals.problems).toBe(0);
  });

  it("marks a row Stripe refuses for good as failed and reports it; later rows still go", async () => {
    const db = gw.dbHandle.db;
    const t = await createTenant(gw, { plan: "postpaid" });
    const hour = hourStart(new Date(Date.now() - 3 * HOUR));
    const base = {
      orgId: t.orgId,
      apiKeyId: t.keyId,
      routerPool: "p",
      route: "/v1/completions",
      status: "ok" as const,
      promptTokens: 1,
      completionTokens: 1,
      latencyMs: 1,
      upstreamMs: 1,
      billingMode: "postpaid" as const,
    };
    await persistUsageBatch(db, [
      {
        event: {
          ...base,
          requestId: newId("req"),
          modelAlias: "a",
          costMicros: 5n,
          createdAt: hour,
        },
        chargeMicros: 0n,
      },
      {
        event: {
          ...base,
          requestId: newId("req"),
          modelAlias: "b",
          costMicros: 6n,
          createdAt: hour,
        },
        chargeMicros: 0n,
      },
    ]);
    await rollupUsage(db, { before: hourStart(new Date()), orgId: t.orgId });
    recorder.failNext("/v1/billing/meter_events", 400, 1, "parameter_invalid_integer");
    const r = await sendDueMeterEvents({
      db,
      client,
      eventName: "portal_usage_micros",
      logger: pino({ level: "silent" }),
      orgId: t.orgId,
    });
    expect(r).toEqual({ sent: 1, retried: 0, failed: 1 });
    const report = await reconciliationReport(db, {
      from: hour,
      to: new Date(hour.getTime() + HOUR),
      orgId: t.orgId,
    });
    expect(report.meter.map((m) => [m.model, m.status])).toEqual([
      ["a", "failed"],
      ["b", "ok"],
    ]);
    expect(report.totals.problems).toBe(1);
  });
});
