import { newId } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OutageRedis, startOutageRedis } from "../../testing/outage-redis.js";
import type { PrivateRedis } from "../../testing/private-services.js";
import { FailoverBalanceStore } from "../balance/failover-store.js";
import { RedisBalanceStore } from "../balance/redis-store.js";
import { FailoverLimiter } from "../limits/failover-limiter.js";
import { RedisLimiter } from "../limits/redis-limiter.js";
import type { AdmitRequest } from "../limits/types.js";
import type { RedisBreaker } from "../redis-breaker.js";
import { FailoverGate } from "./failover-gate.js";
import { RedisGate } from "./redis-gate.js";
import { SequentialGate } from "./sequential-gate.js";

// The gate against a private redis-server this test kills: during the outage the admission
// falls back to the local limit and balance stores, still all-or-nothing.

let outage: OutageRedis;
let server: PrivateRedis;
let breaker: RedisBreaker;
let limiter: FailoverLimiter;
let balance: FailoverBalanceStore;
let gate: FailoverGate;

beforeAll(async () => {
  outage = await startOutageRedis();
  ({ server, breaker } = outage);
  const conn = outage.conn;
  limiter = new FailoverLimiter(new RedisLimiter(conn), breaker);
  balance = new FailoverBalanceStore(new RedisBalanceStore(conn), breaker);
  gate = new FailoverGate(
    new RedisGate(conn),
    new SequentialGate(limiter, balance),
    balance,
    breaker,
  );
}, 30_000);
afterAll(async () => {
  await outage?.close();
});

const request = (org: string, rpm: number): AdmitRequest => ({
  tag: org,
  lease: newId("req"),
  checks: [
    {
      kind: "window",
      scope: "key_requests_per_minute",
      id: "k:1:rpm",
      limit: rpm,
      cost: 1,
      windowMs: 60_000,
    },
    { kind: "concurrency", scope: "key_concurrency", id: "k:1:conc", limit: 5, ttlMs: 30_000 },
  ],
});
const hold = (org: string, amount: bigint) => ({
  orgId: org,
  amount,
  hold: { id: newId("req"), ttlMs: 30_000 },
});

describe("FailoverGate during a Redis outage", () => {
  it("admits from the local stores, starting from the mirror Redis last showed, and undoes a reservation the limits refuse", async () => {
    const org = newId("org");
    await balance.seed(org, { credits: 1_000n, spent: 0n, watermark: 1 });
    const first = await gate.enter(request(org, 2), hold(org, 200n));
    expect(first.reserve).toMatchObject({ kind: "reserved", via: "primary" });

    await server.kill();
    await expect.poll(() => breaker.closed, { timeout: 5_000 }).toBe(false);

    // Last seen: credits 1,000 with 200 in flight (counted as spent) → 800 available locally.
    const req = request(org, 1);
    const local = await gate.enter(req, hold(org, 300n));
    expect(local.reserve).toMatchObject({ kind: "reserved", via: "fallback" });
    expect(local.decision.allowed).toBe(true);
    expect(await balance.snapshot(org)).toEqual({ credits: 1_000n, spent: 200n, reserved: 300n });

    // The local window now holds 1 of 1: refused, and the reservation it took is given back.
    const refused = await gate.enter(request(org, 1), hold(org, 100n));
    expect(refused.reserve).toBeNull();
    expect(refused.decision.refused).toMatchObject({ scope: "key_requests_per_minute" });
    expect(await balance.snapshot(org)).toEqual({ credits: 1_000n, spent: 200n, reserved: 300n });

    // The balance refuses: the limits only report (a dry run), nothing is counted.
    const poor = await gate.enter(request(org, 5), hold(org, 10_000n));
    expect(poor.reserve).toMatchObject({ kind: "insufficient", available: 500n });
    expect(poor.decision.states[0]?.used).toBe(1);

    // The local lease ends locally.
    await limiter.release(org, "k:1:conc", req.lease);
    const after = await limiter.admit({ ...request(org, 5), dryRun: true });
    expect(after.states[1]?.used).toBe(0);
  });
});
