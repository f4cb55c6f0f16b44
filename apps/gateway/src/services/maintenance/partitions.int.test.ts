import { newId } from "@portal/contracts";
import {
  billingLedger,
  eq,
  listPartitions,
  partitionName,
  requestLogs,
  rowsOf,
  sql,
  usageDaily,
  usageEvents,
} from "@portal/db";
import { testDatabaseUrl } from "@portal/db/testing";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import { rollupUsage } from "../billing/rollup.js";
import { decodeUsage, encodeUsage, persistUsageBatch, type QueuedUsage } from "../usage/persist.js";
import { insertRequestLogs } from "../usage/request-log-writer.js";
import { PartitionJob } from "./partition-job.js";

// Time partitioning of usage_events (monthly) and request_logs (daily) on whichever database the
// run has: real Postgres with DATABASE_URL (CI), PGlite (the `npm start` default) otherwise.

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({ redis: false });
});
afterAll(async () => {
  await gw.close();
});

const DAY = 86_400_000;
const silent = pino({ level: "silent" });

function usageItem(orgId: string, keyId: string, createdAt: Date, charge = 5n): QueuedUsage {
  return {
    event: {
      requestId: newId("req"),
      orgId,
      apiKeyId: keyId,
      modelAlias: "m",
      routerPool: "p",
      route: "/v1/completions",
      status: "ok",
      promptTokens: 2,
      completionTokens: 3,
      costMicros: charge,
      latencyMs: 9,
      upstreamMs: 7,
      createdAt,
    },
    chargeMicros: charge,
  };
}

function logRow(createdAt: Date) {
  return {
    requestId: newId("req"),
    method: "POST",
    route: "/v1/completions",
    httpStatus: 200,
    latencyMs: 3,
    createdAt,
  };
}

