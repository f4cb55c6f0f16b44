import type { AddressInfo } from "node:net";
import path from "node:path";
import { openDb } from "@portal/db";
import { createFetchServer } from "@portal/router/fetch-server";
import { loadTokenizer } from "@portal/router/tokens";
import pino from "pino";
import { createApp } from "./app.js";
import { drainHttpServer } from "./drain.js";
import { loadEnv } from "./env.js";
import { tuneHeapGrowth } from "./lib/heap.js";
import { malformedRequestEnvelope } from "./lib/protocol-error.js";
import {
  ensureOperatorPassword,
  portalAuthFromEnv,
  portalWebDir,
} from "./services/auth/from-env.js";
import { paymentsFromEnv } from "./services/billing/from-env.js";
import { bootstrap } from "./services/bootstrap.js";
import { loadSecretBox } from "./services/encryption-key.js";
import { buildServices } from "./services/services.js";
import { startHealthChecks } from "./services/upstream/target-health.js";

const VERSION = "0.1.0";

tuneHeapGrowth();
const env = loadEnv();
// The o200k table (~0.1 s) now, not on the first prepaid request.
loadTokenizer();
const logger = pino({ level: env.LOG_LEVEL, base: { service: "gateway" } });
const dataDir = path.resolve(env.PORTAL_DATA_DIR);

const dbHandle = await openDb({ url: env.DATABASE_URL, dataDir: path.join(dataDir, "pglite") });
await dbHandle.migrate();
const { box: secrets, generated } = loadSecretBox({
  configured: env.PORTAL_ENCRYPTION_KEY,
  dataDir,
  production: env.NODE_ENV === "production",
});
if (generated)
  logger.warn({ file: path.join(dataDir, "encryption.key") }, "generated a local encryption key");

const stack =
  env.EMBEDDED_ROUTERS > 0
    ? // Loaded only when used: the router package (viem, its tokenizer, ws server) is ~40 MB
      // of resident memory that a production gateway with EMBEDDED_ROUTERS=0 never needs.
      await (await import("./embedded-stack.js")).startEmbeddedStack({
        routers: env.EMBEDDED_ROUTERS,
        basePort: env.EMBEDDED_ROUTER_BASE_PORT,
        minersPerRouter: env.EMBEDDED_MINERS_PER_ROUTER,
        tokenDelayMs: env.DEMO_TOKEN_DELAY_MS,
        dataDir,
        logger,
      })
    : null;

const boot = await bootstrap(dbHandle.db, secrets, {
  email: env.PORTAL_BOOTSTRAP_EMAIL,
  fixedKey: env.PORTAL_BOOTSTRAP_KEY,
  targets: stack?.targets ?? [],
});

const payments = paymentsFromEnv(env);
if (!payments) logger.info("Stripe not configured: credit purchases off, metered usage waits");
const services = buildServices({
  payments,
  config: {
    version: VERSION,
    maxBodyBytes: env.MAX_BODY_BYTES,
    upstreamMarginMs: env.UPSTREAM_MARGIN_MS,
    portalWebDir: portalWebDir(env),
    metricsToken: env.METRICS_TOKEN,
    trustedProxyHops: env.TRUSTED_PROXY_HOPS,
    production: env.NODE_ENV === "production",
    creditPurchases: payments !== undefined,
  },
  logger,
  dbHandle,
  secrets,
  flushIntervalMs: env.USAGE_FLUSH_INTERVAL_MS,
  redisUrl: env.REDIS_URL,
  usageWriter: env.USAGE_WRITER !== "false",
  // `thread`: a worker thread (and pool) of its own, so usage batches are decoded and inserted
  // off the event loop that serves requests (parseEnv insists on DATABASE_URL).
  usageWriterThread:
    env.USAGE_WRITER === "thread" && env.DATABASE_URL
      ? { databaseUrl: env.DATABASE_URL, logLevel: env.LOG_LEVEL }
      : undefined,
  requestLogRetentionDays: env.REQUEST_LOG_RETENTION_DAYS,
  usageSpoolDir: path.join(dataDir, "usage-spool"),
  redisCommandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
  redisBreakerCooldownMs: env.REDIS_BREAKER_COOLDOWN_MS,
  portalAuth: portalAuthFromEnv(env, dataDir, logger),
});
// Redis subscriptions and the usage writer must be up before serving (fails fast otherwise).
await services.enforcement.ready;
// Partition maintenance (one instance at a time via an advisory lock).
services.lifecycle.startJobs();
const operatorPassword = await ensureOperatorPassword(services.auth, env, logger);
const stopHealthChecks =
  env.HEALTH_CHECK_INTERVAL_MS > 0
    ? startHealthChecks(
        services.health,
        () => services.catalog.pools(),
        env.HEALTH_CHECK_INTERVAL_MS,
        logger,
      )
    : () => {};
const app = createApp(services);

const server = createFetchServer(app.fetch, malformedRequestEnvelope, env.HOST);
server.listen(env.PORT, env.HOST, () => {
  const info = server.address() as AddressInfo;
  const base = `http://${env.HOST}:${info.port}`;
  const key = boot ? boot.apiKey : "$PORTAL_API_KEY";
  const lines = [
    "",
    `Portal gateway listening on ${base} (${dbHandle.kind}${stack ? `, ${stack.targets.length} embedded routers` : ""})`,
  ];
  if (boot) {
    lines.push(
      `Bootstrapped org "Dev Org" and operator ${env.PORTAL_BOOTSTRAP_EMAIL}.`,
      "Your API key (shown once, store it now):",
      `  ${boot.apiKey}`,
    );
  } else {
    lines.push("Existing data reused; the API key was printed on first start.");
  }
  lines.push(`Console: ${base}/portal (operator console: ${base}/admin)`);
  if (operatorPassword) {
    lines.push(
      `Operator sign-in: ${env.PORTAL_BOOTSTRAP_EMAIL} / ${operatorPassword} (shown once; change it under Profile)`,
    );
  }
  lines.push(
    "Try it:",
    `  curl -s ${base}/v1/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '{"model":"default","prompt":"Explain decentralized AI inference in one paragraph.","max_tokens":64}'`,
    "",
  );
  process.stdout.write(`${lines.join("\n")}\n`);
});
server.on("error", (err: NodeJS.ErrnoException) => {
  logger.fatal(
    { err },
    err.code === "EADDRINUSE" ? `port ${env.PORT} is already in use (set PORT)` : "server error",
  );
  void shutdown(1);
});

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Readiness turns 503 first, so load balancers stop sending new work to this replica.
  services.lifecycle.beginShutdown();
  logger.info(
    { timeoutMs: env.SHUTDOWN_TIMEOUT_MS, delayMs: env.SHUTDOWN_DELAY_MS },
    "shutting down: draining requests and flushing usage",
  );
  const force = setTimeout(() => {
    logger.error("shutdown bound exceeded; exiting");
    process.exit(1);
  }, env.SHUTDOWN_TIMEOUT_MS);
  force.unref();
  // Stop accepting, let in-flight requests finish, then flush usage before closing the database.
  await drainHttpServer(server, { delayMs: env.SHUTDOWN_DELAY_MS });
  stopHealthChecks();
  await services.close();
  await stack?.close();
  await dbHandle.close();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
