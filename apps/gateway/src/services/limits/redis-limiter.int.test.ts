import type { Redis } from "ioredis";
import { afterAll, describe } from "vitest";
import { openTestRedis, testRedisUrl } from "../../testing/redis.js";
import { limiterSuite } from "./limiter.suite.js";
import { RedisLimiter } from "./redis-limiter.js";

const url = testRedisUrl();
const connections: Redis[] = [];

// Without REDIS_URL the suite is skipped (testRedisUrl() throws instead under CI=true).
describe.skipIf(!url)("redis limiter", () => {
  limiterSuite("redis", () => {
    const redis = openTestRedis(url as string);
    connections.push(redis);
    return new RedisLimiter(redis);
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit()));
  });
});
