import type { Redis } from "ioredis";
import { RESERVE, SEED, SET_CREDITS, SETTLE } from "./lua.js";
import type {
  BalanceSeed,
  BalanceSnapshot,
  BalanceStore,
  Hold,
  MirrorState,
  ReserveResult,
} from "./types.js";

/** A reservation's reply (RESERVE, or the tail of the gate's): status, available, the mirror. */
export type ReserveReply = [number, number, string, string, string, string];

export function decodeReserve(reply: ArrayLike<unknown>): ReserveResult {
  const status = Number(reply[0]);
  if (status === -1) return { kind: "missing" };
  const seen: MirrorState = [
    String(reply[2]),
    String(reply[3]),
    String(reply[4]),
    String(reply[5]),
  ];
  if (status === 1) return { kind: "reserved", seen };
  return { kind: "insufficient", available: BigInt(reply[1] as number), seen };
}

type BalanceRedis = Redis & {
  portalBalReserve(
    key: string,
    open: string,
    expired: string,
    amount: string,
    id: string,
    now: number,
    ttlMs: number,
  ): Promise<ReserveReply>;
  portalBalSettle(
    key: string,
    open: string,
    applied: string,
    expired: string,
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
export function openKey(orgId: string): string {
  return `bal:{${orgId}}:open`;
}

/** Ids of holds freed by expiry before their settlement (kept a day; see SETTLE). */
export function expiredKey(orgId: string): string {
  return `bal:{${orgId}}:expired`;
}

/** Ids of charges applied without a reservation (outage replays), kept a day. */
function appliedKey(orgId: string): string {
  return `bal:{${orgId}}:applied`;
}

/** Balance mirror in Redis: each operation is one Lua script, so no two can interleave. */
export class RedisBalanceStore implements BalanceStore {
  private readonly redis: BalanceRedis;

  constructor(redis: Redis) {
    redis.defineCommand("portalBalReserve", { lua: RESERVE, numberOfKeys: 3 });
    redis.defineCommand("portalBalSettle", { lua: SETTLE, numberOfKeys: 4 });
    redis.defineCommand("portalBalSeed", { lua: SEED, numberOfKeys: 1 });
    redis.defineCommand("portalBalSetCredits", { lua: SET_CREDITS, numberOfKeys: 1 });
    this.redis = redis as BalanceRedis;
  }

  async reserve(orgId: string, amount: bigint, hold: Hold): Promise<ReserveResult> {
    const reply = await this.redis.portalBalReserve(
      balanceKey(orgId),
      openKey(orgId),
      expiredKey(orgId),
      amount.toString(),
      hold.id,
      hold.now ?? Date.now(),
      hold.ttlMs,
    );
    return decodeReserve(reply);
  }

  async settle(orgId: string, id: string, reserved: bigint, charge: bigint): Promise<void> {
    await this.redis.portalBalSettle(
      balanceKey(orgId),
      openKey(orgId),
      appliedKey(orgId),
      expiredKey(orgId),
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
