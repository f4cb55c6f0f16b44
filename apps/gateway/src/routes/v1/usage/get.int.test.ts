import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../../../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  postJson,
  readJson,
  type TestGateway,
} from "../../../testing/harness.js";

let gw: TestGateway;
let router: FixtureRouter;
beforeAll(async () => {
  gw = await createTestGateway({ metricsToken: "test-metrics-token-0123456789" });
  router = await startFixtureRouter({ promptTokens: 1 });
});
afterAll(async () => {
  await gw.close();
  await router.close();
});

const get = (path: string, key: string) =>
  gw.app.request(path, { headers: { authorization: `Bearer ${key}` } });

describe("GET /v1/usage", () => {
  it("reports the caller's windows, weekly allowance and usage without counting itself", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }] });
    for (let i = 0; i < 2; i++) {
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hello", max_tokens: 4 },
        t.key,
      );
      expect(res.status).toBe(200);
    }
    await gw.services.usage.flush();
    const res = await get("/v1/usage", t.key);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text);
    expect(body).toMatchObject({
      status: "ok",
      model: null,
      router_pool: null,
      error: null,
      data: {
        object: "usage",
        org_id: t.orgId,
        key_id: t.keyId,
        plan: "free",
        billing_mode: "free",
        weekly_allowance: { limit: 1000, used: 2, remaining: 998 },
        balance: null,
        usage: {
          today: { requests: 2, prompt_tokens: 2, completion_tokens: 8, failed_requests: 0 },
        },
      },
    });
    const scopes = Object.fromEntries(body.data.limits.map((l: { scope: string }) => [l.scope, l]));
    expect(scopes.key_requests_per_minute).toMatchObject({ limit: 20, used: 2, remaining: 18 });
    expect(scopes.org_tokens_per_minute).toMatchObject({ limit: 100_000, used: 10 });
    expect(scopes.key_concurrency).toMatchObject({ limit: 4, used: 0 });
    // Reading usage is not a request against the limits.
    const again = await readJson(await get("/v1/usage", t.key));
    expect(again.data.weekly_allowance.used).toBe(2);
  });

  it("shows a prepaid org's balance as decimal USD", async () => {
    const t = await createTenant(gw, { plan: "prepaid", targets: [{ url: router.url }] });
    await fundOrg(gw, t.orgId, 2_500_000n);
    const body = await readJson(await get("/v1/usage", t.key));
    expect(body.data).toMatchObject({
      billing_mode: "prepaid",
      weekly_allowance: null,
      balance: { available: "2.500000", reserved: "0.000000", currency: "USD" },
    });
  });

  it("needs an API key", async () => {
    const res = await gw.app.request("/v1/usage");
    expect(res.status).toBe(401);
  });
});

describe("GET /metrics", () => {
  it("serves Prometheus text to the ops token only", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }], key: { rpmLimit: 1 } });
    const body = { model: t.alias, prompt: "hello", max_tokens: 4 };
    expect((await postJson(gw, "/v1/completions", body, t.key)).status).toBe(200);
    expect((await postJson(gw, "/v1/completions", body, t.key)).status).toBe(429);

    expect((await gw.app.request("/metrics")).status).toBe(401);
    expect((await get("/metrics", "wrong-token-wrong-token")).status).toBe(401);
    const res = await get("/metrics", "test-metrics-token-0123456789");
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(text).toMatch(
      /portal_http_requests_total\{route="\/v1\/completions",method="POST",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /portal_limit_refusals_total\{code="rate_limited",scope="key_requests_per_minute"\} \d+/,
    );
    expect(text).toContain("portal_gateway_overhead_seconds_bucket");
    expect(text).toContain("portal_http_request_duration_seconds_bucket");
    expect(text).toMatch(/portal_tokens_total\{model="[^"]+",kind="completion"\} \d+/);
    expect(text).toMatch(/portal_usage_queue_depth \d+/);
    expect(text).toMatch(/portal_target_up\{pool="[^"]+",target="tgt_[^"]+"\} 1/);
  });
});
