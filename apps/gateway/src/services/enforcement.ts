import { tmpdir } from "node:os";
import path from "node:path";
import type { Database } from "@portal/db";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { BalanceService } from "./balance/balance-service.js";
import { FailoverBalanceStore } from "./balance/failover-store.js";
import { MemoryBalanceStore } from "./balance/memory-store.js";
import { RedisBalanceStore } from "./balance/redis-store.js";
import type { Catalog } from "./catalog.js";
import { FailoverGate } from "./gate/failover-gate.js";
import { RedisGate } from "./gate/redis-gate.js";
import { SequentialGate } from "./gate/sequential-gate.js";
import type { GateStore } from "./gate/types.js";
import { IdempotencyStore } from "./idempotency/store.js";
import { InvalidationBus } from "./invalidation-bus.js";
import type { KeyStore } from "./key-store.js";
import { FailoverLimiter } from "./limits/failover-limiter.js";
import { MemoryLimiter } from "./limits/memory-limiter.js";
import { recordedRequestsSince } from "./limits/period-seed.js";
import { RedisLimiter } from "./limits/redis-limiter.js";
import type { Limiter } from "./limits/types.js";
import { GatewayMetrics } from "./metrics/metrics.js";
import { RedisBreaker } from "./redis-breaker.js";
import { FailoverUsageSink } from "./usage/failover-sink.js";
import { KeyActivity } from "./usage/key-activity.js";
import { MemoryUsageSink } from "./usage/memory-sink.js";
import { persistUsageBatch } from "./usage/persist.js";
import type { UsageSink } from "./usage/sink.js";
import { SpoolUsageSink } from "./usage/spool.js";
import { StreamUsageSink } from "./usage/stream-sink.js";
import { StreamUsageWriter } from "./usage/stream-writer.js";
import { ThreadedUsageWriter, type UsageWriterHandle } from "./usage/writer-host.js";

/** Limits, balances, idempotency, durable usage, key activity, metrics, invalidation. */
export interface Enforcement {
  /** Shared command connection, or null when running without Redis. */
  redis: Redis | null;
  /** Circuit breaker in front of that connection (null without Redis). */
  breaker: RedisBreaker | null;
  limiter: Limiter;
  /** Limits and reservation of a prepaid request as one step (one Redis script with Redis). */
  gate: GateStore;
  balance: BalanceService;
  idempotency: IdempotencyStore;
  usage: UsageSink;
  /** The Redis usage writer of this instance (null without Redis or when disabled). */
  usageWriter: UsageWriterHandle | null;
  keyActivity: KeyActivity;
  metrics: GatewayMetrics;
  /** Resolves when subscriptions and the usage writer are up (rejects if Redis is unreachable). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface EnforcementOptions {
  db: Database;
  logger: Logger;
  keys: KeyStore;
  catalog: Catalog;
  redisUrl?: string | undefined;
  flushIntervalMs: number;
  /** Run a usage stream writer in this process (default true). */
  usageWriter?: boolean;
  /**
   * Run that writer in a worker thread with its own Postgres pool (needs a real Postgres URL;
   * `USAGE_WRITER=thread`). Off by default.
   */
  usageWriterThread?: { databaseUrl: string; logLevel: string } | undefined;
  keyActivityIntervalMs?: number;
  /** Reclaim usage entries idle this long (crashed writers); default 30 s. */
  usageClaimIdleMs?: number;
  defaultMetrics?: boolean;
  /** Redis Stream for usage (default `usage:{stream}`); tests isolate themselves with their own. */
  usageStream?: string | undefined;
  /** Local durable usage spool used while Redis is down (default: a fresh dir under the OS tmp). */
  usageSpoolDir?: string | undefined;
  /** A Redis command slower than this fails over to the local fallback (default 1000 ms). */
  redisCommandTimeoutMs?: number | undefined;
  /** After a Redis failure, stay on the fallbacks this long before probing again (default 1000). */
  redisBreakerCooldownMs?: number | undefined;
}

