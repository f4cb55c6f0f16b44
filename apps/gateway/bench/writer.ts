// The usage writer's throughput: a backlog of events in a Redis Stream, drained into Postgres.
import { newId } from "@portal/contracts";
import { eq, openDb, sql, usageEvents } from "@portal/db";
import { Redis } from "ioredis";
import pino from "pino";
import type { QueuedUsage } from "../src/services/usage/persist.js";
import { encodeUsage, persistUsageBatch } from "../src/services/usage/persist.js";
import { StreamUsageSink } from "../src/services/usage/stream-sink.js";
import { StreamUsageWriter } from "../src/services/usage/stream-writer.js";

/** Events per second from XADD backlog to committed rows (null without Redis). */
export async function writerThroughput(events: number): Promise<number | null> {
  if (!process.env.REDIS_URL) return null;
  const db = await openDb({ url: process.env.DATABASE_URL, dataDir: "memory://" });
  await db.migrate();
  const redis = new Redis(process.env.REDIS_URL);
  const stream = `usage:{bench-writer-${process.pid}}`;
  const sink = new StreamUsageSink(redis, stream);
  const org = newId("org");
  const pipe = redis.pipeline();
  for (let i = 0; i < events; i++) {
    const item: QueuedUsage = {
      event: {
        requestId: newId("req"),
        orgId: org,
        apiKeyId: `key_${i % 50}`,
        modelAlias: "bench",
        routerPool: "bench",
        routerTargetId: null,
        route: "/v1/completions",
        status: "ok",
        errorCode: null,
        promptTokens: 8,
        completionTokens: 16,
        costMicros: 40n,
        latencyMs: 3,
        upstreamMs: 1,
        stream: false,
        createdAt: new Date(),
      },
      chargeMicros: 0n,
    };
    pipe.xadd(stream, "*", "e", encodeUsage(item));
  }
  await pipe.exec();
  const writer = new StreamUsageWriter({
    redis: new Redis(process.env.REDIS_URL),
    logger: pino({ level: "warn" }),
    persist: (items) => persistUsageBatch(db.db, items),
    stream,
    batchSize: 1000,
    blockMs: 50,
  });
  const started = performance.now();
  await writer.start();
  await sink.flush(120_000);
  const seconds = (performance.now() - started) / 1000;
  await writer.close();
  await redis.del(stream);
  await db.db.delete(usageEvents).where(eq(usageEvents.orgId, org));
  await db.db.execute(sql`DELETE FROM usage_daily WHERE org_id = ${org}`);
  await redis.quit();
  await db.close();
  return events / seconds;
}
