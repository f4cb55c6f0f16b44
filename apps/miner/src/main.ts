import { startMiner } from "@portal/router/miner";
import pino from "pino";
import { readMinerEnv } from "./env.js";

const env = readMinerEnv();
const logger = pino({ level: env.LOG_LEVEL });

try {
  const miner = await startMiner({
    routerWsUrl: env.MINER_ROUTER_URL,
    token: env.MINER_TOKEN,
    ...(env.MINER_ID !== undefined && { id: env.MINER_ID }),
    engine: env.MINER_ENGINE,
    models: env.MINER_MODELS,
    capacity: env.MINER_CAPACITY,
    demo: { tokenDelayMs: env.MINER_DEMO_TOKEN_DELAY_MS },
    logger,
    ...(env.MINER_OPENAI_BASE_URL !== undefined && {
      openai: {
        baseUrl: env.MINER_OPENAI_BASE_URL,
        ...(env.MINER_OPENAI_API_KEY !== undefined && { apiKey: env.MINER_OPENAI_API_KEY }),
        ...(env.MINER_OPENAI_MODEL !== undefined && { model: env.MINER_OPENAI_MODEL }),
        stream: env.MINER_OPENAI_STREAM === "1",
      },
    }),
  });
  logger.info({ id: miner.id, router: env.MINER_ROUTER_URL }, "miner ready");
  const shutdown = (): void => {
    miner.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
} catch (err) {
  logger.fatal({ err: (err as Error).message }, "miner failed to start");
  process.exit(1);
}
