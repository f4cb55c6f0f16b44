import { auditLog, desc, eq, routerTargets } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPortUrl, startFakeRouter } from "../../testing/fake-router.js";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import {
  asUser,
  expectJson,
  makeOperator,
  type PortalSession,
  signUp,
} from "../../testing/portal.js";

let gw: TestGateway;
let op: PortalSession;
let statusRouter: Awaited<ReturnType<typeof startFakeRouter>>;
beforeAll(async () => {
  gw = await createTestGateway();
  op = await signUp(gw, "Operator");
  await makeOperator(gw, op.userId);
  // Only the status route matters here: a router reporting one connected miner.
  statusRouter = await startFakeRouter((req, _body, res) => {
    res.writeHead(req.url === "/api/v1/status" ? 200 : 404, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        status: "ok",
        version: "test",
        uptime_s: 1,
        miners: { connected: 1, idle: 1 },
        sessions: 1,
        tasks: { active: 0, total: 0 },
      }),
    );
  });
});
afterAll(async () => {
  await statusRouter.close();
  await gw.close();
});

interface HealthDetail {
  state: "healthy" | "unhealthy";
  consecutive_failures: number;
  circuit_open_until: string | null;
  last_check: { ok: boolean; at: string; reason: string | null } | null;
}
interface PoolsBody {
  data: Array<{
    id: string;
    name: string;
    targets: Array<{ id: string; url: string; health: string; health_detail: HealthDetail }>;
  }>;
}

async function poolByName(name: string) {
  const res = await asUser(gw, op, "GET", "/admin/api/pools");
  const pool = (await expectJson<PoolsBody>(res, 200)).data.find((p) => p.name === name);
  if (!pool) throw new Error(`pool ${name} missing`);
  return pool;
}

async function lastAudit(targetId: string) {
  const [row] = await gw.dbHandle.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.targetId, targetId))
    .orderBy(desc(auditLog.id))
    .limit(1);
  return row;
}

describe("live target health", () => {
  it("runs active checks on demand and shows the evidence: last check, failures, circuit", async () => {
    const down = await closedPortUrl();
    const t = await createTenant(gw, { targets: [{ url: statusRouter.url }, { url: down }] });
    const before = await poolByName(t.poolName);
    const up = before.targets.find((x) => x.url === statusRouter.url);
    const dead = before.targets.find((x) => x.url === down);
    if (!up || !dead) throw new Error("targets missing");
    expect(up.health_detail).toMatchObject({ state: "healthy", last_check: null });

    const ok = await expectJson<{ health: HealthDetail }>(
      await asUser(gw, op, "POST", `/admin/api/targets/${up.id}/check`),
      200,
    );
    expect(ok.health).toMatchObject({
      state: "healthy",
      consecutive_failures: 0,
      last_check: { ok: true, reason: null },
    });
    // Three failed checks open the circuit (the default threshold).
    for (let i = 0; i < 3; i++) {
      await expectJson(await asUser(gw, op, "POST", `/admin/api/targets/${dead.id}/check`), 200);
    }
    const after = await poolByName(t.poolName);
    expect(after.targets.find((x) => x.id === dead.id)).toMatchObject({
      health: "unhealthy",
      health_detail: {
        state: "unhealthy",
        consecutive_failures: 3,
        circuit_open_until: expect.any(String),
        last_check: { ok: false, reason: expect.stringMatching(/ECONNREFUSED/) },
      },
    });
    expect(after.targets.find((x) => x.id === up.id)?.health_detail.last_check?.ok).toBe(true);
    // The router key is never part of what operators see.
    expect(JSON.stringify(after)).not.toContain("routerKey");
    const missing = await asUser(gw, op, "POST", "/admin/api/targets/tgt_nope/check");
    expect(missing.status).toBe(404);
  });
});

describe("deleting pools and targets", () => {
  it("removes a target: audited, gone from routing", async () => {
    const t = await createTenant(gw, {
      targets: [{ url: "http://127.0.0.1:5991" }, { url: "http://127.0.0.1:5992" }],
    });
    const pool = await poolByName(t.poolName);
    const victim = pool.targets[0];
    if (!victim) throw new Error("target missing");
    const res = await asUser(gw, op, "DELETE", `/admin/api/targets/${victim.id}`);
    expect(res.status).toBe(204);
    const route = await gw.services.catalog.resolve(t.alias);
    expect(route?.pool.targets.map((x) => x.id)).not.toContain(victim.id);
    expect(route?.pool.targets).toHaveLength(1);
    expect(await lastAudit(victim.id)).toMatchObject({
      action: "target.deleted",
      actorKind: "operator",
      details: { url: victim.url },
    });
    const again = await asUser(gw, op, "DELETE", `/admin/api/targets/${victim.id}`);
    expect(await expectJson(again, 404)).toMatchObject({ error: { code: "not_found" } });
  });

  it("refuses to delete a pool that serves a model; deletes an unused one with its targets", async () => {
    const t = await createTenant(gw, { targets: [{ url: "http://127.0.0.1:5993" }] });
    const serving = await poolByName(t.poolName);
    const refused = await asUser(gw, op, "DELETE", `/admin/api/pools/${serving.id}`);
    expect(await expectJson(refused, 409)).toMatchObject({
      error: { code: "conflict", message: expect.stringContaining(t.alias) },
    });

    const name = `spare-${Date.now()}`;
    const pool = await expectJson<{ id: string }>(
      await asUser(gw, op, "POST", "/admin/api/pools", { name }),
      201,
    );
    const target = await expectJson<{ id: string }>(
      await asUser(gw, op, "POST", `/admin/api/pools/${pool.id}/targets`, {
        url: "http://127.0.0.1:5994",
        session_id: 1,
        router_key: "k",
      }),
      201,
    );
    expect((await asUser(gw, op, "DELETE", `/admin/api/pools/${pool.id}`)).status).toBe(204);
    const left = await gw.dbHandle.db
      .select()
      .from(routerTargets)
      .where(eq(routerTargets.id, target.id));
    expect(left).toEqual([]);
    expect((await gw.services.catalog.pools()).map((p) => p.id)).not.toContain(pool.id);
    expect(await lastAudit(pool.id)).toMatchObject({
      action: "pool.deleted",
      details: { name, targetsRemoved: [target.id] },
    });
    const missing = await asUser(gw, op, "DELETE", `/admin/api/pools/${pool.id}`);
    expect(missing.status).toBe(404);
  });
});
