import { randomBytes } from "node:crypto";
import { newId } from "@portal/contracts";
import {
  apiKeys,
  type DbHandle,
  eq,
  modelAccess,
  models,
  openDb,
  organizations,
  plans,
  routerPools,
  routerTargets,
} from "@portal/db";
import { testDatabaseUrl } from "@portal/db/testing";
import pino from "pino";
import { createApp } from "../app.js";
import { generateApiKey, hashApiKey, keyDisplayParts } from "../services/api-keys.js";
import type { PortalAuthOptions } from "../services/auth/build.js";
import type { PaymentsConfig } from "../services/billing/payments.js";
import { ensurePlans } from "../services/bootstrap.js";
import { SecretBox } from "../services/secret-box.js";
import { buildServices, type Services } from "../services/services.js";
import { testRedisUrl } from "./redis.js";

export interface TestGateway {
  app: ReturnType<typeof createApp>;
  services: Services;
  dbHandle: DbHandle;
  planIds: Map<string, string>;
  close(): Promise<void>;
}

/** A gateway app over real Postgres (DATABASE_URL) or in-memory PGlite, migrated and seeded. */
export async function createTestGateway(
  opts: {
    upstreamMarginMs?: number;
    maxBodyBytes?: number;
    portalAuth?: PortalAuthOptions;
    portalWebDir?: string;
    /** Share another gateway's database and secrets (two instances of one deployment). */
    shareWith?: TestGateway;
    /** Use Redis (REDIS_URL) when configured; false forces the in-process stores. */
    redis?: boolean;
    /** A specific Redis (a private instance a fault test kills and restarts) instead of REDIS_URL. */
    redisUrl?: string;
    usageSpoolDir?: string;
    /** Usage stream name; by default each test gateway gets its own (isolated) stream. */
    usageStream?: string;
    usageWriter?: boolean;
    /** Run the usage writer in a worker thread (needs a Postgres DATABASE_URL). */
    usageWriterThread?: boolean;
    usageClaimIdleMs?: number;
    metricsToken?: string;
    /** Proxies trusted to append X-Forwarded-For (TRUSTED_PROXY_HOPS). */
    trustedProxyHops?: number;
    /** SSE keep-alive cadence (stream tests shorten it). */
    streamKeepAliveMs?: number;
    /** Circuit-breaker cooldown (fault tests shorten it). */
    circuitCooldownMs?: number;
    /** Stripe wiring (billing tests point the SDK at a local recording server). */
    payments?: PaymentsConfig;
  } = {},
): Promise<TestGateway> {
  const shared = opts.shareWith;
  const dbHandle =
    shared?.dbHandle ?? (await openDb({ url: testDatabaseUrl(), dataDir: "memory://" }));
  if (!shared) await dbHandle.migrate();
  const planIds = shared?.planIds ?? (await ensurePlans(dbHandle.db));
  const redisUrl = opts.redis === false ? undefined : (opts.redisUrl ?? testRedisUrl());
  const usageStream = opts.usageStream ?? `usage:{test-${newId("req").slice(4)}}`;
  const services = buildServices({
    payments: opts.payments,
    redisUrl,
    usageStream,
    usageWriter: opts.usageWriter,
    usageWriterThread: opts.usageWriterThread
      ? { databaseUrl: testDatabaseUrl() as string, logLevel: "warn" }
      : undefined,
    usageClaimIdleMs: opts.usageClaimIdleMs,
    usageSpoolDir: opts.usageSpoolDir,
    redisBreakerCooldownMs: 200,
    config: {
      version: "test",
      maxBodyBytes: opts.maxBodyBytes ?? 1_048_576,
      upstreamMarginMs: opts.upstreamMarginMs ?? 5_000,
      portalWebDir: opts.portalWebDir,
      metricsToken: opts.metricsToken,
      trustedProxyHops: opts.trustedProxyHops,
      streamKeepAliveMs: opts.streamKeepAliveMs,
      creditPurchases: opts.payments !== undefined,
    },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    dbHandle,
    secrets: shared?.services.secrets ?? new SecretBox(randomBytes(32)),
    flushIntervalMs: 50,
    catalogFreshMs: 50,
    ...(opts.circuitCooldownMs !== undefined
      ? { targetHealth: { cooldownMs: opts.circuitCooldownMs } }
      : {}),
    ...(opts.portalAuth ? { portalAuth: opts.portalAuth } : {}),
  });
  await services.enforcement.ready;
  return {
    app: createApp(services),
    services,
    dbHandle,
    planIds,
    close: async () => {
      // Write what is queued, then drop this gateway's own test stream from the shared Redis.
      await services.usage.flush().catch(() => {});
      if (!opts.usageStream) await services.enforcement.redis?.del(usageStream);
      await services.close();
      if (!shared) await dbHandle.close();
    },
  };
}

/** Credit a prepaid org's balance through the ledger (as a purchase would). */
export async function fundOrg(gw: TestGateway, orgId: string, micros: bigint): Promise<void> {
  await gw.services.balance.credit({
    orgId,
    kind: "grant",
    amountMicros: micros,
    reference: `test-grant:${newId("led")}`,
  });
}

