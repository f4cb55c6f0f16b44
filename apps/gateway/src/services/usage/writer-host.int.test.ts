import { newId } from "@portal/contracts";
import { eq, sql, usageEvents } from "@portal/db";
import { testDatabaseUrl } from "@portal/db/testing";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  postJson,
  type TestGateway,
  type TestTenant,
} from "../../testing/harness.js";
import { testRedisUrl } from "../../testing/redis.js";
import { ThreadedUsageWriter } from "./writer-host.js";

// The writer thread needs Redis (the stream) and a real Postgres (a pool of its own).
const ready = Boolean(testRedisUrl() && testDatabaseUrl());

describe.skipIf(!ready)("usage writer in a worker thread", () => {
  let gw: TestGateway;
  let router: FixtureRouter;
  let t: TestTenant;
  beforeAll(async () => {
    gw = await createTestGateway({ usageWriterThread: true, usageClaimIdleMs: 300 });
    router = await startFixtureRouter({ promptTokens: 1 });
    t = await createTenant(gw, {
      plan: "prepaid",
      targets: [{ url: router.url }],
      planLimits: { maxConcurrentPerKey: 100 },
    });
    await fundOrg(gw, t.orgId, 1_000_000n);
  });
  afterAll(async () => {
    await gw?.close();
    await router?.close();
  });

  const serve = async (n: number) => {
    const res = await Promise.all(
      Array.from({ length: n }, () =>
        postJson(gw, "/v1/completions", { model: t.alias, prompt: "hello", max_tokens: 4 }, t.key),
      ),
    );
    expect(res.map((r) => r.status)).toEqual(Array(n).fill(200));
  };
  const rows = async () => {
    const [r] = await gw.dbHandle.db
      .select({ n: sql<number>`count(*)::int`, ids: sql<number>`count(distinct request_id)::int` })
      .from(usageEvents)
      .where(eq(usageEvents.orgId, t.orgId));
    return r;
  };

  it("writes every served request's usage from the thread, once", async () => {
    await serve(25);
    await expect.poll(rows, { timeout: 10_000 }).toEqual({ n: 25, ids: 25 });
    expect(await gw.services.usage.depth()).toBe(0);
  });

  it("a thread that dies is restarted, and what it held is reclaimed without duplicates", async () => {
    const writer = gw.services.enforcement.usageWriter as ThreadedUsageWriter;
    await writer.crash();
    await serve(25);
    await expect.poll(rows, { timeout: 15_000 }).toEqual({ n: 50, ids: 50 });
    await expect.poll(() => gw.services.usage.depth(), { timeout: 5_000 }).toBe(0);
  });

  it("close() lets the thread finish and stop", async () => {
    await serve(5);
    await gw.services.usage.flush();
    const writer = gw.services.enforcement.usageWriter as ThreadedUsageWriter;
    await writer.close();
    expect(await rows()).toEqual({ n: 55, ids: 55 });
  });

  it("a thread that cannot start ends, and its start is refused with the reason", async () => {
    const redis = gw.services.enforcement.redis;
    if (!redis) throw new Error("this test needs Redis");
    // A plain string where the stream should be: XGROUP CREATE fails with WRONGTYPE.
    const stream = `usage:{broken-${newId("req").slice(4)}}`;
    await redis.set(stream, "not a stream");
    const writer = new ThreadedUsageWriter(
      {
        redisUrl: testRedisUrl() as string,
        databaseUrl: testDatabaseUrl() as string,
        stream,
        claimIdleMs: undefined,
        logLevel: "silent",
      },
      pino({ level: "silent" }),
    );
    try {
      await expect(writer.start()).rejects.toThrow(/WRONGTYPE|exited with 1/);
      // It does not linger as an idle thread (the host retries it a second later).
      await expect.poll(() => writer.alive, { timeout: 900, interval: 20 }).toBe(false);
    } finally {
      await writer.close();
      await redis.del(stream);
    }
  });
});
