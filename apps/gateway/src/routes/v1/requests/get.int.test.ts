import { newId } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../../../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  postJson,
  readJson,
  type TestGateway,
  type TestTenant,
} from "../../../testing/harness.js";

let gw: TestGateway;
let router: FixtureRouter;
beforeAll(async () => {
  gw = await createTestGateway();
  router = await startFixtureRouter({ promptTokens: 1 });
});
afterAll(async () => {
  await gw.close();
  await router.close();
});

async function lookup(t: TestTenant, requestId: string) {
  await Promise.all([gw.services.usage.flush(), gw.services.requestLogs.flush()]);
  return gw.app.request(`/v1/requests/${requestId}`, {
    headers: { authorization: `Bearer ${t.key}` },
  });
}

describe("GET /v1/requests/{request_id}", () => {
  it("shows a served request's status, tokens, cost and timings, as its answer had them", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }] });
    const answer = await readJson(
      await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hello", max_tokens: 6 },
        t.key,
      ),
    );
    const res = await lookup(t, answer.request_id);
    const body = await readJson(res);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: "ok", error: null });
    expect(body.data).toMatchObject({
      object: "request",
      request_id: answer.request_id,
      route: "/v1/completions",
      model: t.alias,
      router_pool: t.poolName,
      api_key_id: t.keyId,
      http_status: 200,
      status: "ok",
      error_code: null,
      stream: false,
      usage: {
        prompt_tokens: answer.data.usage.prompt_tokens,
        completion_tokens: answer.data.usage.completion_tokens,
        total_tokens: answer.data.usage.total_tokens,
        cost: answer.data.usage.cost,
      },
    });
    expect(body.data.timing.latency_ms).toBeGreaterThanOrEqual(0);
    expect(body.data.timing.overhead_ms).toBeGreaterThanOrEqual(0);
  });

  it("shows a refused request from its log line, without usage", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }] });
    const refused = await readJson(
      await postJson(gw, "/v1/completions", { model: "no-such-model", prompt: "x" }, t.key),
    );
    const body = await readJson(await lookup(t, refused.request_id));
    expect(body.data).toMatchObject({
      http_status: 404,
      status: "failed",
      error_code: "model_not_found",
      usage: null,
      stream: null,
    });
  });

  it("never shows another org's request, and refuses what is not a request id", async () => {
    const a = await createTenant(gw, { targets: [{ url: router.url }] });
    const b = await createTenant(gw, { targets: [{ url: router.url }] });
    const answer = await readJson(
      await postJson(gw, "/v1/completions", { model: a.alias, prompt: "hello" }, a.key),
    );
    const other = await lookup(b, answer.request_id);
    expect(other.status).toBe(404);
    expect((await readJson(other)).error).toMatchObject({ code: "not_found" });
    expect((await lookup(a, newId("req"))).status).toBe(404);
    const bad = await lookup(a, "not-an-id");
    expect(bad.status).toBe(400);
    expect((await readJson(bad)).error).toMatchObject({
      code: "invalid_request",
      details: { field: "request_id" },
    });
    const anonymous = await gw.app.request(`/v1/requests/${answer.request_id}`);
    expect(anonymous.status).toBe(401);
  });
});
