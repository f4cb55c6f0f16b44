import type { Redis } from "ioredis";
import { afterAll, describe, it } from "vitest";
import { openTestRedis, testRedisUrl } from "../../testing/redis.js";
import { limiterSuite } from "./limiter.suite.js";
import { RedisLimiter } from "./redis-limiter.js";

const url = testRedisUrl();
const connections: Redis[] = [];

if (url) {
  limiterSuite("redis", () => {
    const redis = openTestRedis(url);
    connections.push(redis);
    return new RedisLimiter(redis);
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit()));
  });
} else {
  describe("redis limiter", () => {
    it.skip("needs REDIS_URL (a real Redis); skipped", () => {});
  });
}
