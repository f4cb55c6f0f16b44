import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { openTestRedis, testRedisUrl } from "../../testing/redis.js";
import { RedisBalanceStore } from "../balance/redis-store.js";
import { RedisLimiter } from "../limits/redis-limiter.js";
import { gateSuite } from "./gate.suite.js";
import { RedisGate } from "./redis-gate.js";

const url = testRedisUrl();
const connections: Redis[] = [];

function open() {
  const redis = openTestRedis(url as string);
  connections.push(redis);
  return redis;
}

// Without REDIS_URL the suite is skipped (testRedisUrl() throws instead under CI=true).
describe.skipIf(!url)("redis gate", () => {
  gateSuite("redis", () => {
    const redis = open();
    return {
      gate: new RedisGate(redis),
      limiter: new RedisLimiter(redis),
      balance: new RedisBalanceStore(redis),
    };
  });

  it("returns the shared mirror as the reservation saw it (where an outage's local mirror starts)", async () => {
    const redis = open();
    const gate = new RedisGate(redis);
    const balance = new RedisBalanceStore(redis);
    const org = `org_seen_${Date.now()}`;
    await balance.seed(org, { credits: 1_000n, spent: 40n, watermark: 7 });
    const req = {
      tag: org,
      lease: "lease-1",
      checks: [
        {
          kind: "concurrency" as const,
          scope: "key_concurrency" as const,
          id: "c",
          limit: 2,
          ttlMs: 5_000,
        },
      ],
    };
    const entry = await gate.enter(req, {
      orgId: org,
      amount: 300n,
      hold: { id: "h1", ttlMs: 5_000 },
    });
    expect(entry.reserve).toEqual({ kind: "reserved", seen: ["1000", "40", "300", "7"] });
    const poor = await gate.enter(
      { ...req, lease: "lease-2" },
      { orgId: org, amount: 1_000n, hold: { id: "h2", ttlMs: 5_000 } },
    );
    expect(poor.reserve).toEqual({
      kind: "insufficient",
      available: 660n,
      seen: ["1000", "40", "300", "7"],
    });
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit()));
  });
});