describe("time-partitioned usage tables", () => {
  it("are range-partitioned on created_at, with this period's partitions ready after migrating", async () => {
    const db = gw.dbHandle.db;
    const parents = rowsOf<{ name: string; strategy: string }>(
      await db.execute(sql`
        SELECT c.relname AS name, p.partstrat AS strategy FROM pg_partitioned_table p
        JOIN pg_class c ON c.oid = p.partrelid
        WHERE c.relname IN ('usage_events', 'request_logs') ORDER BY c.relname`),
    );
    expect(parents).toEqual([
      { name: "request_logs", strategy: "r" },
      { name: "usage_events", strategy: "r" },
    ]);
    const now = new Date();
    const usage = (await listPartitions(db, "usage_events")).map((p) => p.name);
    const logs = (await listPartitions(db, "request_logs")).map((p) => p.name);
    expect(usage).toContain(partitionName("usage_events", now));
    expect(logs).toContain(partitionName("request_logs", now));
    expect(logs).toContain(partitionName("request_logs", new Date(now.getTime() + 7 * DAY)));
  });

  it("deduplicates a batch retried whole, in part and through the stream encoding: one row, one charge, daily counted once", async () => {
    const t = await createTenant(gw);
    const db = gw.dbHandle.db;
    const now = new Date();
    const batch = [1, 2, 3].map((i) => usageItem(t.orgId, t.keyId, now, BigInt(i)));
    expect(await persistUsageBatch(db, batch)).toBe(3);
    // The writer crashed after commit: the same batch again, then a batch overlapping it.
    expect(await persistUsageBatch(db, batch)).toBe(0);
    const fresh = usageItem(t.orgId, t.keyId, now, 10n);
    const overlapping = [batch[1], fresh, batch[2]].filter((i): i is QueuedUsage => !!i);
    expect(await persistUsageBatch(db, overlapping)).toBe(1);
    // The same event as the stream / spool carries it (encoded, decoded), and twice in one batch.
    const replayed = batch.map((i) => decodeUsage(encodeUsage(i)));
    expect(await persistUsageBatch(db, [...replayed, ...replayed])).toBe(0);

    const events = await db.select().from(usageEvents).where(eq(usageEvents.orgId, t.orgId));
    expect(events.map((e) => e.requestId).sort()).toEqual(
      [...batch, fresh].map((i) => i.event.requestId).sort(),
    );
    // One charge per event, on its row; the hourly rollup books their sum once.
    expect(events.map((e) => Number(e.chargeMicros)).sort((a, b) => a - b)).toEqual([1, 2, 3, 10]);
    await rollupUsage(db, { before: new Date(now.getTime() + 3_600_000), orgId: t.orgId });
    await rollupUsage(db, { before: new Date(now.getTime() + 3_600_000), orgId: t.orgId });
    const charges = await db.select().from(billingLedger).where(eq(billingLedger.orgId, t.orgId));
    expect(charges.map((c) => Number(c.amountMicros))).toEqual([-16]);
    const [daily] = await db.select().from(usageDaily).where(eq(usageDaily.orgId, t.orgId));
    expect(daily).toMatchObject({ requests: 4, promptTokens: 8, completionTokens: 12 });
    expect(daily?.costMicros).toBe(16n);
  });

  it("creates a missing partition on demand, so an event from any month is written, not stuck", async () => {
    const t = await createTenant(gw);
    const db = gw.dbHandle.db;
    const old = new Date(Date.UTC(2019, 2, 14, 12));
    const item = usageItem(t.orgId, t.keyId, old, 0n);
    expect(await persistUsageBatch(db, [item])).toBe(1);
    const holder = rowsOf<{ part: string }>(
      await db.execute(sql`
        SELECT tableoid::regclass::text AS part FROM usage_events
        WHERE request_id = ${item.event.requestId}`),
    );
    expect(holder).toEqual([{ part: "usage_events_p201903" }]);
    // Queries through the drizzle schema see the parent table as before.
    const [row] = await db
      .select()
      .from(usageEvents)
      .where(eq(usageEvents.requestId, item.event.requestId));
    expect(row?.createdAt.toISOString()).toBe(old.toISOString());
  });

  it("the job keeps partitions ahead and drops request_logs days past the retention", async () => {
    const db = gw.dbHandle.db;
    // A fixed clock far from today, so this test owns the days it looks at.
    const now = new Date(Date.UTC(2031, 5, 20, 15));
    const expired = logRow(new Date(now.getTime() - 20 * DAY));
    const kept = logRow(new Date(now.getTime() - 3 * DAY));
    await insertRequestLogs(db, [expired, kept]);
    await insertRequestLogs(db, [expired]); // a retried batch is a no-op

    const job = new PartitionJob({ db, logger: silent, requestLogRetentionDays: 14 });
    const result = await job.runOnce(now);
    expect(result.ran).toBe(true);
    expect(result.ensured).toEqual(
      expect.arrayContaining([
        "usage_events_p203106",
        "usage_events_p203109",
        "request_logs_p20310620",
        "request_logs_p20310627",
      ]),
    );
    expect(result.dropped).toContain(partitionName("request_logs", expired.createdAt));
    expect(result.dropped).not.toContain(partitionName("request_logs", kept.createdAt));
    // Every dropped day lies entirely before today − 14 days.
    const cutoff = Date.UTC(2031, 5, 6);
    for (const name of result.dropped) {
      const m = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
      expect(Date.UTC(Number(m?.[1]), Number(m?.[2]) - 1, Number(m?.[3]))).toBeLessThan(cutoff);
    }

    const left = await db
      .select({ id: requestLogs.requestId })
      .from(requestLogs)
      .where(sql`${requestLogs.requestId} IN (${expired.requestId}, ${kept.requestId})`);
    expect(left).toEqual([{ id: kept.requestId }]);

    // A late row for the dropped day recreates it instead of failing the writer.
    await insertRequestLogs(db, [logRow(expired.createdAt)]);
    expect((await listPartitions(db, "request_logs")).map((p) => p.name)).toContain(
      partitionName("request_logs", expired.createdAt),
    );
    // The next run is idempotent and drops the recreated day again.
    const again = await job.runOnce(now);
    expect(again.dropped).toEqual([partitionName("request_logs", expired.createdAt)]);
  });

  // PGlite has one connection: a second holder of the lock cannot exist there.
  it.skipIf(!testDatabaseUrl())(
    "runs on one instance at a time: another holder of the lock makes it skip",
    async () => {
      const db = gw.dbHandle.db;
      const job = new PartitionJob({ db, logger: silent, requestLogRetentionDays: 14 });
      let release: () => void = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      let locked: () => void = () => {};
      const isLocked = new Promise<void>((r) => {
        locked = r;
      });
      const holder = db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${727_002_2026})`);
        locked();
        await held;
      });
      await isLocked;
      try {
        expect(await job.runOnce()).toEqual({ ran: false, ensured: [], dropped: [] });
      } finally {
        release();
        await holder;
      }
      expect((await job.runOnce()).ran).toBe(true);
    },
  );
});
