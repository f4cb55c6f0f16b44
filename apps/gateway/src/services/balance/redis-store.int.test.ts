import type { Redis } from "ioredis";
import { afterAll, describe } from "vitest";
import { openTestRedis, testRedisUrl } from "../../testing/redis.js";
import { RedisBalanceStore } from "./redis-store.js";
import { balanceStoreSuite } from "./store.suite.js";

const url = testRedisUrl();
const connections: Redis[] = [];

// Without REDIS_URL the suite is skipped (testRedisUrl() throws instead under CI=true).
describe.skipIf(!url)("redis balance store", () => {
  balanceStoreSuite("redis", () => {
    const redis = openTestRedis(url as string);
    connections.push(redis);
    return new RedisBalanceStore(redis);
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit()));
  });
});
