import { newId } from "@portal/contracts";
import { billingLedger, eq, rowsOf, sql, stripeOutbox } from "@portal/db";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import { ledgerBalance, ledgerSeed } from "../balance/ledger.js";
import { persistUsageBatch, type QueuedUsage } from "../usage/persist.js";
import { hourStart, rollupUsage } from "./rollup.js";

// The hourly usage rollup and the ledger invariants, on real Postgres (DATABASE_URL) or PGlite.

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({ redis: false });
});
afterAll(async () => {
  await gw.close();
});

const HOUR = 3_600_000;

function usage(
  t: { orgId: string; keyId: string },
  at: Date,
  opts: { charge?: bigint; cost?: bigint; mode?: "prepaid" | "postpaid" | "free"; model?: string },
): QueuedUsage {
  const mode = opts.mode ?? "prepaid";
  const cost = opts.cost ?? opts.charge ?? 0n;
  return {
    event: {
      requestId: newId("req"),
      orgId: t.orgId,
      apiKeyId: t.keyId,
      modelAlias: opts.model ?? "m",
      routerPool: "p",
      route: "/v1/completions",
      status: "ok",
      promptTokens: 1,
      completionTokens: 1,
      costMicros: cost,
      latencyMs: 1,
      upstreamMs: 1,
      billingMode: mode,
      createdAt: at,
    },
    chargeMicros: mode === "prepaid" ? cost : 0n,
  };
}

async function ledgerRows(orgId: string) {
  return gw.dbHandle.db.select().from(billingLedger).where(eq(billingLedger.orgId, orgId));
}

describe("hourly usage rollup", () => {
  it("charges each closed (org, hour) once, keeps the balance exact before and after", async () => {
    const db = gw.dbHandle.db;
    const t = await createTenant(gw, { plan: "prepaid" });
    await gw.services.balance.credit({
      orgId: t.orgId,
      kind: "grant",
      amountMicros: 1_000n,
      reference: `g:${newId("led")}`,
    });
    const h0 = hourStart(new Date(Date.now() - 3 * HOUR));
    const h1 = new Date(h0.getTime() + HOUR);
    await persistUsageBatch(db, [
      usage(t, new Date(h0.getTime() + 1_000), { charge: 10n }),
      usage(t, new Date(h0.getTime() + 2_000), { charge: 15n }),
      usage(t, new Date(h1.getTime() + 5), { charge: 7n }),
    ]);
    // Nothing rolled up yet: the ledger holds only the grant, the balance already counts usage.
    expect(await ledgerBalance(db, t.orgId)).toBe(1_000n - 32n);
    expect((await ledgerRows(t.orgId)).filter((r) => r.kind === "usage_charge")).toEqual([]);

    const before = hourStart(new Date());
    await rollupUsage(db, { before });
    await rollupUsage(db, { before }); // a re-run (another instance, a restart) adds nothing
    const charges = (await ledgerRows(t.orgId))
      .filter((r) => r.kind === "usage_charge")
      .sort((a, b) => a.reference.localeCompare(b.reference));
    expect(charges.map((c) => [c.reference, c.amountMicros])).toEqual([
      [`usage:${t.orgId}:${h0.toISOString()}`, -25n],
      [`usage:${t.orgId}:${h1.toISOString()}`, -7n],
    ]);
    expect(await ledgerBalance(db, t.orgId)).toBe(968n);

    // A late event for an already rolled hour becomes a delta entry, once.
    await persistUsageBatch(db, [usage(t, new Date(h0.getTime() + 3_000), { charge: 4n })]);
    expect(await ledgerBalance(db, t.orgId)).toBe(964n);
    await rollupUsage(db, { before });
    await rollupUsage(db, { before });
    const late = (await ledgerRows(t.orgId)).filter(
      (r) => r.reference === `usage:${t.orgId}:${h0.toISOString()}#2`,
    );
    expect(late.map((r) => r.amountMicros)).toEqual([-4n]);
    const [sum] = rowsOf<{ s: string }>(
      await db.execute(
        sql`SELECT sum(amount_micros)::text AS s FROM billing_ledger WHERE org_id = ${t.orgId}`,
      ),
    );
    expect(BigInt(sum?.s ?? "0")).toBe(964n);
  });

  it("leaves the open hour alone and runs safely in parallel", async () => {
    const db = gw.dbHandle.db;
    const t = await createTenant(gw, { plan: "prepaid" });
    const now = new Date();
    const closed = new Date(hourStart(now).getTime() - 10);
    await persistUsageBatch(
      db,
      Array.from({ length: 50 }, (_, i) =>
        usage(t, new Date(closed.getTime() - i), { charge: 3n }),
      ),
    );
    await persistUsageBatch(db, [usage(t, now, { charge: 2n })]);
    const before = hourStart(now);
    await Promise.all([rollupUsage(db, { before }), rollupUsage(db, { before })]);
    const charges = (await ledgerRows(t.orgId)).filter((r) => r.kind === "usage_charge");
    expect(charges.reduce((s, r) => s + r.amountMicros, 0n)).toBe(-150n);
    expect((await ledgerSeed(db, t.orgId)).spent).toBe(152n);
  });

  it("turns postpaid usage into one outbox row per (org, model, hour), deltas for late rows", async () => {
    const db = gw.dbHandle.db;
    const t = await createTenant(gw, { plan: "postpaid" });
    const h = hourStart(new Date(Date.now() - 2 * HOUR));
    await persistUsageBatch(db, [
      usage(t, new Date(h.getTime() + 1), { cost: 100n, mode: "postpaid", model: "a" }),
      usage(t, new Date(h.getTime() + 2), { cost: 50n, mode: "postpaid", model: "a" }),
      usage(t, new Date(h.getTime() + 3), { cost: 9n, mode: "postpaid", model: "b" }),
      usage(t, new Date(h.getTime() + 4), { cost: 0n, mode: "postpaid", model: "b" }),
      usage(t, new Date(h.getTime() + 5), { cost: 70n, mode: "free", model: "a" }),
    ]);
    const before = hourStart(new Date());
    await rollupUsage(db, { before });
    await persistUsageBatch(db, [
      usage(t, new Date(h.getTime() + 6), { cost: 5n, mode: "postpaid", model: "a" }),
    ]);
    await rollupUsage(db, { before });
    await rollupUsage(db, { before });
    const rows = await db.select().from(stripeOutbox).where(eq(stripeOutbox.orgId, t.orgId));
    expect(
      rows
        .map((r) => [r.modelAlias, r.seq, r.valueMicros, r.status])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1])),
    ).toEqual([
      ["a", 0, 150n, "pending"],
      ["a", 1, 5n, "pending"],
      ["b", 0, 9n, "pending"],
    ]);
    expect(new Set(rows.map((r) => r.identifier)).size).toBe(3);
    // Postpaid usage never touches the prepaid ledger.
    expect(await ledgerRows(t.orgId)).toEqual([]);
  });
});

