import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { billingLedger, eq, usageEvents } from "@portal/db";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  postJson,
  readJson,
  type TestGateway,
} from "../testing/harness.js";
import { PrivateRedis } from "../testing/private-services.js";
import { usageItem } from "../testing/usage.js";
import { rollupUsage } from "./billing/rollup.js";
import { encodeUsage, persistUsageBatch } from "./usage/persist.js";
import { SpoolUsageSink } from "./usage/spool.js";

// The Redis failure policy against a private redis-server this test kills and restarts: limits
// fall back to local counters, balances to a local mirror, usage to the fsync'd spool; requests
// keep flowing; after recovery nothing is lost or counted twice.

let redis: PrivateRedis;
let gw: TestGateway;
let router: FixtureRouter;
let spoolDir: string;

beforeAll(async () => {
  redis = await PrivateRedis.start();
  spoolDir = mkdtempSync(path.join(tmpdir(), "portal-spool-test-"));
  gw = await createTestGateway({ redisUrl: redis.url, usageSpoolDir: spoolDir });
  router = await startFixtureRouter({ promptTokens: 1 });
}, 30_000);
afterAll(async () => {
  await gw?.close();
  await router?.close();
  await redis?.destroy();
  rmSync(spoolDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function complete(key: string, alias: string) {
  const res = await postJson(
    gw,
    "/v1/completions",
    { model: alias, prompt: "hi", max_tokens: 4 },
    key,
  );
  return { status: res.status, body: await readJson(res) };
}

async function rowsFor(orgId: string) {
  const db = gw.dbHandle.db;
  const events = await db.select().from(usageEvents).where(eq(usageEvents.orgId, orgId));
  const charges = await db.select().from(billingLedger).where(eq(billingLedger.orgId, orgId));
  return { events, charges: charges.filter((c) => c.kind === "usage_charge") };
}

describe("Redis failure policy", () => {
  it("keeps serving with Redis down (limits local, usage spooled), then recovers without loss or double counting", {
    timeout: 60_000,
  }, async () => {
    const t = await createTenant(gw, {
      plan: "prepaid",
      targets: [{ url: router.url }],
      planLimits: { maxConcurrentPerKey: 50 },
      key: { rpmLimit: 6 },
    });
    await fundOrg(gw, t.orgId, 10_000_000n);
    const served: string[] = [];

    const before = await complete(t.key, t.alias);
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    served.push(before.body.request_id);

    await redis.kill();
    // During the outage the per-key window (6/min) is enforced on this instance's own counters,
    // which start empty: 6 pass, the next are refused with the same rate_limited answer Redis
    // would give — never internal_error.
    const during = [];
    for (let i = 0; i < 8; i++) during.push(await complete(t.key, t.alias));
    const ok = during.filter((r) => r.status === 200);
    const limited = during.filter((r) => r.status === 429);
    expect(
      during.every((r) => r.status === 200 || r.status === 429),
      JSON.stringify(during.map((r) => r.body)),
    ).toBe(true);
    expect(ok).toHaveLength(6);
    expect(limited).toHaveLength(2);
    expect(limited[0]?.body).toMatchObject({
      status: "failed",
      error: { code: "rate_limited", details: { scope: "key_requests_per_minute" } },
    });
    served.push(...ok.map((r) => r.body.request_id));
    expect(gw.services.enforcement.breaker?.closed).toBe(false);

    // Spooled usage reaches Postgres without Redis (the spool drains on the flush interval).
    await gw.services.usage.flush();
    const mid = await rowsFor(t.orgId);
    expect(mid.events.map((e) => e.requestId).sort()).toEqual([...served].sort());

    await redis.up();
    const deadline = Date.now() + 10_000;
    while (!gw.services.enforcement.breaker?.closed && Date.now() < deadline) await sleep(50);
    expect(gw.services.enforcement.breaker?.closed).toBe(true);

    // Back on Redis: a new key window there (the outage's local counts are not copied over).
    const t2 = await createTenant(gw, { targets: [{ url: router.url }] });
    const after = await complete(t2.key, t2.alias);
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    const again = await complete(t.key, t.alias);
    expect([200, 429]).toContain(again.status);
    if (again.status === 200) served.push(again.body.request_id);

    await gw.services.usage.flush();
    const end = await rowsFor(t.orgId);
    expect(end.events.map((e) => e.requestId).sort()).toEqual([...served].sort());
    // Every served request is charged on its row once; the hourly rollup books exactly that.
    const rowCharges = end.events.reduce((sum, e) => sum + e.chargeMicros, 0n);
    expect(end.events.every((e) => e.chargeMicros > 0n)).toBe(true);
    await rollupUsage(gw.dbHandle.db, {
      before: new Date(Date.now() + 3_600_000),
      orgId: t.orgId,
    });
    const rolled = await rowsFor(t.orgId);
    const charged = rolled.charges.reduce((sum, c) => sum - c.amountMicros, 0n);
    expect(charged).toBe(rowCharges);
    expect(rolled.events.every((e) => e.billedEntryId !== null)).toBe(true);
    // The balance mirror in Redis includes what was charged locally during the outage.
    const snap = await gw.services.balance.snapshot(t.orgId);
    expect(snap.spent).toBe(charged);
    expect(snap.reserved).toBe(0n);

    const metrics = await gw.services.metrics.registry.getSingleMetricAsString(
      "portal_redis_fallbacks_total",
    );
    expect(metrics).toMatch(/portal_redis_fallbacks_total\{op="usage"\} [1-9]/);
  });

  it("replays segments a crashed process left behind, skipping a torn last line, exactly once", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "portal-spool-crash-"));
    try {
      const t = await createTenant(gw, { plan: "prepaid" });
      const item = () => usageItem(t, { charge: 5n });
      const a = item();
      const b = item();
      // A predecessor's open segment: two whole lines, one torn (never acknowledged) line.
      writeFileSync(
        path.join(dir, "1-999-1.open"),
        `${encodeUsage(a)}\n${encodeUsage(b)}\n${encodeUsage(item()).slice(0, 40)}`,
      );
      // And a sealed one repeating `a` (an entry both drained once and still on disk).
      writeFileSync(path.join(dir, "0-999-1.ndjson"), `${encodeUsage(a)}\n`);
      const spool = new SpoolUsageSink({
        dir,
        logger: pino({ level: "silent" }),
        persist: (items) => persistUsageBatch(gw.dbHandle.db, items),
        drainIntervalMs: 60_000,
      });
      await spool.flush();
      await spool.close();
      expect(readdirSync(dir)).toEqual([]);
      const rows = await rowsFor(t.orgId);
      expect(rows.events.map((e) => e.requestId).sort()).toEqual(
        [a.event.requestId, b.event.requestId].sort(),
      );
      // Each replayed event carries its charge once; the rollup books exactly their sum.
      expect(rows.events.map((e) => e.chargeMicros)).toEqual([5n, 5n]);
      await rollupUsage(gw.dbHandle.db, {
        before: new Date(Date.now() + 3_600_000),
        orgId: t.orgId,
      });
      const rolled = await rowsFor(t.orgId);
      expect(rolled.charges.reduce((sum, c) => sum + c.amountMicros, 0n)).toBe(-10n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
