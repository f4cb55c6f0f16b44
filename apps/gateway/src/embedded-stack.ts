import path from "node:path";
import { type RouterNodeHandle, startRouterNode } from "@portal/router";
import { type MinerHandle, startMiner } from "@portal/router/miner";
import type { Logger } from "pino";

/** The router bearer key of embedded nodes; the router allows it on loopback binds only. */
const EMBEDDED_ROUTER_KEY = "default-dev-token";
const EMBEDDED_SESSION_ID = 0;

export interface EmbeddedStack {
  targets: Array<{ url: string; sessionId: number; routerKey: string }>;
  close(): Promise<void>;
}

/**
 * `npm start`'s router fleet: N router nodes on consecutive loopback ports, each with session 0
 * serving the demo model and M demo miners connected over real WebSockets.
 */
export async function startEmbeddedStack(opts: {
  routers: number;
  basePort: number;
  minersPerRouter: number;
  tokenDelayMs: number;
  dataDir: string;
  logger: Logger;
}): Promise<EmbeddedStack> {
  // Embedded components are chatty at info; keep the console for the banner unless debugging.
  const quiet = ["debug", "trace"].includes(opts.logger.level) ? {} : { level: "warn" };
  const nodes: RouterNodeHandle[] = [];
  const miners: MinerHandle[] = [];
  const close = async () => {
    await Promise.allSettled(miners.map((m) => m.close()));
    await Promise.allSettled(nodes.map((n) => n.close()));
  };
  try {
    for (let i = 0; i < opts.routers; i++) {
      const node = await startRouterNode({
        host: "127.0.0.1",
        port: opts.basePort + i,
        apiKey: EMBEDDED_ROUTER_KEY,
        config: {
          sessions: [{ id: EMBEDDED_SESSION_ID, model: "demo", mode: "ephemeral", redundancy: 1 }],
          default_session_id: EMBEDDED_SESSION_ID,
        },
        dataDir: path.join(opts.dataDir, `router-${i}`),
        logger: opts.logger.child({ component: `router-${i}` }, quiet),
      });
      nodes.push(node);
      for (let j = 0; j < opts.minersPerRouter; j++) {
        miners.push(
          await startMiner({
            routerWsUrl: node.wsUrl,
            id: `demo-${i}-${j}`,
            engine: "demo",
            models: ["demo"],
            capacity: 4,
            demo: { tokenDelayMs: opts.tokenDelayMs },
            logger: opts.logger.child({ component: `miner-${i}-${j}` }, quiet),
          }),
        );
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    targets: nodes.map((n) => ({
      url: n.url,
      sessionId: EMBEDDED_SESSION_ID,
      routerKey: EMBEDDED_ROUTER_KEY,
    })),
    close,
  };
}
