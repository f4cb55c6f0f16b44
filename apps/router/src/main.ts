import {
  defaultRouterConfig,
  HttpFacilitator,
  loadRouterConfig,
  S3BlobStore,
  startRouterNode,
  TavilyEvidenceProvider,
} from "@portal/router";
import { loadTokenizer } from "@portal/router/tokens";
import pino from "pino";
import { readRouterEnv } from "./env.js";
import { applyEnvFeatures } from "./features.js";

const env = readRouterEnv();
// The o200k table (~0.1 s) now, not on the first task.
loadTokenizer();
const logger = pino({ level: env.LOG_LEVEL });

/** The S3 blob store the env describes (the env schema made sure every field is there). */
function s3Store(): S3BlobStore {
  return new S3BlobStore({
    endpoint: env.ROUTER_S3_ENDPOINT ?? "",
    bucket: env.ROUTER_S3_BUCKET ?? "",
    region: env.ROUTER_S3_REGION,
    accessKeyId: env.ROUTER_S3_ACCESS_KEY_ID ?? "",
    secretAccessKey: env.ROUTER_S3_SECRET_ACCESS_KEY ?? "",
    sessionToken: env.ROUTER_S3_SESSION_TOKEN,
    prefix: env.ROUTER_S3_PREFIX,
    virtualHosted: env.ROUTER_S3_VIRTUAL_HOSTED === "1",
  });
}

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
    ...(env.ROUTER_BLOB_BACKEND === "s3" && { blobStore: s3Store() }),
    queueTimeoutMs: env.ROUTER_QUEUE_TIMEOUT_MS,
    maxBodyBytes: env.ROUTER_MAX_BODY_BYTES,
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
