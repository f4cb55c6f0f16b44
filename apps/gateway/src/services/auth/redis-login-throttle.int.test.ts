import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { closedPortUrl } from "../../testing/fake-router.js";
import { openTestRedis, testRedisUrl } from "../../testing/redis.js";
import { throttleKey } from "./login-throttle.js";
import { RedisLoginThrottle } from "./redis-login-throttle.js";

const url = testRedisUrl();
const logger = pino({ level: "silent" });

describe.skipIf(!url)("Redis login throttle", () => {
  const connections: Redis[] = [];
  const prefix = `login-test-${randomBytes(4).toString("hex")}`;
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit()));
  });

  /** Two gateway instances: separate connections and fallbacks, one Redis, one clock. */
  function pair(clock: { t: number }) {
    const make = () => {
      const redis = openTestRedis(url as string);
      connections.push(redis);
      return new RedisLoginThrottle(
        redis,
        { maxFailures: 3, windowMs: 60_000, now: () => clock.t, prefix },
        logger,
      );
    };
    return [make(), make()] as const;
  }

  it("counts attempts across instances and waits until the oldest one leaves the window", async () => {
    const clock = { t: 1_000_000 };
    const [a, b] = pair(clock);
    const key = throttleKey(`x-${randomBytes(4).toString("hex")}@example.com`, "198.51.100.7");
    expect(await a.attempt(key)).toBe(0);
    clock.t += 10_000;
    expect(await b.attempt(key)).toBe(0);
    clock.t += 10_000;
    expect(await a.attempt(key)).toBe(0);
    // Three attempts spread over two instances: both refuse; the first expires in 40 s.
    expect(await b.attempt(key)).toBe(40);
    expect(await a.attempt(key)).toBe(40); // a refused attempt is not counted
    clock.t += 40_001;
    expect(await b.attempt(key)).toBe(0);
  });

  it("parallel attempts on two instances get exactly the limit between them", async () => {
    const clock = { t: 1_500_000 };
    const [a, b] = pair(clock);
    const key = throttleKey(`p-${randomBytes(4).toString("hex")}@example.com`, "198.51.100.8");
    const waits = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).attempt(key)),
    );
    expect(waits.filter((w) => w === 0)).toHaveLength(3);
  });

  it("keys by email and IP, stores no email in Redis, and clears on success", async () => {
    const clock = { t: 2_000_000 };
    const [a, b] = pair(clock);
    const email = `y-${randomBytes(4).toString("hex")}@example.com`;
    const key = throttleKey(email, "203.0.113.9");
    for (let i = 0; i < 3; i++) await a.attempt(key);
    expect(await b.attempt(key)).toBeGreaterThan(0);
    expect(await b.attempt(throttleKey(email, "203.0.113.10"))).toBe(0);
    const stored = await connections[0]?.keys(`${prefix}:*`);
    expect(stored?.length).toBeGreaterThan(0);
    expect(stored?.join(" ")).not.toContain(email);
    await b.reset(key);
    expect(await a.attempt(key)).toBe(0);
  });

  it("falls back to counting in process when Redis is unreachable", async () => {
    const down = new Redis(`${(await closedPortUrl()).replace("http", "redis")}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on("error", () => {});
    const throttle = new RedisLoginThrottle(down, { maxFailures: 2, windowMs: 60_000 }, logger);
    const key = throttleKey("z@example.com", null);
    expect(await throttle.attempt(key)).toBe(0);
    expect(await throttle.attempt(key)).toBe(0);
    expect(await throttle.attempt(key)).toBeGreaterThan(0);
    down.disconnect();
  });
});