export interface TestTenant {
  orgId: string;
  keyId: string;
  key: string;
  alias: string;
  poolName: string;
}

/**
 * A fresh org with one key and its own model alias over its own pool, so tests never share data.
 * `targets` are router URLs + session ids for the pool.
 */
export async function createTenant(
  gw: TestGateway,
  opts: {
    targets?: Array<{
      url: string;
      sessionId?: number;
      routerKey?: string;
      state?: "active" | "draining" | "disabled";
    }>;
    plan?: string;
    /**
     * Limits of a private copy of `plan` for this tenant (per-key overrides only ever tighten a
     * plan, so a test that needs room beyond the stock plans asks for it here).
     */
    planLimits?: Partial<
      Pick<
        typeof plans.$inferInsert,
        | "requestsPerMinuteKey"
        | "requestsPerMinuteOrg"
        | "tokensPerMinuteOrg"
        | "maxConcurrentPerKey"
        | "weeklyRequestAllowance"
      >
    >;
    key?: {
      revokedAt?: Date;
      expiresAt?: Date;
      disabled?: boolean;
      rpmLimit?: number;
      tpmLimit?: number;
      concurrencyLimit?: number;
    };
    orgDisabled?: boolean;
    model?: {
      maxMaxTokens?: number;
      contextLength?: number;
      promptTemplate?: string;
      visibility?: "public" | "restricted";
    };
  } = {},
): Promise<TestTenant> {
  const db = gw.dbHandle.db;
  const basePlanId = gw.planIds.get(opts.plan ?? "free");
  if (!basePlanId) throw new Error(`no plan ${opts.plan}`);
  let planId = basePlanId;
  if (opts.planLimits) {
    const [base] = await db.select().from(plans).where(eq(plans.id, basePlanId));
    if (!base) throw new Error(`no plan row ${basePlanId}`);
    planId = newId("plan");
    await db.insert(plans).values({
      ...base,
      ...opts.planLimits,
      id: planId,
      slug: `t-${planId.slice(-12).toLowerCase()}`,
    });
  }
  const orgId = newId("org");
  const keyId = newId("key");
  const poolId = newId("pool");
  const suffix = orgId.slice(-10).toLowerCase();
  const alias = `model-${suffix}`;
  const poolName = `pool-${suffix}`;
  const key = generateApiKey();
  await db.insert(organizations).values({
    id: orgId,
    name: `Test ${suffix}`,
    slug: `test-${suffix}`,
    planId,
    status: opts.orgDisabled ? "disabled" : "active",
  });
  await db.insert(apiKeys).values({
    id: keyId,
    orgId,
    name: "test",
    keyHash: hashApiKey(key),
    ...keyDisplayParts(key),
    revokedAt: opts.key?.revokedAt ?? null,
    expiresAt: opts.key?.expiresAt ?? null,
    disabled: opts.key?.disabled ?? false,
    rpmLimit: opts.key?.rpmLimit ?? null,
    tpmLimit: opts.key?.tpmLimit ?? null,
    concurrencyLimit: opts.key?.concurrencyLimit ?? null,
  });
  await db.insert(routerPools).values({ id: poolId, name: poolName });
  for (const t of opts.targets ?? []) {
    await db.insert(routerTargets).values({
      id: newId("tgt"),
      poolId,
      url: t.url,
      sessionId: t.sessionId ?? 0,
      routerKeyCiphertext: gw.services.secrets.encrypt(t.routerKey ?? "default-dev-token"),
      state: t.state ?? "active",
    });
  }
  const modelId = newId("mdl");
  await db.insert(models).values({
    id: modelId,
    alias,
    poolId,
    displayName: alias,
    promptTemplate: opts.model?.promptTemplate ?? "{prompt}",
    contextLength: opts.model?.contextLength ?? 8192,
    defaultMaxTokens: Math.min(64, opts.model?.maxMaxTokens ?? 1024),
    maxMaxTokens: opts.model?.maxMaxTokens ?? 1024,
    inputPriceMicros: 1_000_000n,
    outputPriceMicros: 2_000_000n,
    visibility: opts.model?.visibility ?? "public",
  });
  gw.services.catalog.invalidate();
  return { orgId, keyId, key, alias, poolName };
}

/** Deny a model to one org (for model_not_allowed tests). */
export async function denyModel(gw: TestGateway, alias: string, orgId: string): Promise<void> {
  const route = await gw.services.catalog.resolve(alias);
  if (!route) throw new Error(`no model ${alias}`);
  await gw.dbHandle.db
    .insert(modelAccess)
    .values({ id: newId("mdl"), modelId: route.model.id, orgId, allowed: false });
  gw.services.catalog.invalidate();
}

/** POST JSON to the in-process app with a key. */
export function postJson(
  gw: TestGateway,
  path: string,
  body: unknown,
  key?: string,
  headers: Record<string, string> = {},
) {
  return gw.app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: tests assert on arbitrary JSON shapes with toMatchObject.
export type Json = any;

/** Parse a response body for assertions. */
export async function readJson(res: Response): Promise<Json> {
  return res.json();
}
