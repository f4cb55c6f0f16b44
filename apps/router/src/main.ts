import {
  defaultRouterConfig,
  HttpFacilitator,
  loadRouterConfig,
  startRouterNode,
  TavilyEvidenceProvider,
} from "@portal/router";
import pino from "pino";
import { readRouterEnv } from "./env.js";
import { applyEnvFeatures } from "./features.js";

const env = readRouterEnv();
const logger = pino({ level: env.LOG_LEVEL });

try {
  const base =
    env.ROUTER_CONFIG_FILE !== undefined
      ? loadRouterConfig(env.ROUTER_CONFIG_FILE)
      : defaultRouterConfig();
  const node = await startRouterNode({
    host: env.ROUTER_HOST,
    port: env.ROUTER_PORT,
    ...(env.ROUTER_API_KEY !== undefined && { apiKey: env.ROUTER_API_KEY }),
    ...(env.ROUTER_MINER_TOKEN !== undefined && { minerToken: env.ROUTER_MINER_TOKEN }),
    config: applyEnvFeatures(base, env),
    dataDir: env.ROUTER_DATA_DIR,
    queueTimeoutMs: env.ROUTER_QUEUE_TIMEOUT_MS,
    blobTtlMs: env.ROUTER_BLOB_TTL_S * 1000,
    ...(env.TAVILY_API_KEY !== undefined && {
      evidenceProvider: new TavilyEvidenceProvider({
        apiKey: env.TAVILY_API_KEY,
        url: env.TAVILY_API_URL,
      }),
    }),
    ...(env.X402_FACILITATOR_URL !== undefined && {
      x402Facilitator: new HttpFacilitator(env.X402_FACILITATOR_URL),
    }),
    ...(env.ENCRYPTION_SEED !== undefined && { encryptionSeed: env.ENCRYPTION_SEED }),
    logger,
  });
  logger.info({ url: node.url, ws: node.wsUrl }, "router node ready");
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: env.ROUTER_SHUTDOWN_TIMEOUT_MS }, "router node draining");
    // Readiness turns 503 and new tasks are refused; accepted tasks finish within the bound.
    node.drain({ timeoutMs: env.ROUTER_SHUTDOWN_TIMEOUT_MS }).then(
      (drained) => process.exit(drained ? 0 : 1),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
} catch (err) {
  logger.fatal({ err: (err as Error).message }, "router node failed to start");
  process.exit(1);
}
