// Child process: one bench target on an ephemeral port, announced as `READY <url> <key>`.
//   passthrough <routerUrl>: bare Hono + undici proxy (the floor any gateway pays)
//   gateway <routerUrl>: the full gateway path (key check, limits, reservation, usage)
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { newId } from "@portal/contracts";
import { eq, openDb, organizations, plans } from "@portal/db";
import { Hono } from "hono";
import pino from "pino";
import { Pool } from "undici";
import { createApp } from "../src/app.js";
import { tuneHeapGrowth } from "../src/lib/heap.js";
import { ensurePlans } from "../src/services/bootstrap.js";
import { SecretBox } from "../src/services/secret-box.js";
import { buildServices } from "../src/services/services.js";
import { createTenant, fundOrg, type TestGateway } from "../src/testing/harness.js";

const [mode, routerUrl] = process.argv.slice(2);
if (!routerUrl || (mode !== "passthrough" && mode !== "gateway")) {
  console.error("usage: server.ts passthrough|gateway <routerUrl>");
  process.exit(2);
}

function listen(fetch: (req: Request) => Response | Promise<Response>, key: string) {
  const server = serve({ fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
    process.stdout.write(`READY http://127.0.0.1:${info.port} ${key}\n`);
  });
  return server;
}

if (mode === "passthrough") {
  const pool = new Pool(routerUrl, { connections: 64 });
  const app = new Hono().post("/v1/completions", async (c) => {
    const res = await pool.request({
      method: "POST",
      path: "/api/v3/completions/0",
      headers: { "content-type": "application/json" },
      body: await c.req.text(),
    });
    return c.body(await res.body.text(), res.statusCode as 200, {
      "content-type": "application/json",
    });
  });
  listen(app.fetch, "none");
} else {
  // As main.ts does at start.
  tuneHeapGrowth();
  const dbHandle = await openDb({
    url: process.env.DATABASE_URL,
    dataDir: "memory://",
    poolSize: 20,
  });
  await dbHandle.migrate();
  const planIds = await ensurePlans(dbHandle.db);
  const services = buildServices({
    config: { version: "bench", maxBodyBytes: 1_048_576, upstreamMarginMs: 5_000 },
    logger: pino({ level: "warn" }),
    dbHandle,
    secrets: new SecretBox(randomBytes(32)),
    flushIntervalMs: 200,
    redisUrl: process.env.REDIS_URL,
    usageStream: process.env.REDIS_URL ? `usage:{bench-${process.pid}}` : undefined,
    // BENCH_USAGE_WRITER=thread measures the USAGE_WRITER=thread deployment (needs Postgres).
    usageWriterThread:
      process.env.BENCH_USAGE_WRITER === "thread" && process.env.DATABASE_URL
        ? { databaseUrl: process.env.DATABASE_URL, logLevel: "warn" }
        : undefined,
  });
  await services.enforcement.ready;
  const app = createApp(services);
  const gw: TestGateway = { app, services, dbHandle, planIds, close: async () => {} };
  const t = await createTenant(gw, {
    plan: "prepaid",
    targets: [{ url: routerUrl }],
    key: { rpmLimit: 10_000_000, concurrencyLimit: 10_000 },
  });
  // The bench measures overhead, not refusals: the org gets a plan of its own with huge limits.
  const planId = newId("plan");
  await dbHandle.db.insert(plans).values({
    id: planId,
    slug: `bench-${planId}`,
    name: "Bench",
    billingMode: "prepaid",
    requestsPerMinuteKey: 10_000_000,
    requestsPerMinuteOrg: 10_000_000,
    tokensPerMinuteOrg: 1_000_000_000,
    maxConcurrentPerKey: 10_000,
    weeklyRequestAllowance: null,
  });
  await dbHandle.db.update(organizations).set({ planId }).where(eq(organizations.id, t.orgId));
  await fundOrg(gw, t.orgId, 1_000_000_000_000n);
  process.stdout.write(`ALIAS ${t.alias}\n`);
  listen(app.fetch, t.key);
  const stop = async () => {
    await services.usage.flush().catch(() => {});
    await services.enforcement.redis?.del(`usage:{bench-${process.pid}}`);
    await services.close();
    await dbHandle.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
}
