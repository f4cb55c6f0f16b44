import type { ApiKeyView, CreatedKey } from "@portal/contracts";
import { and, apiKeys, auditLog, eq, memberships, usageEvents } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import { asUser, expectJson, type PortalSession, signUp } from "../../testing/portal.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

function keysPath(s: PortalSession, suffix = "") {
  return `/portal/api/orgs/${s.orgId}/keys${suffix}`;
}

async function createKey(s: PortalSession, body: Record<string, unknown> = { name: "ci" }) {
  return expectJson<CreatedKey>(await asUser(gw, s, "POST", keysPath(s), body), 201);
}

function models(key: string) {
  return gw.app.request("/v1/models", { headers: { authorization: `Bearer ${key}` } });
}

describe("API keys", () => {
  it("creates a key whose plaintext is shown once and works against the gateway", async () => {
    const s = await signUp(gw);
    const created = await createKey(s, { name: "server" });
    expect(created.plaintext).toMatch(/^cx_live_[1-9A-HJ-NP-Za-km-z]{40}$/);
    expect(created.key).toMatchObject({
      name: "server",
      status: "active",
      masked: `${created.plaintext.slice(0, 12)}…${created.plaintext.slice(-4)}`,
    });
    expect((await models(created.plaintext)).status).toBe(200);
    const list = await expectJson<{ data: ApiKeyView[] }>(
      await asUser(gw, s, "GET", keysPath(s)),
      200,
    );
    expect(list.data).toHaveLength(1);
    // The list never carries the plaintext or the hash.
    const text = JSON.stringify(list);
    expect(text).not.toContain(created.plaintext);
    const [row] = await gw.dbHandle.db.select().from(apiKeys).where(eq(apiKeys.id, created.key.id));
    expect(text).not.toContain(row?.keyHash);
    const audit = await gw.dbHandle.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, created.key.id), eq(auditLog.action, "key.created")));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: s.userId, orgId: s.orgId, actorKind: "user" });
  });

  it("shows last use from recorded usage", async () => {
    const s = await signUp(gw);
    const { key } = await createKey(s);
    const at = new Date(Date.now() - 60_000);
    await gw.dbHandle.db.insert(usageEvents).values({
      requestId: `req_lastused_${key.id}`,
      orgId: s.orgId,
      apiKeyId: key.id,
      modelAlias: "default",
      routerPool: "default",
      route: "/v1/completions",
      status: "ok",
      promptTokens: 1,
      completionTokens: 1,
      costMicros: 3n,
      latencyMs: 5,
      upstreamMs: 4,
      createdAt: at,
    });
    const list = await expectJson<{ data: ApiKeyView[] }>(
      await asUser(gw, s, "GET", keysPath(s)),
      200,
    );
    expect(list.data[0]?.last_used_at).toBe(at.toISOString());
  });

  it("sets per-key limits, only below the plan's", async () => {
    const s = await signUp(gw);
    const created = await createKey(s, { name: "limited", rpm_limit: 5, concurrency_limit: 2 });
    expect(created.key).toMatchObject({ rpm_limit: 5, concurrency_limit: 2, tpm_limit: null });
    const updated = await expectJson<ApiKeyView>(
      await asUser(gw, s, "PATCH", keysPath(s, `/${created.key.id}`), {
        rpm_limit: null,
        tpm_limit: 1000,
      }),
      200,
    );
    expect(updated).toMatchObject({ rpm_limit: null, tpm_limit: 1000, concurrency_limit: 2 });
    // An empty PATCH changes nothing and answers the key as it is (it was a 500).
    const unchanged = await expectJson<ApiKeyView>(
      await asUser(gw, s, "PATCH", keysPath(s, `/${created.key.id}`), {}),
      200,
    );
    expect(unchanged).toEqual(updated);
    // The free plan allows 20 requests/min per key.
    const tooHigh = await asUser(gw, s, "PATCH", keysPath(s, `/${created.key.id}`), {
      rpm_limit: 10_000,
    });
    expect(await expectJson(tooHigh, 400)).toMatchObject({
      error: { code: "invalid_request", details: { field: "rpm_limit", limit: 20 } },
    });
  });

  it("rolls a key: the new key works and the old one keeps working through the grace period", async () => {
    const s = await signUp(gw);
    const original = await createKey(s, { name: "rolling", rpm_limit: 7 });
    const rolled = await expectJson<CreatedKey & { old_key: ApiKeyView }>(
      await asUser(gw, s, "POST", keysPath(s, `/${original.key.id}/roll`), { grace_seconds: 3600 }),
      201,
    );
    expect(rolled.key).toMatchObject({
      name: "rolling",
      rpm_limit: 7,
      rolled_from_id: original.key.id,
      status: "active",
    });
    expect(rolled.old_key.status).toBe("rolling");
    expect(new Date(rolled.old_key.revoked_at ?? 0).getTime()).toBeGreaterThan(
      Date.now() + 3_500_000,
    );
    expect((await models(rolled.plaintext)).status).toBe(200);
    expect((await models(original.plaintext)).status).toBe(200);
    // Rolling the same key twice is refused; revoking ends the grace period at once.
    const twice = await asUser(gw, s, "POST", keysPath(s, `/${original.key.id}/roll`), {});
    expect(twice.status).toBe(400);
    await expectJson(await asUser(gw, s, "POST", keysPath(s, `/${original.key.id}/revoke`)), 200);
    const refused = await models(original.plaintext);
    expect(await expectJson(refused, 401)).toMatchObject({ error: { code: "key_revoked" } });
  });

  it("refuses a key that expires in the past, rolling an expired key, and control characters in names", async () => {
    const s = await signUp(gw);
    const past = await asUser(gw, s, "POST", keysPath(s), {
      name: "late",
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(await expectJson(past, 400)).toMatchObject({
      error: { code: "invalid_request", details: { field: "expires_at" } },
    });
    const original = await createKey(s, { name: "soon" });
    // It expires (as if time passed): a roll would only copy the expiry into a dead new key.
    await gw.dbHandle.db
      .update(apiKeys)
      .set({ expiresAt: new Date(Date.now() - 1_000) })
      .where(eq(apiKeys.id, original.key.id));
    const rolled = await asUser(gw, s, "POST", keysPath(s, `/${original.key.id}/roll`), {});
    expect(await expectJson(rolled, 400)).toMatchObject({
      error: { code: "invalid_request", message: expect.stringMatching(/usable key/) },
    });
    // Control characters, and invisible direction overrides that make a name read as another.
    for (const name of [
      "two\nlines",
      "tab\there",
      "nul\u0007bell",
      "prod\u202Egnp.exe",
      "ad\u2066min\u2069",
      "zero\u200Bwidth",
      "b\uFEFFom",
    ]) {
      const res = await asUser(gw, s, "POST", keysPath(s), { name });
      expect(await expectJson(res, 400), JSON.stringify(name)).toMatchObject({
        error: { code: "invalid_request", details: { issues: [{ path: "name" }] } },
      });
    }
    const emoji = await asUser(gw, s, "POST", keysPath(s), { name: "ci 👩‍👩‍👧 café " });
    expect(await expectJson(emoji, 201)).toMatchObject({ key: { name: "ci 👩‍👩‍👧 café" } });
    // Right-to-left text with its marks and joiners is a name like any other.
    const rtl = await asUser(gw, s, "POST", keysPath(s), { name: "מפתח\u200F ראשי" });
    expect(await expectJson(rtl, 201)).toMatchObject({ key: { name: "מפתח\u200F ראשי" } });
  });

  it("rolls with no grace: the old key is refused immediately", async () => {
    const s = await signUp(gw);
    const original = await createKey(s);
    expect((await models(original.plaintext)).status).toBe(200); // warm the key cache
    await expectJson(
      await asUser(gw, s, "POST", keysPath(s, `/${original.key.id}/roll`), { grace_seconds: 0 }),
      201,
    );
    expect((await models(original.plaintext)).status).toBe(401);
  });

  it("revokes a key and the gateway refuses it at once (cache invalidated)", async () => {
    const s = await signUp(gw);
    const created = await createKey(s);
    expect((await models(created.plaintext)).status).toBe(200);
    const revoked = await expectJson<ApiKeyView>(
      await asUser(gw, s, "POST", keysPath(s, `/${created.key.id}/revoke`)),
      200,
    );
    expect(revoked.status).toBe("revoked");
    expect(await expectJson(await models(created.plaintext), 401)).toMatchObject({
      error: { code: "key_revoked" },
    });
    // Revoking again keeps the first revocation time.
    const again = await expectJson<ApiKeyView>(
      await asUser(gw, s, "POST", keysPath(s, `/${created.key.id}/revoke`)),
      200,
    );
    expect(again.revoked_at).toBe(revoked.revoked_at);
  });

  it("lets members read keys but not manage them", async () => {
    const owner = await signUp(gw);
    const member = await signUp(gw);
    const { key } = await createKey(owner);
    await gw.dbHandle.db.insert(memberships).values({
      id: `mem_${key.id.slice(4)}`,
      orgId: owner.orgId,
      userId: member.userId,
      role: "member",
    });
    const asMember = { ...member, orgId: owner.orgId };
    expect((await asUser(gw, asMember, "GET", keysPath(asMember))).status).toBe(200);
    for (const [method, suffix, body] of [
      ["POST", "", { name: "nope" }],
      ["PATCH", `/${key.id}`, { name: "x" }],
      ["POST", `/${key.id}/roll`, {}],
      ["POST", `/${key.id}/revoke`, undefined],
    ] as const) {
      const res = await asUser(gw, asMember, method, keysPath(asMember, suffix), body);
      expect(await expectJson(res, 403), `${method} ${suffix}`).toMatchObject({
        error: { code: "forbidden" },
      });
    }
  });

  it("isolates tenants: org B's keys are 404 for org A's users", async () => {
    const a = await signUp(gw);
    const b = await signUp(gw);
    const bKey = await createKey(b);
    const tenantKey = await createTenant(gw); // a key created outside the portal
    for (const keyId of [bKey.key.id, tenantKey.keyId]) {
      for (const [method, suffix, body] of [
        ["PATCH", `/${keyId}`, { name: "stolen" }],
        ["POST", `/${keyId}/roll`, {}],
        ["POST", `/${keyId}/revoke`, undefined],
      ] as const) {
        const res = await asUser(gw, a, method, keysPath(a, suffix), body);
        expect(await expectJson(res, 404), `${method} ${suffix}`).toMatchObject({
          error: { code: "not_found" },
        });
      }
    }
    // Addressing org B directly is a 404 too, for reads and writes.
    const asAinB = { ...a, orgId: b.orgId };
    expect((await asUser(gw, asAinB, "GET", keysPath(asAinB))).status).toBe(404);
    expect((await asUser(gw, asAinB, "POST", keysPath(asAinB), { name: "x" })).status).toBe(404);
    expect((await models(bKey.plaintext)).status).toBe(200);
    const [row] = await gw.dbHandle.db.select().from(apiKeys).where(eq(apiKeys.id, bKey.key.id));
    expect(row).toMatchObject({ name: "ci", revokedAt: null });
  });
});
