import type { Redis } from "ioredis";
import { checkKeys, concurrencyKey, windowCellKey } from "./keys.js";
import { ADMIT_LUA, FINISH_LUA, REFUND_LUA } from "./lua.js";
import type {
  AdmitRequest,
  CountedRef,
  LeaseRef,
  LimitDecision,
  Limiter,
  LimitState,
  WindowAdd,
} from "./types.js";

type LimiterRedis = Redis & {
  portalAdmit(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  portalFinish(numKeys: number, ...args: Array<string | number>): Promise<number>;
  portalRefund(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

/** KEYS and ARGV of ADMIT_LUA for a decision (the gate's script starts with the same). */
export function encodeAdmit(req: AdmitRequest): { keys: string[]; args: Array<string | number> } {
  const now = req.now ?? Date.now();
  const keys: string[] = [];
  let spec = "";
  for (const c of req.checks) {
    keys.push(...checkKeys(req.tag, c, now));
    if (c.kind === "window") spec += `window ${c.limit} ${c.cost} ${c.windowMs} 0 `;
    else if (c.kind === "period")
      spec += `period ${c.limit} ${c.cost} ${c.periodStartMs} ${c.periodMs} `;
    else spec += `concurrency ${c.limit} 1 ${c.ttlMs} 0 `;
  }
  return { keys, args: [now, req.dryRun ? 1 : 0, req.lease, spec] };
}

/** The decision in ADMIT_LUA's reply (the gate's reply starts with the same). */
export function decodeAdmit(req: AdmitRequest, out: ArrayLike<unknown>): LimitDecision {
  const allowed = Number(out[0]) === 1;
  const refusedIndex = Number(out[1]);
  const states: LimitState[] = req.checks.map((c, i) => ({
    scope: c.scope,
    limit: c.limit,
    used: Number(out[3 + i * 3]),
    remaining: Number(out[4 + i * 3]),
    resetAtMs: Number(out[5 + i * 3]),
  }));
  const decision: LimitDecision = { allowed, states };
  const check = req.checks[refusedIndex - 1];
  const state = states[refusedIndex - 1];
  if (!allowed && check && state) {
    decision.refused = { ...state, kind: check.kind, retryAfterMs: Number(out[2]) };
  }
  return decision;
}

/** Limits shared by every gateway instance: one Lua script per decision (EVALSHA, cached). */
export class RedisLimiter implements Limiter {
  private readonly redis: LimiterRedis;

  constructor(redis: Redis) {
    redis.defineCommand("portalAdmit", { lua: ADMIT_LUA });
    redis.defineCommand("portalFinish", { lua: FINISH_LUA });
    redis.defineCommand("portalRefund", { lua: REFUND_LUA });
    this.redis = redis as LimiterRedis;
  }

  async admit(req: AdmitRequest): Promise<LimitDecision> {
    const { keys, args } = encodeAdmit(req);
    return decodeAdmit(req, await this.redis.portalAdmit(keys.length, ...keys, ...args));
  }

  async release(tag: string, concurrencyId: string, lease: string): Promise<void> {
    await this.redis.zrem(concurrencyKey(tag, concurrencyId), lease);
  }

  async finish(
    tag: string,
    lease: LeaseRef | null,
    adds: WindowAdd[],
    now = Date.now(),
  ): Promise<void> {
    const live = adds.filter((a) => a.amount > 0);
    if (!lease && live.length === 0) return;
    // KEYS: the lease set (a placeholder in the same slot when there is none), then the cells.
    const keys = [concurrencyKey(tag, lease?.concurrencyId ?? "none")];
    const args: Array<string | number> = [lease?.lease ?? ""];
    for (const a of live) {
      keys.push(windowCellKey(tag, a.id, a.windowMs, now));
      args.push(a.amount, a.windowMs);
    }
    await this.redis.portalFinish(keys.length, ...keys, ...args);
  }

  async refund(tag: string, lease: LeaseRef | null, counted: CountedRef[]): Promise<void> {
    const keys = [
      concurrencyKey(tag, lease?.concurrencyId ?? "none"),
      ...counted.map((c) => c.key),
    ];
    const args = [lease?.lease ?? "", ...counted.map((c) => c.amount)];
    await this.redis.portalRefund(keys.length, ...keys, ...args);
  }

  async close(): Promise<void> {
    // The connection is owned by the caller (shared with the other Redis-backed services).
  }
}
