import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { LoginThrottle, ThrottleOptions } from "./login-throttle.js";
import { MemoryLoginThrottle } from "./login-throttle.js";

/**
 * Check and count one attempt in one step. KEYS[1] = the sorted set of attempt times; ARGV = now
 * (ms), window (ms), max attempts, a unique member. Returns 0 when the attempt is allowed (and
 * counted), otherwise the seconds until the attempt that made the count reach the limit leaves
 * the window (nothing counted).
 */
const ATTEMPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[3])
if n >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], n - max, n - max, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + tonumber(ARGV[2]) - tonumber(ARGV[1])
  return math.max(1, math.ceil(wait / 1000))
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0`;

/**
 * The sign-in throttle shared by every gateway instance: attempts per (email, client IP) live in
 * a Redis sorted set, so an attacker cannot multiply their attempts by spreading them across
 * replicas. Keys are SHA-256 of the throttle key (no emails stored in Redis) and hash-tagged for
 * Redis Cluster. If Redis fails, this instance falls back to its in-process throttle rather than
 * refusing every sign-in or letting every attempt through.
 */
export class RedisLoginThrottle implements LoginThrottle {
  private readonly fallback: MemoryLoginThrottle;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly opts: ThrottleOptions & { prefix?: string },
    private readonly logger: Logger,
  ) {
    this.fallback = new MemoryLoginThrottle(opts);
    this.now = opts.now ?? Date.now;
  }

  async attempt(key: string): Promise<number> {
    try {
      const wait = await this.redis.eval(
        ATTEMPT,
        1,
        this.redisKey(key),
        this.now(),
        this.opts.windowMs,
        this.opts.maxFailures,
        `${this.now()}-${randomBytes(6).toString("hex")}`,
      );
      // Attempts counted here while Redis was down still count.
      return Math.max(Number(wait), await this.fallback.retryAfter(key));
    } catch (err) {
      this.logger.warn({ err }, "login throttle: Redis unavailable, using the in-process throttle");
      return this.fallback.attempt(key);
    }
  }

  async reset(key: string): Promise<void> {
    await this.fallback.reset(key);
    try {
      await this.redis.del(this.redisKey(key));
    } catch (err) {
      this.logger.warn({ err }, "login throttle: could not clear failures in Redis");
    }
  }

  private redisKey(key: string): string {
    const digest = createHash("sha256").update(key).digest("hex");
    return `${this.opts.prefix ?? "login"}:{${digest}}`;
  }
}
