import { newId } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OutageRedis, startOutageRedis } from "../../testing/outage-redis.js";
import type { PrivateRedis } from "../../testing/private-services.js";
import type { RedisBreaker } from "../redis-breaker.js";
import { FailoverBalanceStore } from "./failover-store.js";
import { RedisBalanceStore } from "./redis-store.js";

// The balance failover against a private redis-server this test kills: the local mirror starts
// from the shared mirror as last seen, so a Redis outage needs no Postgres for orgs in use.

let outage: OutageRedis;
let server: PrivateRedis;
let breaker: RedisBreaker;
let store: FailoverBalanceStore;

beforeAll(async () => {
  outage = await startOutageRedis();
  ({ server, breaker } = outage);
  const conn = outage.conn;
  store = new FailoverBalanceStore(new RedisBalanceStore(conn), breaker);
}, 30_000);
afterAll(async () => {
  await outage?.close();
});

describe("FailoverBalanceStore during a Redis outage", () => {
  it("reserves from the last-seen shared mirror (in-flight reservations counted as spent), then hands the charges back to Redis once", async () => {
    const org = newId("org");
    const hold = () => ({ id: newId("req"), ttlMs: 60_000 });
    await store.seed(org, { credits: 1_000n, spent: 100n, watermark: 3 });
    const first = hold();
    expect(await store.reserve(org, 200n, first)).toMatchObject({
      kind: "reserved",
      via: "primary",
    });
    await store.settle(org, first.id, 200n, 150n, "primary");
    // Still in flight when Redis goes away.
    const inFlight = hold();
    expect(await store.reserve(org, 300n, inFlight)).toMatchObject({
      kind: "reserved",
      via: "primary",
    });

    await server.kill();
    await expect.poll(() => breaker.closed, { timeout: 5_000 }).toBe(false);

    // Last seen: credits 1,000, spent 250, reserved 300 → 450 available locally.
    const local = hold();
    expect(await store.reserve(org, 400n, local)).toMatchObject({
      kind: "reserved",
      via: "fallback",
    });
    expect(await store.reserve(org, 100n, hold())).toEqual({
      kind: "insufficient",
      available: 50n,
      via: "fallback",
    });
    // An org this instance never reserved for has nothing to start from (the ledger seeds it).
    expect(await store.reserve(newId("org"), 1n, hold())).toEqual({
      kind: "missing",
      via: "fallback",
    });

    // Both requests finish during the outage: the local charge and the Redis settlement wait.
    await store.settle(org, local.id, 400n, 380n, "fallback");
    await store.settle(org, inFlight.id, 300n, 290n, "primary");
    // A settlement whose reply was lost is queued again: the replay must not count it twice.
    await store.settle(org, inFlight.id, 300n, 290n, "primary");
    expect(store.pendingUpdates).toBe(3);

    await server.up();
    await expect.poll(() => store.pendingUpdates, { timeout: 10_000 }).toBe(0);
    await expect
      .poll(() => store.snapshot(org), { timeout: 5_000 })
      .toEqual({ credits: 1_000n, spent: 250n + 380n + 290n, reserved: 0n });
  });
});
