import type { MembershipView, UsageResponse } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistUsageBatch } from "../../services/usage/persist.js";
import {
  createTenant,
  createTestGateway,
  denyModel,
  type TestGateway,
} from "../../testing/harness.js";
import { asUser, expectJson, type PortalSession, signUp } from "../../testing/portal.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

interface Member {
  id: string;
  user_id: string;
  role: string;
}

async function invite(owner: PortalSession, who: PortalSession, role = "member") {
  const inv = await expectJson<{ token: string; invitation: { id: string } }>(
    await asUser(gw, owner, "POST", `/portal/api/orgs/${owner.orgId}/invitations`, {
      email: who.email,
      role,
    }),
    201,
  );
  const joined = await expectJson<MembershipView>(
    await asUser(gw, who, "POST", "/portal/api/me/invitations/accept", { token: inv.token }),
    200,
  );
  return { inv, joined };
}

async function members(s: PortalSession, orgId = s.orgId) {
  return (
    await expectJson<{ data: Member[] }>(
      await asUser(gw, s, "GET", `/portal/api/orgs/${orgId}/members`),
      200,
    )
  ).data;
}

describe("orgs, members and invitations", () => {
  it("creates, lists and renames orgs", async () => {
    const s = await signUp(gw);
    const created = await expectJson<MembershipView>(
      await asUser(gw, s, "POST", "/portal/api/orgs", { name: "Second" }),
      201,
    );
    expect(created).toMatchObject({ role: "owner", org: { name: "Second", status: "active" } });
    const list = await expectJson<{ data: MembershipView[] }>(
      await asUser(gw, s, "GET", "/portal/api/orgs"),
      200,
    );
    expect(list.data.map((m) => m.org.id)).toEqual([s.orgId, created.org.id]);
    const renamed = await expectJson<MembershipView>(
      await asUser(gw, s, "PATCH", `/portal/api/orgs/${created.org.id}`, { name: "Renamed" }),
      200,
    );
    expect(renamed.org.name).toBe("Renamed");
  });

  it("invites by email; only the invited email can accept, once", async () => {
    const owner = await signUp(gw);
    const invitee = await signUp(gw);
    const stranger = await signUp(gw);
    const inv = await expectJson<{ token: string; invitation: { id: string } }>(
      await asUser(gw, owner, "POST", `/portal/api/orgs/${owner.orgId}/invitations`, {
        email: invitee.email,
        role: "admin",
      }),
      201,
    );
    const pending = await expectJson<{ data: Array<{ email: string }> }>(
      await asUser(gw, owner, "GET", `/portal/api/orgs/${owner.orgId}/invitations`),
      200,
    );
    expect(pending.data.map((p) => p.email)).toEqual([invitee.email]);
    const wrongUser = await asUser(gw, stranger, "POST", "/portal/api/me/invitations/accept", {
      token: inv.token,
    });
    expect(wrongUser.status).toBe(404);
    const joined = await expectJson<MembershipView>(
      await asUser(gw, invitee, "POST", "/portal/api/me/invitations/accept", { token: inv.token }),
      200,
    );
    expect(joined).toMatchObject({ role: "admin", org: { id: owner.orgId } });
    const twice = await asUser(gw, invitee, "POST", "/portal/api/me/invitations/accept", {
      token: inv.token,
    });
    expect(twice.status).toBe(404);
    expect((await members(owner)).map((m) => m.role).sort()).toEqual(["admin", "owner"]);
  });

  it("a second invitation to a member is refused on accept and stays open", async () => {
    const owner = await signUp(gw);
    const invitee = await signUp(gw);
    const asOwner = await expectJson<{ token: string; invitation: { id: string } }>(
      await asUser(gw, owner, "POST", `/portal/api/orgs/${owner.orgId}/invitations`, {
        email: invitee.email,
        role: "owner",
      }),
      201,
    );
    await invite(owner, invitee, "member");
    const second = await asUser(gw, invitee, "POST", "/portal/api/me/invitations/accept", {
      token: asOwner.token,
    });
    expect(await expectJson(second, 409)).toMatchObject({ error: { code: "conflict" } });
    // The role is what the member accepted; the owner invitation was not consumed.
    const roles = (await members(owner)).map((m) => [m.user_id, m.role]);
    expect(roles).toContainEqual([invitee.userId, "member"]);
    const pending = await expectJson<{ data: Array<{ id: string }> }>(
      await asUser(gw, owner, "GET", `/portal/api/orgs/${owner.orgId}/invitations`),
      200,
    );
    expect(pending.data.map((p) => p.id)).toContain(asOwner.invitation.id);
  });

  it("revokes invitations", async () => {
    const owner = await signUp(gw);
    const invitee = await signUp(gw);
    const inv = await expectJson<{ token: string; invitation: { id: string } }>(
      await asUser(gw, owner, "POST", `/portal/api/orgs/${owner.orgId}/invitations`, {
        email: invitee.email,
      }),
      201,
    );
    const del = await asUser(
      gw,
      owner,
      "DELETE",
      `/portal/api/orgs/${owner.orgId}/invitations/${inv.invitation.id}`,
    );
    expect(del.status).toBe(204);
    const res = await asUser(gw, invitee, "POST", "/portal/api/me/invitations/accept", {
      token: inv.token,
    });
    expect(res.status).toBe(404);
  });

  it("enforces roles: members cannot invite; admins cannot touch owners; one owner stays", async () => {
    const owner = await signUp(gw);
    const admin = await signUp(gw);
    const member = await signUp(gw);
    await invite(owner, admin, "admin");
    await invite(owner, member, "member");
    const inOrg = (s: PortalSession) => ({ ...s, orgId: owner.orgId });
    const memberInvite = await asUser(
      gw,
      inOrg(member),
      "POST",
      `/portal/api/orgs/${owner.orgId}/invitations`,
      { email: "x@example.com" },
    );
    expect(await expectJson(memberInvite, 403)).toMatchObject({ error: { code: "forbidden" } });
    const adminOwnerInvite = await asUser(
      gw,
      inOrg(admin),
      "POST",
      `/portal/api/orgs/${owner.orgId}/invitations`,
      { email: "y@example.com", role: "owner" },
    );
    expect(adminOwnerInvite.status).toBe(403);
    const list = await members(owner);
    const ownerRow = list.find((m) => m.user_id === owner.userId);
    const memberRow = list.find((m) => m.user_id === member.userId);
    if (!ownerRow || !memberRow) throw new Error("members missing");
    // Only owners change roles.
    const adminPromotes = await asUser(
      gw,
      inOrg(admin),
      "PATCH",
      `/portal/api/orgs/${owner.orgId}/members/${memberRow.id}`,
      { role: "admin" },
    );
    expect(adminPromotes.status).toBe(403);
    const adminRemovesOwner = await asUser(
      gw,
      inOrg(admin),
      "DELETE",
      `/portal/api/orgs/${owner.orgId}/members/${ownerRow.id}`,
    );
    expect(adminRemovesOwner.status).toBe(403);
    const lastOwner = await asUser(
      gw,
      owner,
      "PATCH",
      `/portal/api/orgs/${owner.orgId}/members/${ownerRow.id}`,
      { role: "member" },
    );
    expect(await expectJson(lastOwner, 400)).toMatchObject({ error: { code: "invalid_request" } });
    const promote = await asUser(
      gw,
      owner,
      "PATCH",
      `/portal/api/orgs/${owner.orgId}/members/${memberRow.id}`,
      { role: "admin" },
    );
    expect(promote.status).toBe(200);
    const removed = await asUser(
      gw,
      inOrg(admin),
      "DELETE",
      `/portal/api/orgs/${owner.orgId}/members/${memberRow.id}`,
    );
    expect(removed.status).toBe(204);
    // A member may always leave.
    const leave = await asUser(
      gw,
      inOrg(admin),
      "DELETE",
      `/portal/api/orgs/${owner.orgId}/members/${(await members(owner)).find((m) => m.user_id === admin.userId)?.id}`,
    );
    expect(leave.status).toBe(204);
  });

  it("isolates tenants: another org's org, members, invitations, usage and billing are 404", async () => {
    const a = await signUp(gw);
    const b = await signUp(gw);
    const bMembers = await members(b);
    const asAinB = { ...a, orgId: b.orgId };
    const base = `/portal/api/orgs/${b.orgId}`;
    for (const [method, path, body] of [
      ["GET", base, undefined],
      ["PATCH", base, { name: "pwned" }],
      ["GET", `${base}/members`, undefined],
      ["PATCH", `${base}/members/${bMembers[0]?.id}`, { role: "member" }],
      ["DELETE", `${base}/members/${bMembers[0]?.id}`, undefined],
      ["GET", `${base}/invitations`, undefined],
      ["POST", `${base}/invitations`, { email: a.email }],
      ["GET", `${base}/usage`, undefined],
      ["GET", `${base}/billing`, undefined],
      ["GET", `${base}/models`, undefined],
    ] as const) {
      const res = await asUser(gw, asAinB, method, path, body);
      expect(await expectJson(res, 404), `${method} ${path}`).toMatchObject({
        error: { code: "not_found" },
      });
    }
  });
});