type Op =
  | { kind: "usage"; charge: number; hoursAgo: number }
  | { kind: "purchase"; amount: number; ref: number }
  | { kind: "refund"; amount: number; ref: number }
  | { kind: "rollup" };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("usage" as const),
    charge: fc.integer({ min: 1, max: 5_000 }),
    hoursAgo: fc.integer({ min: 0, max: 4 }),
  }),
  fc.record({
    kind: fc.constant("purchase" as const),
    amount: fc.integer({ min: 1, max: 100_000 }),
    ref: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({
    kind: fc.constant("refund" as const),
    amount: fc.integer({ min: 1, max: 50_000 }),
    ref: fc.integer({ min: 0, max: 5 }),
  }),
  fc.constant({ kind: "rollup" as const }),
);

describe("ledger properties", () => {
  it("any interleaving of usage, purchases, refunds and rollups keeps balance = sum of entries", async () => {
    const db = gw.dbHandle.db;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const t = await createTenant(gw, { plan: "prepaid" });
        const now = Date.now();
        let expected = 0n;
        let charged = 0n;
        for (const o of ops) {
          if (o.kind === "usage") {
            const at = new Date(now - o.hoursAgo * HOUR);
            const item = usage(t, at, { charge: BigInt(o.charge) });
            // Written twice (a replayed batch): must count once.
            await persistUsageBatch(db, [item]);
            await persistUsageBatch(db, [item]);
            expected -= BigInt(o.charge);
            charged += BigInt(o.charge);
          } else if (o.kind === "purchase" || o.kind === "refund") {
            const amount = BigInt(o.kind === "purchase" ? o.amount : -o.amount);
            // Same reference twice (a redelivered webhook) is one entry.
            const reference = `${o.kind}:${t.orgId}:${o.ref}`;
            const first = await gw.services.balance.credit({
              orgId: t.orgId,
              kind: o.kind === "purchase" ? "credit_purchase" : "refund",
              amountMicros: amount,
              reference,
            });
            await gw.services.balance.credit({
              orgId: t.orgId,
              kind: o.kind === "purchase" ? "credit_purchase" : "refund",
              amountMicros: amount,
              reference,
            });
            if (first) expected += amount;
          } else {
            await rollupUsage(db, { before: hourStart(new Date(now)) });
          }
          expect(await ledgerBalance(db, t.orgId)).toBe(expected);
          const snap = await gw.services.balance.snapshot(t.orgId);
          // The mirror was seeded once and then only moved by credits: its credits match.
          expect(snap.credits).toBe((await ledgerSeed(db, t.orgId)).credits);
        }
        // Close every hour: afterwards the ledger alone is the balance, each charge booked once.
        await rollupUsage(db, { before: new Date(now + HOUR) });
        const [row] = rowsOf<{ total: string; usage: string }>(
          await db.execute(sql`
            SELECT coalesce(sum(amount_micros), 0)::text AS total,
              coalesce(sum(amount_micros) FILTER (WHERE kind = 'usage_charge'), 0)::text AS usage
            FROM billing_ledger WHERE org_id = ${t.orgId}`),
        );
        expect(BigInt(row?.total ?? "x")).toBe(expected);
        expect(-BigInt(row?.usage ?? "x")).toBe(charged);
        expect(await ledgerBalance(db, t.orgId)).toBe(expected);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
