import type { Redis } from "ioredis";
import type { BalanceSeed, BalanceSnapshot, BalanceStore, Hold, ReserveResult } from "./types.js";

// KEYS: the mirror, its open reservations (ZSET "<id> <amount>" scored by expiry).
// ARGV: amount, reservation id, now, ttlMs. Frees up to 50 expired reservations first (never
// settled: a lost reply, a crashed instance), so a leak heals on the org's next request. Returns
// status, available, then the mirror as stored (credits, spent, reserved after this call,
// watermark): what a failover store needs to start a local mirror without Postgres.
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local now = tonumber(ARGV[3])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 50)
for _, m in ipairs(stale) do
  local amt = string.match(m, ' (%d+)$')
  if amt then redis.call('HINCRBY', KEYS[1], 'reserved', '-' .. amt) end
  redis.call('ZREM', KEYS[2], m)
end
local v = redis.call('HMGET', KEYS[1], 'credits', 'spent', 'reserved', 'wm')
local available = tonumber(v[1]) - tonumber(v[2]) - tonumber(v[3])
local amount = tonumber(ARGV[1])
if available >= amount then
  local reserved = redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[1])
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[2] .. ' ' .. ARGV[1])
  return {1, available - amount, v[1], v[2], tostring(reserved), v[4] or '0'}
end
return {0, available, v[1], v[2], v[3], v[4] or '0'}
`;
// KEYS: the mirror, its open reservations, charges applied without a reservation (ZSET of ids).
// ARGV: reserved, charge (0 = plain release), reservation id, now. Applies once per reservation:
// a replayed settlement (its first reply was lost) or one after the reservation expired changes
// nothing. reserved 0 is a charge made against a local mirror during an outage, applied once per
// id (ids remembered for a day).
const SETTLE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local r = tonumber(ARGV[1])
local charge = tonumber(ARGV[2])
if r ~= 0 then
  if redis.call('ZREM', KEYS[2], ARGV[3] .. ' ' .. ARGV[1]) == 0 then return 0 end
  redis.call('HINCRBY', KEYS[1], 'reserved', -r)
else
  if charge <= 0 then return 0 end
  local now = tonumber(ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 86400000)
  if redis.call('ZADD', KEYS[3], 'NX', now, ARGV[3]) == 0 then return 0 end
end
if charge > 0 then redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2]) end
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
    open: string,
    amount: string,
    id: string,
    now: number,
    ttlMs: number,
  ): Promise<[number, number, string, string, string, string]>;
  portalBalSettle(
    key: string,
    open: string,
    applied: string,
    reserved: string,
    charge: string,
    id: string,
    now: number,
  ): Promise<number>;
  portalBalSeed(key: string, credits: string, spent: string, wm: number): Promise<number>;
  portalBalSetCredits(key: string, credits: string, wm: number): Promise<number>;
};

/** `bal:{org}` hashes; no TTL: the mirror holds settled charges the ledger may not have yet. */
export function balanceKey(orgId: string): string {
  return `bal:{${orgId}}`;
}

/** Open reservations of an org (same slot as its mirror); no TTL, members leave on settle. */
function openKey(orgId: string): string {
  return `bal:{${orgId}}:open`;
}

/** Ids of charges applied without a reservation (outage replays), kept a day. */
function appliedKey(orgId: string): string {
  return `bal:{${orgId}}:applied`;
}

/** Balance mirror in Redis: each operation is one Lua script, so no two can interleave. */
export class RedisBalanceStore implements BalanceStore {
  private readonly redis: BalanceRedis;

  constructor(redis: Redis) {
    redis.defineCommand("portalBalReserve", { lua: RESERVE, numberOfKeys: 2 });
    redis.defineCommand("portalBalSettle", { lua: SETTLE, numberOfKeys: 3 });
    redis.defineCommand("portalBalSeed", { lua: SEED, numberOfKeys: 1 });
    redis.defineCommand("portalBalSetCredits", { lua: SET_CREDITS, numberOfKeys: 1 });
    this.redis = redis as BalanceRedis;
  }

  async reserve(orgId: string, amount: bigint, hold: Hold): Promise<ReserveResult> {
    const [status, available, credits, spent, reserved, wm] = await this.redis.portalBalReserve(
      balanceKey(orgId),
      openKey(orgId),
      amount.toString(),
      hold.id,
      hold.now ?? Date.now(),
      hold.ttlMs,
    );
    if (status === -1) return { kind: "missing" };
    const seen = [credits, spent, reserved, wm] as const;
    if (status === 1) return { kind: "reserved", seen };
    return { kind: "insufficient", available: BigInt(available), seen };
  }

  async settle(orgId: string, id: string, reserved: bigint, charge: bigint): Promise<void> {
    await this.redis.portalBalSettle(
      balanceKey(orgId),
      openKey(orgId),
      appliedKey(orgId),
      reserved.toString(),
      charge.toString(),
      id,
      Date.now(),
    );
  }

  async release(orgId: string, id: string, reserved: bigint): Promise<void> {
    await this.settle(orgId, id, reserved, 0n);
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