describe("usage, billing and models", () => {
  it("summarises daily requests, tokens and cost by model and key, with the allowance", async () => {
    const s = await signUp(gw);
    const other = await signUp(gw);
    const now = new Date();
    const yesterday = new Date(now.getTime() - 86_400_000);
    const row = (id: string, org: string, model: string, at: Date, ok = true) => ({
      chargeMicros: 0n,
      event: {
        requestId: `req_usage_${id}_${org}`,
        orgId: org,
        apiKeyId: "key_a",
        modelAlias: model,
        routerPool: "p",
        route: "/v1/completions",
        status: ok ? ("ok" as const) : ("failed" as const),
        promptTokens: 10,
        completionTokens: 20,
        costMicros: 50n,
        latencyMs: 5,
        upstreamMs: 4,
        createdAt: at,
      },
    });
    // Through the real usage writer, which maintains the usage_daily rollup the page reads.
    await persistUsageBatch(gw.dbHandle.db, [
      row("1", s.orgId, "default", now),
      row("2", s.orgId, "default", now, false),
      row("3", s.orgId, "big", yesterday),
      row("4", other.orgId, "default", now),
    ]);
    const usage = await expectJson<UsageResponse>(
      await asUser(gw, s, "GET", `/portal/api/orgs/${s.orgId}/usage?days=7`),
      200,
    );
    const day = (d: Date) => d.toISOString().slice(0, 10);
    expect(usage.days).toEqual([
      {
        day: day(yesterday),
        model: "big",
        api_key_id: "key_a",
        requests: 1,
        failed: 0,
        prompt_tokens: 10,
        completion_tokens: 20,
        cost_micros: "50",
      },
      {
        day: day(now),
        model: "default",
        api_key_id: "key_a",
        requests: 2,
        failed: 1,
        prompt_tokens: 20,
        completion_tokens: 40,
        cost_micros: "100",
      },
    ]);
    expect(usage.plan.slug).toBe("free");
    expect(usage.allowance.limit).toBe(1000);
    // Yesterday may fall in the previous ISO week (on Mondays).
    const monday = now.getUTCDay() === 1;
    expect(usage.allowance.used).toBe(monday ? 2 : 3);
    expect(new Date(usage.allowance.resets_at).getUTCDay()).toBe(1);
    expect(new Date(usage.allowance.resets_at).getTime()).toBeGreaterThan(now.getTime());
    const bad = await asUser(gw, s, "GET", `/portal/api/orgs/${s.orgId}/usage?days=1000`);
    expect(bad.status).toBe(400);
  });

  it("lists the models the org may use, honouring access rules", async () => {
    const s = await signUp(gw);
    const { alias } = await createTenant(gw);
    const list = async () =>
      (
        await expectJson<{ data: Array<{ alias: string; input_price_micros: string }> }>(
          await asUser(gw, s, "GET", `/portal/api/orgs/${s.orgId}/models`),
          200,
        )
      ).data;
    expect((await list()).find((m) => m.alias === alias)).toMatchObject({
      alias,
      input_price_micros: "1000000",
    });
    await denyModel(gw, alias, s.orgId);
    expect((await list()).map((m) => m.alias)).not.toContain(alias);
  });
});
