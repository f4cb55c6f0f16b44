import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestGateway, type TestGateway } from "../../testing/harness.js";
import { asUser, makeOperator, type PortalSession, signUp } from "../../testing/portal.js";

// Text Postgres cannot store (NUL, unpaired UTF-16 surrogates) used to reach queries and come
// back as 500 internal_error. It must be a clear 400 (bodies, query strings) or 404 (ids).

let gw: TestGateway;
let owner: PortalSession;
let operator: PortalSession;
beforeAll(async () => {
  gw = await createTestGateway();
  owner = await signUp(gw);
  operator = await signUp(gw);
  await makeOperator(gw, operator.userId);
});
afterAll(() => gw.close());

const NUL = "a\u0000b";
const LONE = "x\ud800y";

async function expectEnvelope(res: Response, status: number, code: string) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(JSON.parse(text), text).toMatchObject({ status: "failed", error: { code } });
  return JSON.parse(text) as { error: { message: string; details?: unknown } };
}

describe("console APIs refuse unstorable text", () => {
  it("in JSON bodies: 400 invalid_request naming the field, nothing written", async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ["POST", `/portal/api/orgs/${owner.orgId}/keys`, { name: NUL }, "name"],
      ["POST", `/portal/api/orgs/${owner.orgId}/keys`, { name: LONE }, "name"],
      ["PATCH", `/portal/api/orgs/${owner.orgId}`, { name: NUL }, "name"],
      ["POST", "/portal/api/orgs", { name: LONE }, "name"],
      ["PATCH", "/portal/api/me", { name: NUL }, "name"],
      ["PATCH", "/portal/api/me", { [NUL]: "x" }, "a\ufffdb"],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await asUser(gw, owner, method, path, body);
      const json = await expectEnvelope(res, 400, "invalid_request");
      expect(json.error.details, `${method} ${path}`).toMatchObject({ issues: [{ path: field }] });
    }
    const keys = await asUser(gw, owner, "GET", `/portal/api/orgs/${owner.orgId}/keys`);
    expect(await keys.json()).toMatchObject({ data: [] });

    const signUpRes = await gw.app.request("/portal/api/auth/sign-up", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "nul@example.com", password: "long-enough-pw", name: NUL }),
    });
    await expectEnvelope(signUpRes, 400, "invalid_request");
  });

  it("in path ids: 404 not_found", async () => {
    for (const [session, path] of [
      [owner, `/portal/api/orgs/${encodeURIComponent(`org_${NUL}`)}/keys`],
      [operator, `/admin/api/orgs/${encodeURIComponent(NUL)}`],
      [operator, `/admin/api/requests/${encodeURIComponent(`req_${NUL}`)}`],
      [operator, `/admin/api/requests/${encodeURIComponent("req_\u00e9\u{1F600}")}`],
    ] as const) {
      await expectEnvelope(await asUser(gw, session, "GET", path), 404, "not_found");
    }
  });

  it("in query strings: 400 invalid_request", async () => {
    for (const path of [
      `/admin/api/orgs?q=${encodeURIComponent(NUL)}`,
      `/admin/api/keys?org_id=${encodeURIComponent(NUL)}`,
      `/admin/api/users?q=${encodeURIComponent(NUL)}`,
      `/admin/api/audit?org_id=${encodeURIComponent(NUL)}`,
    ]) {
      const json = await expectEnvelope(
        await asUser(gw, operator, "GET", path),
        400,
        "invalid_request",
      );
      expect(json.error.message).toContain("NUL");
    }
    // Ordinary unicode and LIKE metacharacters are fine.
    const res = await asUser(
      gw,
      operator,
      "GET",
      `/admin/api/orgs?q=${encodeURIComponent("é%_\\😀")}`,
    );
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ data: [] });
  });

  it("still answers 404 (not 400) to customers probing the operator API", async () => {
    const res = await asUser(gw, owner, "GET", `/admin/api/orgs?q=${encodeURIComponent(NUL)}`);
    await expectEnvelope(res, 404, "not_found");
  });
});
