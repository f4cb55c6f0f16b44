import { newId } from "@portal/contracts";
import { auditLog, desc, eq, plans } from "@portal/db";
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

async function lastAudit(targetId: string) {
  const [row] = await gw.dbHandle.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.targetId, targetId))
    .orderBy(desc(auditLog.id))
    .limit(1);
  return row;
}

describe("users", () => {
  it("finds users with their orgs and roles", async () => {
    const s = await signUp(gw, "Findable Person");
    const res = await expectJson<{ data: Array<Record<string, unknown>> }>(
      await asUser(gw, op, "GET", `/admin/api/users?q=${encodeURIComponent(s.email)}`),
      200,
    );
    expect(res.data).toHaveLength(1);
    expect(res.data[0]).toMatchObject({
      id: s.userId,
      email: s.email,
      name: "Findable Person",
      status: "active",
      is_operator: false,
      orgs: [{ id: s.orgId, role: "owner" }],
    });
    expect(JSON.stringify(res)).not.toContain("password_hash");
    const bad = await asUser(gw, op, "GET", "/admin/api/users?limit=0");
    expect(await expectJson(bad, 400)).toMatchObject({ error: { code: "invalid_request" } });
  });

  it("disables a user: their live session ends at once and sign-in is refused", async () => {
    const s = await signUp(gw);
    expect((await asUser(gw, s, "GET", "/portal/api/me")).status).toBe(200);
    const updated = await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/users/${s.userId}`, { status: "disabled" }),
      200,
    );
    expect(updated).toMatchObject({ id: s.userId, status: "disabled" });
    expect((await asUser(gw, s, "GET", "/portal/api/me")).status).toBe(401);
    const signIn = await gw.app.request("/portal/api/auth/sign-in", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: s.email, password: s.password }),
    });
    expect(signIn.status).toBe(401);
    expect(await lastAudit(s.userId)).toMatchObject({
      action: "user.updated",
      actorKind: "operator",
      actorId: op.userId,
      details: { status: "disabled" },
    });
    await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/users/${s.userId}`, { status: "active" }),
      200,
    );
  });

  it("grants the operator role; operators cannot disable or demote themselves", async () => {
    const s = await signUp(gw);
    expect((await asUser(gw, s, "GET", "/admin/api/orgs")).status).toBe(404);
    await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/users/${s.userId}`, { is_operator: true }),
      200,
    );
    expect((await asUser(gw, s, "GET", "/admin/api/orgs")).status).toBe(200);
    for (const body of [{ is_operator: false }, { status: "disabled" }]) {
      const res = await asUser(gw, s, "PATCH", `/admin/api/users/${s.userId}`, body);
      expect(await expectJson(res, 400), JSON.stringify(body)).toMatchObject({
        error: { code: "invalid_request" },
      });
    }
    await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/users/${s.userId}`, { is_operator: false }),
      200,
    );
    expect((await asUser(gw, s, "GET", "/admin/api/orgs")).status).toBe(404);
  });

  it("validates the body and answers 404 for unknown users", async () => {
    const empty = await asUser(gw, op, "PATCH", `/admin/api/users/${op.userId}`, {});
    expect(empty.status).toBe(400);
    const extra = await asUser(gw, op, "PATCH", `/admin/api/users/${op.userId}`, { role: "x" });
    expect(extra.status).toBe(400);
    const missing = await asUser(gw, op, "PATCH", "/admin/api/users/usr_nope", {
      status: "active",
    });
    expect(await expectJson(missing, 404)).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("plans", () => {
  it("edits a plan's limits; keys of orgs on it get the new limits at once", async () => {
    const slug = `test-${newId("plan").slice(-8).toLowerCase()}`;
    const planId = newId("plan");
    await gw.dbHandle.db.insert(plans).values({
      id: planId,
      slug,
      name: "Test plan",
      billingMode: "free",
      requestsPerMinuteKey: 60,
      requestsPerMinuteOrg: 120,
      tokensPerMinuteOrg: 100_000,
      maxConcurrentPerKey: 4,
      weeklyRequestAllowance: 1000,
    });
    const t = await createTenant(gw);
    await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/orgs/${t.orgId}`, { plan: slug }),
      200,
    );
    const usage = async () =>
      (
        await expectJson<{
          data: { limits: Array<{ scope: string; limit: number }>; weekly_allowance: unknown };
        }>(
          await gw.app.request("/v1/usage", { headers: { authorization: `Bearer ${t.key}` } }),
          200,
        )
      ).data;
    const limitOf = (u: Awaited<ReturnType<typeof usage>>, scope: string) =>
      u.limits.find((l) => l.scope === scope)?.limit;
    expect(limitOf(await usage(), "key_requests_per_minute")).toBe(60); // now cached
    const edited = await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/plans/${planId}`, {
        requests_per_minute_key: 7,
        weekly_request_allowance: null,
      }),
      200,
    );
    expect(edited).toMatchObject({
      slug,
      requests_per_minute_key: 7,
      requests_per_minute_org: 120,
      weekly_request_allowance: null,
    });
    const after = await usage();
    expect(limitOf(after, "key_requests_per_minute")).toBe(7);
    expect(after.weekly_allowance).toBeNull();
    expect(await lastAudit(planId)).toMatchObject({
      action: "plan.updated",
      details: { slug, changes: { requestsPerMinuteKey: { from: 60, to: 7 } } },
    });
    const listed = await expectJson<{ data: Array<{ id: string }> }>(
      await asUser(gw, op, "GET", "/admin/api/plans"),
      200,
    );
    expect(listed.data.map((p) => p.id)).toContain(planId);
  });

  it("caps a key's override at the plan's limit when the org moves to a smaller plan", async () => {
    const slug = `small-${newId("plan").slice(-8).toLowerCase()}`;
    await gw.dbHandle.db.insert(plans).values({
      id: newId("plan"),
      slug,
      name: "Small plan",
      billingMode: "free",
      requestsPerMinuteKey: 5,
      requestsPerMinuteOrg: 10,
      tokensPerMinuteOrg: 1_000,
      maxConcurrentPerKey: 2,
      weeklyRequestAllowance: null,
    });
    // Overrides set under a roomier plan (the console refuses ones above the plan at the time).
    const t = await createTenant(gw, {
      key: { rpmLimit: 300, tpmLimit: 1_000_000, concurrencyLimit: 50 },
    });
    await expectJson(
      await asUser(gw, op, "PATCH", `/admin/api/orgs/${t.orgId}`, { plan: slug }),
      200,
    );
    const usage = await expectJson<{ data: { limits: Array<{ scope: string; limit: number }> } }>(
      await gw.app.request("/v1/usage", { headers: { authorization: `Bearer ${t.key}` } }),
      200,
    );
    const limits = Object.fromEntries(usage.data.limits.map((l) => [l.scope, l.limit]));
    expect(limits).toMatchObject({
      key_requests_per_minute: 5,
      key_tokens_per_minute: 1_000,
      key_concurrency: 2,
    });
  });

  it("refuses empty, out-of-range and unknown plan edits", async () => {
    const planId = gw.planIds.get("free") ?? "";
    for (const body of [{}, { requests_per_minute_key: 0 }, { billing_mode: "prepaid" }]) {
      const res = await asUser(gw, op, "PATCH", `/admin/api/plans/${planId}`, body);
      expect(await expectJson(res, 400), JSON.stringify(body)).toMatchObject({
        error: { code: "invalid_request" },
      });
    }
    const missing = await asUser(gw, op, "PATCH", "/admin/api/plans/plan_nope", { name: "x" });
    expect(missing.status).toBe(404);
  });
});

describe("operator-only", () => {
  it("hides the user and plan routes from org owners, admins and members (404)", async () => {
    const owner = await signUp(gw);
    for (const [method, path, body] of [
      ["GET", "/admin/api/users", undefined],
      ["PATCH", `/admin/api/users/${owner.userId}`, { is_operator: true }],
      ["PATCH", `/admin/api/plans/${gw.planIds.get("free")}`, { name: "hacked" }],
      ["DELETE", "/admin/api/pools/pool_x", undefined],
      ["DELETE", "/admin/api/targets/tgt_x", undefined],
      ["POST", "/admin/api/targets/tgt_x/check", undefined],
    ] as const) {
      const res = await asUser(gw, owner, method, path, body);
      expect(await expectJson(res, 404), `${method} ${path}`).toMatchObject({
        error: { code: "not_found" },
      });
    }
  });
});
