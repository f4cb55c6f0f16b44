import { newId } from "@portal/contracts";
import { auditLog, desc, eq, requestLogs, routerTargets, usageEvents } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
beforeAll(async () => {
  gw = await createTestGateway();
  op = await signUp(gw, "Operator");
  await makeOperator(gw, op.userId);
});
afterAll(() => gw.close());

function models(key: string) {
  return gw.app.request("/v1/models", { headers: { authorization: `Bearer ${key}` } });
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

describe("operator access", () => {
  it("hides the operator API from customers (404) and needs a session (401)", async () => {
    const customer = await signUp(gw);
    for (const [method, path, body] of [
      ["GET", "/admin/api/orgs", undefined],
      ["GET", "/admin/api/models", undefined],
      ["POST", "/admin/api/pools", { name: "x" }],
      ["POST", `/admin/api/orgs/${customer.orgId}/disable`, { reason: "x" }],
      ["GET", "/admin/api/audit", undefined],
    ] as const) {
      const res = await asUser(gw, customer, method, path, body);
      expect(await expectJson(res, 404), `${method} ${path}`).toMatchObject({
        error: { code: "not_found" },
      });
      const anon = await gw.app.request(path, { method });
      expect(anon.status, `${method} ${path}`).toBe(401);
    }
  });

  it("requires the CSRF token for operator mutations too", async () => {
    const res = await asUser(gw, op, "POST", "/admin/api/pools", { name: "csrf" }, { csrf: false });
    expect(res.status).toBe(403);
  });
});

describe("orgs and keys", () => {
  it("disables and re-enables an org; its keys stop and start working at once", async () => {
    const t = await createTenant(gw);
    expect((await models(t.key)).status).toBe(200);
    const listed = await expectJson<{ data: Array<{ id: string }> }>(
      await asUser(gw, op, "GET", `/admin/api/orgs?q=${t.orgId}`),
      200,
    );
    expect(listed.data.map((o) => o.id)).toEqual([t.orgId]);
    for (const reason of ["bell\u0007", "over\u202Eride"]) {
      const refused = await asUser(gw, op, "POST", `/admin/api/orgs/${t.orgId}/disable`, {
        reason,
      });
      expect(await expectJson(refused, 400), reason).toMatchObject({
        error: { code: "invalid_request" },
      });
    }
    const disabled = await expectJson(
      await asUser(gw, op, "POST", `/admin/api/orgs/${t.orgId}/disable`, { reason: "abuse" }),
      200,
    );
    expect(disabled).toMatchObject({ org: { status: "disabled", disabled_reason: "abuse" } });
    expect(await expectJson(await models(t.key), 403)).toMatchObject({
      error: { code: "account_disabled" },
    });
    expect(await lastAudit(t.orgId)).toMatchObject({
      action: "org.disabled",
      actorKind: "operator",
      actorId: op.userId,
      details: { reason: "abuse" },
    });
    await expectJson(await asUser(gw, op, "POST", `/admin/api/orgs/${t.orgId}/enable`), 200);
    expect((await models(t.key)).status).toBe(200);
  });

  it("changes an org's plan", async () => {
    const t = await createTenant(gw);
    const res = await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/orgs/${t.orgId}`, { plan: "prepaid" }),
      200,
    );
    expect(res).toMatchObject({ org: { plan: { slug: "prepaid" } } });
    expect(await lastAudit(t.orgId)).toMatchObject({ action: "org.plan_changed" });
    const unknown = await asUser(gw, op, "PATCH", `/admin/api/orgs/${t.orgId}`, { plan: "gold" });
    expect(unknown.status).toBe(404);
    const missing = await asUser(gw, op, "PATCH", "/admin/api/orgs/org_nope", { plan: "free" });
    expect(missing.status).toBe(404);
  });

  it("disables a key", async () => {
    const t = await createTenant(gw);
    expect((await models(t.key)).status).toBe(200);
    const keys = await expectJson<{ data: Array<{ id: string }> }>(
      await asUser(gw, op, "GET", `/admin/api/keys?org_id=${t.orgId}`),
      200,
    );
    expect(keys.data.map((k) => k.id)).toEqual([t.keyId]);
    const res = await expectJson(
      await asUser(gw, op, "POST", `/admin/api/keys/${t.keyId}/disabled`, { disabled: true }),
      200,
    );
    expect(res).toMatchObject({ status: "disabled" });
    expect((await models(t.key)).status).toBe(403);
    expect(await lastAudit(t.keyId)).toMatchObject({ action: "key.disabled" });
    await asUser(gw, op, "POST", `/admin/api/keys/${t.keyId}/disabled`, { disabled: false });
    expect((await models(t.key)).status).toBe(200);
  });

  it("shows an org with its members and keys", async () => {
    const s = await signUp(gw);
    const detail = await expectJson<{ members: Array<{ email: string }>; keys: unknown[] }>(
      await asUser(gw, op, "GET", `/admin/api/orgs/${s.orgId}`),
      200,
    );
    expect(detail.members.map((m) => m.email)).toEqual([s.email]);
    expect(detail.keys).toEqual([]);
  });
});

describe("models, pools and targets", () => {
  it("creates a pool, a target and a model; edits prices and access; the gateway sees it", async () => {
    const t = await createTenant(gw);
    const name = `pool-${Date.now()}`;
    const pool = await expectJson<{ id: string }>(
      await asUser(gw, op, "POST", "/admin/api/pools", { name }),
      201,
    );
    const dup = await asUser(gw, op, "POST", "/admin/api/pools", { name });
    expect(dup.status).toBe(409);
    const target = await expectJson<{ id: string; has_router_key: boolean }>(
      await asUser(gw, op, "POST", `/admin/api/pools/${pool.id}/targets`, {
        url: "http://127.0.0.1:5999/",
        session_id: 3,
        router_key: "secret-router-key",
        weight: 2,
      }),
      201,
    );
    expect(target).toMatchObject({ has_router_key: true });
    expect(JSON.stringify(target)).not.toContain("secret-router-key");
    const [stored] = await gw.dbHandle.db
      .select()
      .from(routerTargets)
      .where(eq(routerTargets.id, target.id));
    expect(stored?.routerKeyCiphertext).not.toContain("secret-router-key");
    expect(gw.services.secrets.decrypt(stored?.routerKeyCiphertext ?? "")).toBe(
      "secret-router-key",
    );

    const alias = `m-${Date.now()}`;
    const model = await expectJson<{ id: string }>(
      await asUser(gw, op, "POST", "/admin/api/models", {
        alias,
        pool_id: pool.id,
        display_name: "Test model",
        prompt_template: "<s>{prompt}</s>",
        context_length: 4096,
        default_max_tokens: 128,
        max_max_tokens: 1024,
        input_price_micros: 500_000,
        output_price_micros: "1500000",
        visibility: "restricted",
      }),
      201,
    );
    const ids = async () =>
      ((await (await models(t.key)).json()) as { data: Array<{ id: string }> }).data.map(
        (m) => m.id,
      );
    // Restricted: invisible until allowed for the org's plan.
    expect(await ids()).not.toContain(alias);
    const allow = await expectJson<{ id: string }>(
      await asUser(gw, op, "PUT", `/admin/api/models/${model.id}/access`, {
        plan_id: gw.planIds.get("free"),
        allowed: true,
      }),
      200,
    );
    expect(await ids()).toContain(alias);
    // An org rule overrides the plan rule.
    await expectJson(
      await asUser(gw, op, "PUT", `/admin/api/models/${model.id}/access`, {
        org_id: t.orgId,
        allowed: false,
      }),
      200,
    );
    expect(await ids()).not.toContain(alias);
    const both = await asUser(gw, op, "PUT", `/admin/api/models/${model.id}/access`, {
      org_id: t.orgId,
      plan_id: "x",
      allowed: true,
    });
    expect(both.status).toBe(400);
    // A rule for a plan or org that does not exist: 404 naming it (it was a 500).
    for (const [scope, resource] of [
      [{ plan_id: "plan_nope" }, "plan"],
      [{ org_id: "org_nope" }, "organization"],
    ] as const) {
      const r = await asUser(gw, op, "PUT", `/admin/api/models/${model.id}/access`, {
        ...scope,
        allowed: true,
      });
      expect(await expectJson(r, 404)).toMatchObject({
        error: { code: "not_found", details: { resource } },
      });
    }
    const del = await asUser(gw, op, "DELETE", `/admin/api/models/${model.id}/access/${allow.id}`);
    expect(del.status).toBe(204);

    const edited = await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/models/${model.id}`, {
        input_price_micros: 700_000,
        prompt_template: "[INST]{prompt}[/INST]",
        max_max_tokens: 2048,
      }),
      200,
    );
    expect(edited).toMatchObject({
      input_price_micros: "700000",
      output_price_micros: "1500000",
      prompt_template: "[INST]{prompt}[/INST]",
      max_max_tokens: 2048,
    });
    const route = await gw.services.catalog.resolve(alias);
    expect(route?.model.inputPriceMicros).toBe(700_000n);
    const badTemplate = await asUser(gw, op, "PATCH", `/admin/api/models/${model.id}`, {
      prompt_template: "no placeholder",
    });
    expect(badTemplate.status).toBe(400);
    const tooBig = await asUser(gw, op, "PATCH", `/admin/api/models/${model.id}`, {
      max_max_tokens: 100_000,
    });
    expect(tooBig.status).toBe(400);
    const taken = await asUser(gw, op, "POST", "/admin/api/models", {
      alias,
      pool_id: pool.id,
      display_name: "dup",
      context_length: 10,
      default_max_tokens: 1,
      max_max_tokens: 1,
      input_price_micros: 0,
      output_price_micros: 0,
    });
    expect(taken.status).toBe(409);
    const listed = await expectJson<{ data: Array<{ id: string; access: unknown[] }> }>(
      await asUser(gw, op, "GET", "/admin/api/models"),
      200,
    );
    expect(listed.data.find((m) => m.id === model.id)?.access).toHaveLength(1);
  });

  it("drains, re-weights and disables a target; the routing table follows", async () => {
    const t = await createTenant(gw, { targets: [{ url: "http://127.0.0.1:5998" }] });
    const pools = await expectJson<{
      data: Array<{ name: string; targets: Array<{ id: string; state: string; health: string }> }>;
    }>(await asUser(gw, op, "GET", "/admin/api/pools"), 200);
    const target = pools.data.find((p) => p.name === t.poolName)?.targets[0];
    if (!target) throw new Error("target missing");
    expect(target).toMatchObject({ state: "active", health: expect.stringMatching(/healthy/) });
    for (const patch of [{ state: "draining" }, { weight: 5 }, { state: "disabled" }] as const) {
      await expectJson(
        await asUser(gw, op, "PATCH", `/admin/api/targets/${target.id}`, patch),
        200,
      );
    }
    const route = await gw.services.catalog.resolve(t.alias);
    expect(route?.pool.targets[0]).toMatchObject({ state: "disabled", weight: 5 });
    expect(await lastAudit(target.id)).toMatchObject({
      action: "target.updated",
      details: { state: "disabled" },
    });
    const health = await expectJson<{ pools: Array<{ name: string; healthy: number }> }>(
      await gw.app.request("/health"),
      200,
    );
    expect(health.pools.find((p) => p.name === t.poolName)).toMatchObject({ healthy: 0 });
    const missing = await asUser(gw, op, "PATCH", "/admin/api/targets/tgt_nope", { weight: 1 });
    expect(missing.status).toBe(404);
  });
});

