import type { Database, DbHandle, NewRequestLog } from "@portal/db";
import type { Logger } from "pino";
import { buildPortalAuth, defaultPortalAuthOptions, type PortalAuthOptions } from "./auth/build.js";
import type { PortalAuth } from "./auth/portal-auth.js";
import { BillingJob } from "./billing/billing-job.js";
import type { PaymentsConfig } from "./billing/payments.js";
import { Catalog } from "./catalog.js";
import { buildEnforcement, type Enforcement } from "./enforcement.js";
import { KeyStore } from "./key-store.js";
import { createLifecycle, type Lifecycle } from "./lifecycle.js";
import { PartitionJob } from "./maintenance/partition-job.js";
import type { SecretBox } from "./secret-box.js";
import { RouterClient } from "./upstream/router-client.js";
import { TargetHealth, type TargetHealthOptions } from "./upstream/target-health.js";
import { TargetSelector } from "./upstream/target-selector.js";
import { BatchWriter } from "./usage/batch-writer.js";
import { insertRequestLogs } from "./usage/request-log-writer.js";

export interface GatewayConfig {
  version: string;
  maxBodyBytes: number;
  upstreamMarginMs: number;
  /** Built web app (apps/portal/dist) served at /portal and /admin; unset = not served. */
  portalWebDir?: string | undefined;
  /** Proxies in front of the gateway that append to X-Forwarded-For (client IP); 0 = none. */
  trustedProxyHops?: number | undefined;
  /** Bearer token for GET /metrics; unset = loopback only, and disabled in production. */
  metricsToken?: string | undefined;
  production?: boolean | undefined;
  /** SSE keep-alive comment cadence while a stream is quiet (default 5 s). */
  streamKeepAliveMs?: number | undefined;
  /**
   * Whether `POST /portal/api/billing/checkout` can sell credits (payments configured). The
   * billing page offers "Buy credits" only then; set by whatever wires the payment provider.
   */
  creditPurchases?: boolean | undefined;
}

/** Everything handlers use, built once per process and passed to `createApp`. */
export interface Services {
  config: GatewayConfig;
  logger: Logger;
  db: Database;
  secrets: SecretBox;
  keys: KeyStore;
  catalog: Catalog;
  routers: RouterClient;
  selector: TargetSelector;
  /** Active + passive health of router targets (circuit breaker). */
  health: TargetHealth;
  /** Durable usage queue (Redis Stream, or the in-process batch queue without Redis). */
  usage: Enforcement["usage"];
  requestLogs: BatchWriter<NewRequestLog>;
  /** Limits, balances, idempotency, key activity, metrics (services/enforcement.ts). */
  limiter: Enforcement["limiter"];
  balance: Enforcement["balance"];
  idempotency: Enforcement["idempotency"];
  keyActivity: Enforcement["keyActivity"];
  metrics: Enforcement["metrics"];
  /** Redis connections, subscriptions and the usage writer; await before serving. */
  enforcement: Enforcement;
  /** Portal users: sign-in, sessions, OIDC. */
  auth: PortalAuth;
  /** Readiness and shutdown state behind /livez and /readyz. */
  lifecycle: Lifecycle;
  /** Stripe (checkout, webhooks, meter events); undefined when not configured. */
  payments: PaymentsConfig | undefined;
  /** Hourly usage rollup into the ledger / meter outbox, and the outbox sender. */
  billing: BillingJob;
  /** Flush queues and release connections (not the database handle, which the caller owns). */
  close(): Promise<void>;
}

