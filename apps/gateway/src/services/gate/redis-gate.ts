import type { Redis } from "ioredis";
import { balanceKey, decodeReserve, expiredKey, openKey } from "../balance/redis-store.js";
import { decodeAdmit, encodeAdmit } from "../limits/redis-limiter.js";
import type { AdmitRequest } from "../limits/types.js";
import { GATE_LUA } from "./lua.js";
import { checkGateRequest } from "./sequential-gate.js";
import type { GateEntry, GateStore, HoldRequest } from "./types.js";

type GateRedis = Redis & {
  portalGate(numKeys: number, ...args: Array<string | number>): Promise<unknown[]>;
};

/**
 * The admission of a prepaid request in one Redis script (GATE_LUA): one command where the
 * separate limit and balance scripts took two. The hold's clock is the decision's (`req.now`).
 */
export class RedisGate implements GateStore {
  private readonly redis: GateRedis;

  constructor(redis: Redis) {
    redis.defineCommand("portalGate", { lua: GATE_LUA });
    this.redis = redis as GateRedis;
  }

  async enter(req: AdmitRequest, h: HoldRequest): Promise<GateEntry> {
    // One script touches both: the limit counters must carry the org's tag, as the mirror does.
    checkGateRequest(req, h);
    const { keys, args } = encodeAdmit(req);
    keys.push(balanceKey(h.orgId), openKey(h.orgId), expiredKey(h.orgId));
    const out = await this.redis.portalGate(
      keys.length,
      ...keys,
      ...args,
      h.amount.toString(),
      h.hold.id,
      h.hold.ttlMs,
    );
    const decision = decodeAdmit(req, out);
    const tail = out.slice(3 + 3 * req.checks.length);
    return { decision, reserve: Number(tail[0]) === 2 ? null : decodeReserve(tail) };
  }
}
