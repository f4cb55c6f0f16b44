import { eq, routerPools, routerTargets, usageEvents } from "@portal/db";
import { type RouterNodeHandle, startRouterNode } from "@portal/router";
import { type MinerHandle, startMiner } from "@portal/router/miner";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  postJson,
  readJson,
  type TestGateway,
  type TestTenant,
} from "../../../testing/harness.js";

// Two real routers with demo miners behind one pool: a router killed under load, its return,
// and a draining target. Money is checked exactly: one usage row and one charge per 200.

const silent = pino({ level: "silent" });
let gw: TestGateway;

interface Node {
  router: RouterNodeHandle;
  miner: MinerHandle;
}

async function startNode(port = 0): Promise<Node> {
  const router = await startRouterNode({
    port,
    config: {
      sessions: [{ id: 0, model: "demo", mode: "ephemeral", redundancy: 1 }],
      default_session_id: 0,
    },
    logger: silent,
  });
  const miner = await startMiner({
    routerWsUrl: router.wsUrl,
    id: `m-${router.port}`,
    engine: "demo",
    models: ["demo"],
    capacity: 8,
    demo: { tokenDelayMs: 2 },
    logger: silent,
  });
  return { router, miner };
}

async function stopNode(n: Node): Promise<void> {
  await n.miner.close();
  await n.router.close();
}

async function targetIdsOf(t: TestTenant): Promise<Map<string, string>> {
  const rows = await gw.dbHandle.db
    .select({ id: routerTargets.id, url: routerTargets.url })
    .from(routerTargets)
    .innerJoin(routerPools, eq(routerPools.id, routerTargets.poolId))
    .where(eq(routerPools.name, t.poolName));
  return new Map(rows.map((r) => [r.url, r.id]));
}

async function rowsOf(orgId: string) {
  await gw.services.usage.flush();
  return gw.dbHandle.db.select().from(usageEvents).where(eq(usageEvents.orgId, orgId));
}

beforeAll(async () => {
  gw = await createTestGateway({ circuitCooldownMs: 300 });
});
afterAll(async () => {
  await gw?.close();
});

describe("failover between routers of one pool", () => {
  it("a router killed under load: requests fail over, nothing is charged twice, the pool recovers", async () => {
    let a = await startNode();
    const b = await startNode();
    const portA = a.router.port;
    try {
      const t = await createTenant(gw, {
        plan: "prepaid",
        targets: [{ url: a.router.url }, { url: b.router.url }],
      });
      await fundOrg(gw, t.orgId, 50_000_000n);
      const before = await gw.services.balance.snapshot(t.orgId);
      const ids = await targetIdsOf(t);
      const idA = ids.get(a.router.url);

      const results: Array<{ status: number; requestId: string; cost: string | null }> = [];
      let killed = false;
      const worker = async (n: number) => {
        for (let i = 0; i < n; i++) {
          if (!killed && results.length >= 20) {
            killed = true;
            await stopNode(a);
          }
          const res = await postJson(
            gw,
            "/v1/completions",
            { model: t.alias, prompt: `load ${i}`, max_tokens: 8 },
            t.key,
          );
          const body = await readJson(res);
          results.push({
            status: res.status,
            requestId: body.request_id,
            cost: body.data?.usage?.cost?.amount ?? null,
          });
        }
      };
      await Promise.all(Array.from({ length: 6 }, () => worker(12)));
      expect(killed).toBe(true);

      // Only clean outcomes: success, or an honest upstream error for work the dead router had
      // already accepted (never resubmitted, so never paid twice). Never a 500.
      const statuses = new Set(results.map((r) => r.status));
      for (const s of statuses) expect([200, 502, 503]).toContain(s);
      const ok = results.filter((r) => r.status === 200);
      expect(ok.length).toBeGreaterThanOrEqual(results.length - 8);

      const rows = await rowsOf(t.orgId);
      for (const r of ok) {
        const mine = rows.filter((row) => row.requestId === r.requestId);
        expect(mine).toHaveLength(1);
        expect(mine[0]?.status).toBe("ok");
      }
      expect(new Set(rows.map((r) => r.requestId)).size).toBe(rows.length);
      const charged = rows.reduce((sum, r) => sum + r.costMicros, 0n);
      const okCharged = rows
        .filter((r) => r.status === "ok")
        .reduce((sum, r) => sum + r.costMicros, 0n);
      expect(charged).toBe(okCharged);
      const after = await gw.services.balance.snapshot(t.orgId);
      expect(before.available - after.available).toBe(okCharged);

      // The router comes back on the same address: after the circuit's cooldown it gets work.
      a = await startNode(portA);
      // Poll (no fixed sleep for the cooldown): every request must succeed meanwhile, and A is
      // back in rotation well within the deadline.
      const servedBy = new Set<string>();
      const deadline = Date.now() + 15_000;
      for (let i = 0; Date.now() < deadline && !servedBy.has(idA ?? ""); i++) {
        const res = await postJson(
          gw,
          "/v1/completions",
          { model: t.alias, prompt: `after ${i}`, max_tokens: 4 },
          t.key,
        );
        const body = await readJson(res);
        expect(res.status).toBe(200);
        const row = (await rowsOf(t.orgId)).find((r) => r.requestId === body.request_id);
        if (row?.routerTargetId) servedBy.add(row.routerTargetId);
        if (!servedBy.has(idA ?? "")) await new Promise((r) => setTimeout(r, 25)); // poll pace
      }
      expect(servedBy.has(idA ?? "")).toBe(true);
    } finally {
      await stopNode(a).catch(() => {});
      await stopNode(b);
    }
  });

  it("a draining target receives no new work", async () => {
    const a = await startNode();
    const b = await startNode();
    try {
      const t = await createTenant(gw, {
        targets: [{ url: a.router.url, state: "draining" }, { url: b.router.url }],
      });
      const ids = await targetIdsOf(t);
      // Four at a time: the free plan's concurrency limit.
      const results: Response[] = [];
      for (let batch = 0; batch < 4; batch++) {
        results.push(
          ...(await Promise.all(
            Array.from({ length: 4 }, (_, i) =>
              postJson(
                gw,
                "/v1/completions",
                { model: t.alias, prompt: `d ${batch}.${i}`, max_tokens: 4 },
                t.key,
              ),
            ),
          )),
        );
      }
      expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
      const rows = await rowsOf(t.orgId);
      expect(rows).toHaveLength(16);
      expect(new Set(rows.map((r) => r.routerTargetId))).toEqual(new Set([ids.get(b.router.url)]));
    } finally {
      await stopNode(a);
      await stopNode(b);
    }
  });
});