describe("support", () => {
  it("looks a request up by id", async () => {
    const requestId = newId("req");
    const now = new Date();
    await gw.dbHandle.db.insert(requestLogs).values({
      requestId,
      orgId: "org_x",
      apiKeyId: "key_x",
      method: "POST",
      route: "/v1/completions",
      httpStatus: 200,
      modelAlias: "default",
      latencyMs: 10,
      createdAt: now,
    });
    await gw.dbHandle.db.insert(usageEvents).values({
      requestId,
      orgId: "org_x",
      apiKeyId: "key_x",
      modelAlias: "default",
      routerPool: "default",
      route: "/v1/completions",
      status: "ok",
      promptTokens: 3,
      completionTokens: 4,
      costMicros: 11n,
      latencyMs: 10,
      upstreamMs: 8,
      createdAt: now,
    });
    const res = await expectJson(
      await asUser(gw, op, "GET", `/admin/api/requests/${requestId}`),
      200,
    );
    expect(res).toMatchObject({
      request_id: requestId,
      request_log: { http_status: 200, route: "/v1/completions" },
      usage_event: { prompt_tokens: 3, completion_tokens: 4, cost_micros: "11" },
    });
    const missing = await asUser(gw, op, "GET", `/admin/api/requests/${newId("req")}`);
    expect(missing.status).toBe(404);
  });

  it("lists the audit log newest first, per org, with paging", async () => {
    const s = await signUp(gw);
    await asUser(gw, s, "POST", `/portal/api/orgs/${s.orgId}/keys`, { name: "a" });
    await asUser(gw, s, "POST", `/portal/api/orgs/${s.orgId}/keys`, { name: "b" });
    const page = await expectJson<{ data: Array<{ id: string; action: string }> }>(
      await asUser(gw, op, "GET", `/admin/api/audit?org_id=${s.orgId}&limit=2`),
      200,
    );
    expect(page.data.map((a) => a.action)).toEqual(["key.created", "key.created"]);
    const next = await expectJson<{ data: Array<{ action: string }> }>(
      await asUser(gw, op, "GET", `/admin/api/audit?org_id=${s.orgId}&before=${page.data[1]?.id}`),
      200,
    );
    expect(next.data.map((a) => a.action)).toEqual(["org.created"]);
  });
});

