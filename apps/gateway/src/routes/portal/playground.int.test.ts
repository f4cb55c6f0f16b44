import type { CreatedKey } from "@portal/contracts";
import { and, auditLog, eq, memberships } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestGateway, type TestGateway } from "../../testing/harness.js";
import { asUser, expectJson, type PortalSession, signUp } from "../../testing/portal.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

const mintPath = (s: Pick<PortalSession, "orgId">) => `/portal/api/orgs/${s.orgId}/playground-key`;

describe("playground keys", () => {
  it("mints a short-lived, tightly limited, audited key that works against the gateway", async () => {
    const s = await signUp(gw);
    const before = Date.now();
    const res = await asUser(gw, s, "POST", mintPath(s));
    expect(res.headers.get("cache-control")).toBe("no-store");
    const created = await expectJson<CreatedKey>(res, 201);
    expect(created.plaintext).toMatch(/^cx_live_/);
    expect(created.key).toMatchObject({
      name: "Playground (15 min)",
      status: "active",
      rpm_limit: 10,
      concurrency_limit: 1,
    });
    const expires = Date.parse(created.key.expires_at ?? "");
    expect(expires - before).toBeGreaterThan(14 * 60_000);
    expect(expires - before).toBeLessThanOrEqual(15 * 60_000 + 5_000);
    const models = await gw.app.request("/v1/models", {
      headers: { authorization: `Bearer ${created.plaintext}` },
    });
    expect(models.status).toBe(200);
    const audit = await gw.dbHandle.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, created.key.id), eq(auditLog.action, "key.created")));
    expect(audit[0]).toMatchObject({ orgId: s.orgId, actorId: s.userId });
  });

  it("needs a session and the CSRF token", async () => {
    const s = await signUp(gw);
    const anon = await gw.app.request(mintPath(s), { method: "POST" });
    expect(await expectJson(anon, 401)).toMatchObject({ error: { code: "unauthorized" } });
    const noCsrf = await asUser(gw, s, "POST", mintPath(s), undefined, { csrf: false });
    expect(noCsrf.status).toBe(403);
  });

  it("is for owners and admins: members are refused, other tenants get 404", async () => {
    const owner = await signUp(gw);
    const member = await signUp(gw);
    await gw.dbHandle.db.insert(memberships).values({
      id: `mem_${member.userId.slice(4)}`,
      orgId: owner.orgId,
      userId: member.userId,
      role: "member",
    });
    const asMember = { ...member, orgId: owner.orgId };
    expect(
      await expectJson(await asUser(gw, asMember, "POST", mintPath(asMember)), 403),
    ).toMatchObject({ error: { code: "forbidden" } });
    const stranger = await signUp(gw);
    const res = await asUser(gw, stranger, "POST", mintPath(owner));
    expect(await expectJson(res, 404)).toMatchObject({ error: { code: "not_found" } });
  });
});
