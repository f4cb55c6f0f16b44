import { Redis } from "ioredis";

/**
 * The Redis integration tests use: REDIS_URL when set, none otherwise (suites fall back to the
 * in-process stores or skip loudly). In CI a missing REDIS_URL is a failure, never a silent skip.
 */
let warned = false;

export function testRedisUrl(): string | undefined {
  const url = process.env.REDIS_URL;
  if (!url && process.env.CI === "true") {
    throw new Error("CI=true but REDIS_URL is not set: integration tests need real Redis");
  }
  if (!url && !warned) {
    warned = true;
    console.warn("REDIS_URL is not set: Redis-backed suites are skipped, in-process stores used");
  }
  return url || undefined;
}

/** A fresh connection to the test Redis (the caller quits it). */
export function openTestRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
}