describe("query strings", () => {
  const bad = async (path: string, param: string, message: RegExp, session = op) => {
    const body = await expectJson<{
      error: { code: string; message: string; details: { issues: Array<{ path: string }> } };
    }>(await asUser(gw, session, "GET", path), 400);
    expect(body.error.code, path).toBe("invalid_request");
    expect(body.error.message, path).toMatch(new RegExp(`^Invalid query: ${param}: `));
    expect(body.error.message, path).toMatch(message);
    expect(body.error.details.issues[0]?.path, path).toBe(param);
  };

  it("refuses a bad parameter naming it, on every operator and console query", async () => {
    const s = await signUp(gw);
    await bad("/admin/api/billing/reconciliation?from=2026-02-30", "from", /date/i);
    await bad("/admin/api/billing/reconciliation?to=2026-13-01", "to", /date/i);
    await bad(
      "/admin/api/billing/reconciliation?from=2026-03-02&to=2026-03-01",
      "from",
      /from must not be after to/,
    );
    await bad("/admin/api/billing/reconciliation?from=2999-01-01", "from", /after today/);
    await bad(`/admin/api/orgs?q=${"x".repeat(201)}`, "q", /200/);
    await bad(`/admin/api/keys?org_id=${"x".repeat(201)}`, "org_id", /200/);
    await bad("/admin/api/audit?limit=abc", "limit", /number/);
    await bad("/admin/api/users?limit=0", "limit", /1/);
    await bad("/admin/api/billing/exports/usage?from=2026-02-30&to=2026-03-01", "from", /date/i);
    await bad(`/admin/api/orgs/${s.orgId}/billing/statement?month=2026-13`, "month", /YYYY-MM/);
    await bad(`/portal/api/orgs/${s.orgId}/usage?days=91`, "days", /90/, s);
  });

  it("reads a reconciliation range as whole UTC days, and defaults to the last two days", async () => {
    const t = await createTenant(gw);
    const day = await expectJson<{ from: string; to: string; meter: unknown[] }>(
      await asUser(
        gw,
        op,
        "GET",
        `/admin/api/billing/reconciliation?from=2024-02-29&to=2024-02-29&org_id=${t.orgId}`,
      ),
      200,
    );
    expect([day.from, day.to]).toEqual(["2024-02-29T00:00:00.000Z", "2024-03-01T00:00:00.000Z"]);
    expect(day.meter).toEqual([]);
    const named = await expectJson<{ from: string; to: string }>(
      await asUser(gw, op, "GET", "/admin/api/billing/reconciliation?to=2026-03-10"),
      200,
    );
    expect([named.from, named.to]).toEqual([
      "2026-03-08T00:00:00.000Z",
      "2026-03-11T00:00:00.000Z",
    ]);
    const before = Date.now();
    const recent = await expectJson<{ from: string; to: string }>(
      await asUser(gw, op, "GET", "/admin/api/billing/reconciliation"),
      200,
    );
    const to = Date.parse(recent.to);
    expect(to).toBeGreaterThanOrEqual(before);
    expect(to - Date.parse(recent.from)).toBe(2 * 86_400_000);
  });
});
