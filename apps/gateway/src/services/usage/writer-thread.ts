// Worker-thread entry of the usage stream writer (see writer-host.ts): its own event loop, Redis
// connection and Postgres pool, so decoding and inserting usage batches never runs on the thread
// that serves requests.
import { parentPort, workerData } from "node:worker_threads";
import { openDb } from "@portal/db";
import { Redis } from "ioredis";
import pino from "pino";
import { persistUsageBatch } from "./persist.js";
import { StreamUsageWriter } from "./stream-writer.js";
import type { WriterThreadData, WriterThreadMessage } from "./writer-host.js";

const data = workerData as WriterThreadData;
const port = parentPort;
if (!port) throw new Error("writer-thread.ts runs as a worker thread only");
const logger = pino({ level: data.logLevel, base: { service: "gateway", thread: "usage-writer" } });
const post = (m: WriterThreadMessage) => port.postMessage(m);

const dbHandle = await openDb({ url: data.databaseUrl, poolSize: 4 });
const redis = new Redis(data.redisUrl, { connectionName: "portal-gateway-usage-writer" });
redis.on("error", (err) => logger.debug({ err }, "redis connection error"));
const writer = new StreamUsageWriter({
  redis,
  logger,
  persist: (items) => persistUsageBatch(dbHandle.db, items),
  stream: data.stream,
  claimIdleMs: data.claimIdleMs,
});

port.on("message", (m: WriterThreadMessage) => {
  if (m.type !== "close") return;
  void (async () => {
    await writer.close();
    await dbHandle.close();
    post({ type: "closed" });
    port.close();
  })();
});

try {
  await writer.start();
  post({ type: "started" });
} catch (err) {
  // End the thread: the host rejects its start, or (a restart) tries again in a second. An idle
  // thread kept alive by its port would leave this instance without a writer.
  logger.error({ err }, "usage writer thread could not start");
  post({ type: "failed", message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
