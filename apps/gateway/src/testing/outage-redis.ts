import { Redis } from "ioredis";
import pino from "pino";
import { RedisBreaker } from "../services/redis-breaker.js";
import { PrivateRedis } from "./private-services.js";

/** A private redis-server (for a test to kill) behind a fail-fast connection and a breaker. */
export interface OutageRedis {
  server: PrivateRedis;
  conn: Redis;
  breaker: RedisBreaker;
  close(): Promise<void>;
}

export async function startOutageRedis(cooldownMs = 200): Promise<OutageRedis> {
  const server = await PrivateRedis.start();
  const conn = new Redis(server.url, { commandTimeout: 500, maxRetriesPerRequest: 1 });
  conn.on("error", () => {});
  const breaker = new RedisBreaker(conn, pino({ level: "silent" }), { cooldownMs });
  if (conn.status !== "ready") await new Promise((r) => conn.once("ready", r));
  return {
    server,
    conn,
    breaker,
    close: async () => {
      breaker.stop();
      conn.disconnect();
      await server.destroy();
    },
  };
}
