import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { openTestRedis, testRedisUrl } from "../../testing/redis.js";
import { checkKeys, windowCellKey } from "./keys.js";
import { limiterSuite } from "./limiter.suite.js";
import { RedisLimiter } from "./redis-limiter.js";
import type { LimitCheck } from "./types.js";

const url = testRedisUrl();
const connections: Redis[] = [];

function open(): Redis {
  const redis = openTestRedis(url as string);
  connections.push(redis);
  return redis;
}

// Without REDIS_URL the suite is skipped (testRedisUrl() throws instead under CI=true).
describe.skipIf(!url)("redis limiter", () => {
  limiterSuite("redis", () => new RedisLimiter(open()));

  it("gives every counter an expiry when it creates it, and keeps it", async () => {
    const redis = open();
    const limiter = new RedisLimiter(redis);
    const tag = `org_ttl_${Date.now()}`;
    const now = Date.now();
    const checks: LimitCheck[] = [
      {
        kind: "window",
        scope: "key_requests_per_minute",
        id: "rpm",
        limit: 10,
        cost: 1,
        windowMs: 60_000,
      },
      {
        kind: "period",
        scope: "org_weekly_allowance",
        id: "wk",
        limit: 10,
        cost: 1,
        periodStartMs: now - 1_000,
        periodMs: 604_800_000,
      },
    ];
    for (let i = 0; i < 2; i++) {
      expect((await limiter.admit({ tag, checks, lease: `l${i}`, now })).allowed).toBe(true);
    }
    await limiter.finish(tag, null, [{ id: "tpm", amount: 5, windowMs: 60_000 }], now);
    await limiter.finish(tag, null, [{ id: "tpm", amount: 7, windowMs: 60_000 }], now);
    const [cell] = checkKeys(tag, checks[0] as LimitCheck, now);
    const [week] = checkKeys(tag, checks[1] as LimitCheck, now);
    const tokens = windowCellKey(tag, "tpm", 60_000, now);
    expect(await redis.mget(cell as string, week as string, tokens)).toEqual(["2", "2", "12"]);
    for (const [key, max] of [
      [cell, 120_000],
      [week, 604_800_000 + 86_400_000],
      [tokens, 120_000],
    ] as const) {
      const ttl = await redis.pttl(key as string);
      expect(ttl, key).toBeGreaterThan(max - 10_000);
      expect(ttl, key).toBeLessThanOrEqual(max);
    }
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit()));
  });
});
