import { newId } from "@portal/contracts";
import { billingLedger, eq, sql, usageDaily, usageEvents } from "@portal/db";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  postJson,
  readJson,
  type TestGateway,
} from "../../testing/harness.js";
import { openTestRedis, testRedisUrl } from "../../testing/redis.js";
import { usageItem } from "../../testing/usage.js";
import { rollupUsage } from "../billing/rollup.js";
import { encodeUsage, persistUsageBatch, type QueuedUsage } from "./persist.js";
import { StreamUsageWriter } from "./stream-writer.js";

const url = testRedisUrl();

/** A backlog of `n` charged usage entries for tenant `t` in a fresh stream. */
async function backlogOf(
  redis: NonNullable<TestGateway["services"]["enforcement"]["redis"]>,
  t: { orgId: string; keyId: string },
  n: number,
  charge: bigint,
) {
  const stream = `usage:{backlog-${newId("req").slice(4)}}`;
  const items = Array.from({ length: n }, () => usageItem(t, { charge }));
  const pipe = redis.pipeline();
  for (const i of items) pipe.xadd(stream, "*", "e", encodeUsage(i));
  await pipe.exec();
  return { stream, items };
}

/** Exactly one usage row per item, and the org's daily rollup counts each once. */
async function expectEachOnce(gw: TestGateway, orgId: string, items: QueuedUsage[]) {
  const db = gw.dbHandle.db;
  const rows = await db
    .select({ requestId: usageEvents.requestId })
    .from(usageEvents)
    .where(eq(usageEvents.orgId, orgId));
  expect(rows.map((r) => r.requestId).sort()).toEqual(items.map((i) => i.event.requestId).sort());
  const [daily] = await db.select().from(usageDaily).where(eq(usageDaily.orgId, orgId));
  expect(daily?.requests).toBe(items.length);
  expect(daily?.costMicros).toBe(items.reduce((sum, i) => sum + i.chargeMicros, 0n));
}

