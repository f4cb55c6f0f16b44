import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

const ROUTES = [
  { method: "GET", path: "/v1/models" },
  { method: "POST", path: "/v1/completions" },
] as const;

/** The auth cases every authenticated route must refuse, with their catalogue codes. */
async function authCases() {
  const revoked = await createTenant(gw, { key: { revokedAt: new Date(Date.now() - 1000) } });
  const expired = await createTenant(gw, { key: { expiresAt: new Date(Date.now() - 1000) } });
  const disabledKey = await createTenant(gw, { key: { disabled: true } });
  const disabledOrg = await createTenant(gw, { orgDisabled: true });
  return [
    ["missing key", {}, 401, "unauthorized"],
    ["malformed header", { authorization: "Token abc" }, 401, "unauthorized"],
    ["garbled key", { authorization: "Bearer cx_live_short" }, 401, "unauthorized"],
    ["unknown key", { authorization: `Bearer cx_live_${"A".repeat(40)}` }, 401, "unauthorized"],
    ["revoked key", { authorization: `Bearer ${revoked.key}` }, 401, "key_revoked"],
    ["expired key", { authorization: `Bearer ${expired.key}` }, 401, "key_expired"],
    ["disabled key", { authorization: `Bearer ${disabledKey.key}` }, 403, "account_disabled"],
    ["disabled org", { authorization: `Bearer ${disabledOrg.key}` }, 403, "account_disabled"],
  ] as const;
}

describe.each(ROUTES)("$method $path authentication", ({ method, path }) => {
  it("refuses every bad credential with the right code", async () => {
    for (const [name, headers, status, code] of await authCases()) {
      const res = await gw.app.request(path, {
        method,
        headers: { "content-type": "application/json", ...headers },
        ...(method === "POST" ? { body: JSON.stringify({ model: "default", prompt: "hi" }) } : {}),
      });
      const text = await res.text();
      expect(res.status, `${name}: ${text}`).toBe(status);
      expect(JSON.parse(text), name).toMatchObject({
        status: "failed",
        data: null,
        error: { code },
      });
    }
  });

  it("accepts a key whose revocation is scheduled in the future (roll grace period)", async () => {
    const t = await createTenant(gw, { key: { revokedAt: new Date(Date.now() + 60_000) } });
    const res = await gw.app.request("/v1/models", {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(res.status).toBe(200);
  });

  it("accepts x-api-key as well as Bearer", async () => {
    const t = await createTenant(gw);
    const res = await gw.app.request("/v1/models", { headers: { "x-api-key": t.key } });
    expect(res.status).toBe(200);
  });
});