/** Resolve once the connection is ready (the first time), reject after `ms`. */
function connected(redis: Redis, ms = 10_000): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis not ready within ${ms} ms`)), ms);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Choose Redis-backed or in-process implementations, one interface each. */
export function buildEnforcement(opts: EnforcementOptions): Enforcement {
  const { db, logger } = opts;
  const keyActivity = new KeyActivity(db, logger, opts.keyActivityIntervalMs);
  const idempotency = new IdempotencyStore(db);
  const purge = setInterval(() => {
    idempotency.purgeExpired().catch((err) => logger.warn({ err }, "idempotency purge failed"));
  }, 3_600_000);
  purge.unref();

  if (!opts.redisUrl) {
    // The spool only when the data dir is known (main.ts): tests get the in-memory queue alone.
    const usage = new MemoryUsageSink(db, logger, opts.flushIntervalMs, {
      ...(opts.usageSpoolDir !== undefined && {
        spool: new SpoolUsageSink({
          dir: opts.usageSpoolDir,
          persist: (items) => persistUsageBatch(db, items),
          logger,
          drainIntervalMs: Math.max(opts.flushIntervalMs, 1_000),
        }),
      }),
    });
    const limiter = new MemoryLimiter({
      periodSeed: (orgId, startMs) => recordedRequestsSince(db, orgId, startMs),
    });
    const balanceStore = new MemoryBalanceStore();
    return {
      redis: null,
      breaker: null,
      limiter,
      gate: new SequentialGate(limiter, balanceStore),
      balance: new BalanceService(db, balanceStore, logger),
      idempotency,
      usage,
      usageWriter: null,
      keyActivity,
      metrics: new GatewayMetrics({
        catalog: opts.catalog,
        usageDepth: () => usage.depth(),
        defaultMetrics: opts.defaultMetrics,
      }),
      ready: Promise.resolve(),
      close: async () => {
        clearInterval(purge);
        await Promise.all([usage.close(), keyActivity.close()]);
      },
    };
  }

  const connect = (name: string) => {
    const conn = new Redis(opts.redisUrl as string, { connectionName: `portal-gateway-${name}` });
    // Reconnects are automatic; an unhandled 'error' event would only add noise (or crash).
    conn.on("error", (err) => logger.debug({ err, conn: name }, "redis connection error"));
    return conn;
  };
  // The hot-path connection fails fast instead of waiting out reconnects while Redis is away: the
  // breaker then serves limits, balances and usage locally (docs/operations.md, "Redis failure
  // policy"). Commands issued in the same tick share one write (auto-pipelining).
  const redis = new Redis(opts.redisUrl, {
    connectionName: "portal-gateway-cmd",
    enableAutoPipelining: true,
    commandTimeout: opts.redisCommandTimeoutMs ?? 1_000,
    maxRetriesPerRequest: 1,
  });
  redis.on("error", (err) => logger.debug({ err, conn: "cmd" }, "redis connection error"));
  let metrics: GatewayMetrics | undefined;
  const breaker = new RedisBreaker(redis, logger, {
    cooldownMs: opts.redisBreakerCooldownMs,
    onFallback: (op) => metrics?.redisFallbacks.inc({ op }),
  });
  const sub = connect("sub");
  // The local fallback (Redis unreachable) also starts weekly counters from the record.
  const limiter = new FailoverLimiter(
    new RedisLimiter(redis),
    breaker,
    new MemoryLimiter({
      periodSeed: (orgId, startMs) => recordedRequestsSince(db, orgId, startMs),
    }),
  );
  const balanceStore = new FailoverBalanceStore(new RedisBalanceStore(redis), breaker);
  const spool = new SpoolUsageSink({
    dir:
      opts.usageSpoolDir ??
      path.join(tmpdir(), "portal-usage-spool", `${process.pid}-${Date.now().toString(36)}`),
    persist: (items) => persistUsageBatch(db, items),
    logger,
    drainIntervalMs: opts.flushIntervalMs,
  });
  const usage = new FailoverUsageSink(new StreamUsageSink(redis, opts.usageStream), spool, breaker);
  const writer: UsageWriterHandle | null =
    opts.usageWriter === false
      ? null
      : opts.usageWriterThread
        ? new ThreadedUsageWriter(
            {
              redisUrl: opts.redisUrl,
              databaseUrl: opts.usageWriterThread.databaseUrl,
              stream: opts.usageStream,
              claimIdleMs: opts.usageClaimIdleMs,
              logLevel: opts.usageWriterThread.logLevel,
            },
            logger,
          )
        : new StreamUsageWriter({
            redis: connect("usage-writer"),
            logger,
            persist: (items) => persistUsageBatch(db, items),
            claimIdleMs: opts.usageClaimIdleMs,
            stream: opts.usageStream,
          });
  const bus = new InvalidationBus(redis, sub, opts.keys, opts.catalog, logger);
  const ready = Promise.all([bus.start(), writer?.start(), connected(redis)]).then(() => {});
  // Surface the failure through `ready`; never as an unhandled rejection.
  ready.catch(() => {});
  metrics = new GatewayMetrics({
    catalog: opts.catalog,
    usageDepth: () => usage.depth(),
    redisUp: () => (breaker.closed ? 1 : 0),
    defaultMetrics: opts.defaultMetrics,
  });
  return {
    redis,
    breaker,
    limiter,
    gate: new FailoverGate(
      new RedisGate(redis),
      new SequentialGate(limiter, balanceStore),
      balanceStore,
      breaker,
    ),
    balance: new BalanceService(db, balanceStore, logger),
    idempotency,
    usage,
    usageWriter: writer,
    keyActivity,
    metrics,
    ready,
    close: async () => {
      clearInterval(purge);
      breaker.stop();
      await keyActivity.close();
      await usage.close();
      await writer?.close();
      await bus.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