describe.skipIf(!url)("usage stream writer (Redis Stream → Postgres)", () => {
  let gw: TestGateway;
  let router: FixtureRouter;
  const stream = `usage:{crash-${newId("req").slice(4)}}`;
  beforeAll(async () => {
    // No writer in the gateway: the test runs (and kills) writers itself.
    gw = await createTestGateway({ usageStream: stream, usageWriter: false });
    router = await startFixtureRouter({ promptTokens: 1 });
  });
  afterAll(async () => {
    await gw.services.enforcement.redis?.del(stream);
    await gw.close();
    await router.close();
  });

  it("killed mid-batch and replaced: exactly one usage row per served request", async () => {
    const t = await createTenant(gw, {
      plan: "prepaid",
      targets: [{ url: router.url }],
      planLimits: { maxConcurrentPerKey: 100 },
    });
    await fundOrg(gw, t.orgId, 1_000_000n);
    const N = 30;
    const responses = await Promise.all(
      Array.from({ length: N }, () =>
        postJson(gw, "/v1/completions", { model: t.alias, prompt: "hello", max_tokens: 4 }, t.key),
      ),
    );
    const served = (await Promise.all(responses.map(readJson))).map((b) => b.request_id);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    // Appended before each response was sent.
    expect(await gw.services.usage.depth()).toBe(N);

    const db = gw.dbHandle.db;
    const logger = pino({ level: "silent" });
    // Writer A commits part of its batch, then dies before acknowledging anything.
    const a: StreamUsageWriter = new StreamUsageWriter({
      redis: openTestRedis(url as string),
      logger,
      stream,
      batchSize: 100,
      claimIdleMs: 200,
      persist: async (items: QueuedUsage[]) => {
        await persistUsageBatch(db, items.slice(0, 7));
        a.kill();
        throw new Error("killed mid-batch");
      },
    });
    await a.start();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(usageEvents)
        .where(eq(usageEvents.orgId, t.orgId));
      if (row?.n === 7) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const pending = (await gw.services.enforcement.redis?.xpending(stream, "usage-writers")) as [
      number,
      ...unknown[],
    ];
    expect(pending[0]).toBe(N); // all read by A, none acknowledged

    // Writer B (a restarted instance) reclaims A's entries once they are idle long enough.
    const b = new StreamUsageWriter({
      redis: openTestRedis(url as string),
      logger,
      stream,
      claimIdleMs: 200,
      claimEveryMs: 100,
      blockMs: 100,
      persist: (items) => persistUsageBatch(db, items),
    });
    await b.start();
    try {
      await gw.services.usage.flush();
    } finally {
      await b.close();
    }

    const rows = await db
      .select({ requestId: usageEvents.requestId })
      .from(usageEvents)
      .where(eq(usageEvents.orgId, t.orgId));
    expect(rows.map((r) => r.requestId).sort()).toEqual([...served].sort());
    // Rollups and charges count each request once, though 7 were offered twice.
    const [daily] = await db.select().from(usageDaily).where(eq(usageDaily.orgId, t.orgId));
    expect(daily?.requests).toBe(N);
    // Charges: each event's charge once on its row, then once in the hourly rollup entries.
    const [unrolled] = await db
      .select({ n: sql<number>`count(*)::int`, sum: sql<string>`sum(charge_micros)::text` })
      .from(usageEvents)
      .where(sql`${usageEvents.orgId} = ${t.orgId} and ${usageEvents.chargeMicros} > 0`);
    expect(unrolled?.n).toBe(N);
    await rollupUsage(db, { before: new Date(Date.now() + 3_600_000), orgId: t.orgId });
    const [charges] = await db
      .select({ sum: sql<string>`sum(-amount_micros)::text` })
      .from(billingLedger)
      .where(sql`${billingLedger.orgId} = ${t.orgId} and ${billingLedger.kind} = 'usage_charge'`);
    expect(charges?.sum).toBe(unrolled?.sum);
  });

  it("a poison entry goes to the dead-letter stream and does not hold the good ones back", async () => {
    const t = await createTenant(gw, { plan: "prepaid", targets: [{ url: router.url }] });
    const db = gw.dbHandle.db;
    const redis = gw.services.enforcement.redis;
    if (!redis) throw new Error("this test needs Redis");
    const poisonStream = `usage:{poison-${newId("req").slice(4)}}`;
    const item = (orgId: string): QueuedUsage => ({
      event: {
        requestId: newId("req"),
        orgId,
        apiKeyId: t.keyId,
        modelAlias: t.alias,
        routerPool: t.poolName,
        routerTargetId: null,
        route: "/v1/completions",
        status: "ok",
        errorCode: null,
        promptTokens: 3,
        completionTokens: 4,
        costMicros: 11n,
        latencyMs: 5,
        upstreamMs: 4,
        stream: false,
        createdAt: new Date(),
      },
      chargeMicros: 11n,
    });
    // A status outside the usage_status enum is a data exception (SQLSTATE 22P02): it can never
    // be written, however often it is retried.
    const good = [item(t.orgId), item(t.orgId)];
    const bad = item(t.orgId);
    const poison: QueuedUsage = {
      ...bad,
      event: { ...bad.event, status: "exploded" as unknown as QueuedUsage["event"]["status"] },
    };
    for (const i of [good[0], poison, good[1]]) {
      if (i) await redis.xadd(poisonStream, "*", "e", encodeUsage(i));
    }
    const writer = new StreamUsageWriter({
      redis: openTestRedis(url as string),
      logger: pino({ level: "silent" }),
      stream: poisonStream,
      blockMs: 50,
      persist: (items) => persistUsageBatch(db, items),
    });
    await writer.start();
    try {
      await expect.poll(async () => redis.xlen(writer.deadLetter), { timeout: 5_000 }).toBe(1);
      await expect.poll(async () => redis.xlen(poisonStream), { timeout: 5_000 }).toBe(0);
    } finally {
      await writer.close();
    }
    const rows = await db
      .select({ requestId: usageEvents.requestId })
      .from(usageEvents)
      .where(eq(usageEvents.orgId, t.orgId));
    expect(rows.map((r) => r.requestId).sort()).toEqual(good.map((g) => g?.event.requestId).sort());
    const dead = (await redis.xrange(writer.deadLetter, "-", "+")) as Array<[string, string[]]>;
    const fields = dead[0]?.[1] ?? [];
    expect(JSON.parse(fields[1] ?? "{}").requestId).toBe(poison.event.requestId);
    expect(fields[2]).toBe("error");
    await redis.del(poisonStream, writer.deadLetter);
  });

  it("lingers after a short batch so the next is fuller; close() cuts the linger short", async () => {
    const redis = gw.services.enforcement.redis;
    if (!redis) throw new Error("this test needs Redis");
    const lingerStream = `usage:{linger-${newId("req").slice(4)}}`;
    const batches: number[] = [];
    const writer = new StreamUsageWriter({
      redis: openTestRedis(url as string),
      logger: pino({ level: "silent" }),
      stream: lingerStream,
      blockMs: 50,
      lingerMs: 3_000,
      persist: async (items) => {
        batches.push(items.length);
      },
    });
    await writer.start();
    const t = { orgId: newId("org"), keyId: newId("key") };
    try {
      await redis.xadd(lingerStream, "*", "e", encodeUsage(usageItem(t)));
      await expect.poll(() => batches.length, { timeout: 5_000 }).toBe(1);
      // Nine more, one at a time, while the writer lingers: they arrive as one batch.
      for (let i = 0; i < 9; i++)
        await redis.xadd(lingerStream, "*", "e", encodeUsage(usageItem(t)));
      await expect.poll(() => batches, { timeout: 5_000 }).toEqual([1, 9]);
    } finally {
      // The writer lingers (3 s) after that second short batch; closing does not wait it out.
      const closing = writer.close().then(() => "closed");
      const timeout = new Promise((r) => setTimeout(() => r("still lingering"), 2_000));
      expect(await Promise.race([closing, timeout])).toBe("closed");
      await redis.del(lingerStream);
    }
  });

  it("writes a backlog with two commits at a time at most, each entry exactly once", async () => {
    const redis = gw.services.enforcement.redis;
    if (!redis) throw new Error("this test needs Redis");
    const t = await createTenant(gw, { plan: "prepaid", targets: [{ url: router.url }] });
    const { stream: backlog, items } = await backlogOf(redis, t, 95, 2n);
    const db = gw.dbHandle.db;
    const sizes: number[] = [];
    let open = 0;
    let most = 0;
    const writer = new StreamUsageWriter({
      redis: openTestRedis(url as string),
      logger: pino({ level: "silent" }),
      stream: backlog,
      batchSize: 20,
      blockMs: 50,
      lingerMs: 0,
      persist: async (batch) => {
        open++;
        most = Math.max(most, open);
        try {
          // Slow enough that the next full batch is read and started meanwhile.
          await new Promise((r) => setTimeout(r, 40));
          await persistUsageBatch(db, batch);
          sizes.push(batch.length);
        } finally {
          open--;
        }
      },
    });
    await writer.start();
    try {
      await expect.poll(async () => redis.xlen(backlog), { timeout: 5_000 }).toBe(0);
    } finally {
      await writer.close();
      await redis.del(backlog);
    }
    expect(most).toBe(2);
    expect(sizes.sort((a, b) => a - b)).toEqual([15, 20, 20, 20, 20]);
    await expectEachOnce(gw, t.orgId, items);
  });

  it("killed with two batches committing: the replacement writes each entry once", async () => {
    const redis = gw.services.enforcement.redis;
    if (!redis) throw new Error("this test needs Redis");
    const t = await createTenant(gw, { plan: "prepaid", targets: [{ url: router.url }] });
    const { stream: backlog, items } = await backlogOf(redis, t, 50, 3n);
    const db = gw.dbHandle.db;
    const logger = pino({ level: "silent" });
    let commits = 0;
    const a: StreamUsageWriter = new StreamUsageWriter({
      redis: openTestRedis(url as string),
      logger,
      stream: backlog,
      batchSize: 10,
      claimIdleMs: 200,
      persist: async (batch) => {
        commits++;
        if (commits <= 2) return persistUsageBatch(db, batch);
        if (commits === 3) {
          // Commits, but dies before its acknowledgement (and before the 4th commits).
          await persistUsageBatch(db, batch);
          await expect.poll(() => commits).toBe(4);
          a.kill();
          throw new Error("killed after commit");
        }
        await new Promise(() => {}); // the 4th never finishes: the process is gone
      },
    });
    await a.start();
    await expect.poll(() => commits, { timeout: 5_000 }).toBe(4);
    const b = new StreamUsageWriter({
      redis: openTestRedis(url as string),
      logger,
      stream: backlog,
      batchSize: 10,
      claimIdleMs: 200,
      claimEveryMs: 100,
      blockMs: 100,
      persist: (batch) => persistUsageBatch(db, batch),
    });
    await b.start();
    try {
      await expect.poll(async () => redis.xlen(backlog), { timeout: 10_000 }).toBe(0);
    } finally {
      await b.close();
      await redis.del(backlog);
    }
    await expectEachOnce(gw, t.orgId, items);
  });
});
