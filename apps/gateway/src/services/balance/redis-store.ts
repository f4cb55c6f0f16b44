import type { Redis } from "ioredis";
import type { BalanceSeed, BalanceSnapshot, BalanceStore, ReserveResult } from "./types.js";

// Returns status, available, then the mirror as stored (credits, spent, reserved after this
// call, watermark): what a failover store needs to start a local mirror without Postgres.
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local v = redis.call('HMGET', KEYS[1], 'credits', 'spent', 'reserved', 'wm')
local available = tonumber(v[1]) - tonumber(v[2]) - tonumber(v[3])
local amount = tonumber(ARGV[1])
if available >= amount then
  local reserved = redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[1])
  return {1, available - amount, v[1], v[2], tostring(reserved), v[4] or '0'}
end
return {0, available, v[1], v[2], v[3], v[4] or '0'}
`;
// ARGV: reserved, charge (charge 0 = plain release).
const SETTLE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local r = tonumber(ARGV[1])
if r ~= 0 then redis.call('HINCRBY', KEYS[1], 'reserved', -r) end
if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2]) end
return 1
`;
const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'credits', ARGV[1], 'spent', ARGV[2], 'reserved', 0, 'wm', ARGV[3])
return 1
`;
const SET_CREDITS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'wm') or '0') > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'credits', ARGV[1], 'wm', ARGV[2])
return 1
`;

type BalanceRedis = Redis & {
  portalBalReserve(
    key: string,
    amount: string,
  ): Promise<[number, number, string, string, string, string]>;
  portalBalSettle(key: string, reserved: string, charge: string): Promise<number>;
  portalBalSeed(key: string, credits: string, spent: string, wm: number): Promise<number>;
  portalBalSetCredits(key: string, credits: string, wm: number): Promise<number>;
};

/** `bal:{org}` hashes; no TTL: the mirror holds settled charges the ledger may not have yet. */
export function balanceKey(orgId: string): string {
  return `bal:{${orgId}}`;
}

/** Balance mirror in Redis: each operation is one Lua script, so no two can interleave. */
export class RedisBalanceStore implements BalanceStore {
  private readonly redis: BalanceRedis;

  constructor(redis: Redis) {
    redis.defineCommand("portalBalReserve", { lua: RESERVE, numberOfKeys: 1 });
    redis.defineCommand("portalBalSettle", { lua: SETTLE, numberOfKeys: 1 });
    redis.defineCommand("portalBalSeed", { lua: SEED, numberOfKeys: 1 });
    redis.defineCommand("portalBalSetCredits", { lua: SET_CREDITS, numberOfKeys: 1 });
    this.redis = redis as BalanceRedis;
  }

  async reserve(orgId: string, amount: bigint): Promise<ReserveResult> {
    const [status, available, credits, spent, reserved, wm] = await this.redis.portalBalReserve(
      balanceKey(orgId),
      amount.toString(),
    );
    if (status === -1) return { kind: "missing" };
    const seen = [credits, spent, reserved, wm] as const;
    if (status === 1) return { kind: "reserved", seen };
    return { kind: "insufficient", available: BigInt(available), seen };
  }

  async settle(orgId: string, reserved: bigint, charge: bigint): Promise<void> {
    await this.redis.portalBalSettle(balanceKey(orgId), reserved.toString(), charge.toString());
  }

  async release(orgId: string, reserved: bigint): Promise<void> {
    await this.redis.portalBalSettle(balanceKey(orgId), reserved.toString(), "0");
  }

  async seed(orgId: string, seed: BalanceSeed): Promise<void> {
    await this.redis.portalBalSeed(
      balanceKey(orgId),
      seed.credits.toString(),
      seed.spent.toString(),
      seed.watermark,
    );
  }

  async setCredits(orgId: string, credits: bigint, watermark: number): Promise<void> {
    await this.redis.portalBalSetCredits(balanceKey(orgId), credits.toString(), watermark);
  }

  async snapshot(orgId: string): Promise<BalanceSnapshot | null> {
    const [credits, spent, reserved] = await this.redis.hmget(
      balanceKey(orgId),
      "credits",
      "spent",
      "reserved",
    );
    if (credits == null || spent == null || reserved == null) return null;
    return { credits: BigInt(credits), spent: BigInt(spent), reserved: BigInt(reserved) };
  }
}