export interface BuildServicesOptions {
  config: GatewayConfig;
  logger: Logger;
  dbHandle: DbHandle;
  secrets: SecretBox;
  flushIntervalMs: number;
  catalogFreshMs?: number;
  /** Session secret, OIDC and login throttling; defaults suit tests (random secret, no IdP). */
  portalAuth?: PortalAuthOptions;
  /** Redis for limits, balances, the usage stream and cache invalidation; unset = in-process. */
  redisUrl?: string | undefined;
  /** Run this instance's usage stream writer (default true). */
  usageWriter?: boolean;
  /** …in a worker thread of its own (with a real Postgres; see enforcement.ts). */
  usageWriterThread?: { databaseUrl: string; logLevel: string } | undefined;
  keyActivityIntervalMs?: number;
  usageClaimIdleMs?: number;
  usageStream?: string;
  /** Circuit-breaker tuning (defaults: 3 consecutive failures open it for 10 s). */
  targetHealth?: Partial<TargetHealthOptions>;
  /** Local durable usage spool for Redis outages (main.ts: `<data dir>/usage-spool`). */
  usageSpoolDir?: string | undefined;
  redisCommandTimeoutMs?: number | undefined;
  redisBreakerCooldownMs?: number | undefined;
  /** request_logs retention for the partition job (default 14 days). */
  requestLogRetentionDays?: number;
  /** Stripe settings (main.ts builds them from STRIPE_*); unset = no payments. */
  payments?: PaymentsConfig | undefined;
}

/** Wire the services from already-opened infrastructure. */
export function buildServices(opts: BuildServicesOptions): Services {
  const { db } = opts.dbHandle;
  const health = new TargetHealth(
    { failureThreshold: 3, cooldownMs: 10_000, checkTimeoutMs: 2_000, ...opts.targetHealth },
    opts.logger,
  );
  const routers = new RouterClient((targetId, ok, reason) => health.record(targetId, ok, reason));
  const logs = new BatchWriter<NewRequestLog>({
    name: "request_logs",
    intervalMs: opts.flushIntervalMs,
    maxBatch: 500,
    maxBuffered: 200_000,
    logger: opts.logger,
    write: (rows) =>
      insertRequestLogs(db, rows, (row, err) =>
        opts.logger.error({ err, requestId: row.requestId }, "request log row dropped"),
      ),
  });
  const keys = new KeyStore(db);
  const catalog = new Catalog(db, opts.secrets, opts.logger, opts.catalogFreshMs);
  const enforcement = buildEnforcement({
    db,
    logger: opts.logger,
    keys,
    catalog,
    redisUrl: opts.redisUrl,
    flushIntervalMs: opts.flushIntervalMs,
    usageWriter: opts.usageWriter,
    usageWriterThread: opts.usageWriterThread,
    keyActivityIntervalMs: opts.keyActivityIntervalMs,
    usageClaimIdleMs: opts.usageClaimIdleMs,
    usageStream: opts.usageStream,
    usageSpoolDir: opts.usageSpoolDir,
    redisCommandTimeoutMs: opts.redisCommandTimeoutMs,
    redisBreakerCooldownMs: opts.redisBreakerCooldownMs,
  });
  const usage = enforcement.usage;
  const partitions = new PartitionJob({
    db,
    logger: opts.logger,
    requestLogRetentionDays: opts.requestLogRetentionDays ?? 14,
  });
  const billing = new BillingJob({ db, logger: opts.logger, payments: opts.payments });
  const lifecycle = createLifecycle(db, undefined, [partitions, billing]);
  return {
    config: opts.config,
    logger: opts.logger,
    db,
    secrets: opts.secrets,
    keys,
    catalog,
    routers,
    selector: new TargetSelector(health),
    health,
    usage,
    requestLogs: logs,
    limiter: enforcement.limiter,
    balance: enforcement.balance,
    idempotency: enforcement.idempotency,
    keyActivity: enforcement.keyActivity,
    metrics: enforcement.metrics,
    enforcement,
    auth: buildPortalAuth(
      db,
      opts.portalAuth ?? defaultPortalAuthOptions(),
      enforcement.redis ? { redis: enforcement.redis, logger: opts.logger } : undefined,
    ),
    lifecycle,
    payments: opts.payments,
    billing,
    close: async () => {
      await lifecycle.stopJobs();
      await Promise.all([enforcement.close(), logs.close()]);
      await routers.close();
    },
  };
}
