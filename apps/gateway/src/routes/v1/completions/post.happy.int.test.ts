import { computeCostMicros, formatMicrosUsd } from "@portal/contracts";
import { eq, usageEvents } from "@portal/db";
import { type RouterNodeHandle, startRouterNode } from "@portal/router";
import { type MinerHandle, startMiner } from "@portal/router/miner";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTenant,
  createTestGateway,
  postJson,
  readJson,
  type TestGateway,
  type TestTenant,
} from "../../../testing/harness.js";

let gw: TestGateway;
let router: RouterNodeHandle;
const miners: MinerHandle[] = [];
let tenant: TestTenant;

beforeAll(async () => {
  gw = await createTestGateway();
  router = await startRouterNode({
    port: 0,
    config: {
      sessions: [{ id: 0, model: "demo", mode: "ephemeral", redundancy: 1 }],
      default_session_id: 0,
    },
    logger: pino({ level: "silent" }),
  });
  for (let i = 0; i < 2; i++) {
    miners.push(
      await startMiner({
        routerWsUrl: router.wsUrl,
        id: `m${i}`,
        engine: "demo",
        models: ["demo"],
        demo: { tokenDelayMs: 0 },
        logger: pino({ level: "silent" }),
      }),
    );
  }
  tenant = await createTenant(gw, { targets: [{ url: router.url }] });
});

afterAll(async () => {
  await Promise.all(miners.map((m) => m.close()));
  await router?.close();
  await gw?.close();
});

describe("POST /v1/completions through a real router and miners", () => {
  it("answers the envelope exactly as DESIGN §2 shows, priced from the model", async () => {
    const res = await postJson(
      gw,
      "/v1/completions",
      { model: tenant.alias, prompt: "What is Cortensor?", max_tokens: 40 },
      tenant.key,
    );
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = JSON.parse(text);
    expect(Object.keys(body)).toEqual([
      "request_id",
      "status",
      "model",
      "router_pool",
      "data",
      "error",
    ]);
    expect(body).toMatchObject({
      status: "ok",
      model: tenant.alias,
      router_pool: tenant.poolName,
      error: null,
    });
    expect(res.headers.get("x-request-id")).toBe(body.request_id);
    expect(Number(res.headers.get("x-portal-overhead-ms"))).toBeGreaterThanOrEqual(0);

    const data = body.data;
    expect(Object.keys(data)).toEqual([
      "id",
      "object",
      "created",
      "model",
      "choices",
      "usage",
      "timing",
    ]);
    expect(data).toMatchObject({ object: "text_completion", model: tenant.alias });
    expect(data.id).toBe(`cmpl_${body.request_id.slice(4)}`);
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0].text.length).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(data.choices[0].finish_reason);
    const { prompt_tokens, completion_tokens, total_tokens, cost } = data.usage;
    expect(prompt_tokens).toBeGreaterThan(0);
    expect(completion_tokens).toBeGreaterThan(0);
    expect(completion_tokens).toBeLessThanOrEqual(40);
    expect(total_tokens).toBe(prompt_tokens + completion_tokens);
    // Test model prices: 1 USD / M input, 2 USD / M output.
    const expected = computeCostMicros(prompt_tokens, completion_tokens, 1_000_000n, 2_000_000n);
    expect(cost).toEqual({ amount: formatMicrosUsd(expected), currency: "USD" });
    expect(data.timing.total_ms).toBeGreaterThanOrEqual(data.timing.upstream_ms);
    expect(data.timing.queue_ms).toBeGreaterThanOrEqual(0);

    // Router internals never reach the customer.
    expect(text).not.toContain(router.url);
    expect(text).not.toMatch(/session_id|task_id|miner/);

    await gw.services.usage.flush();
    const rows = await gw.dbHandle.db
      .select()
      .from(usageEvents)
      .where(eq(usageEvents.requestId, body.request_id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      orgId: tenant.orgId,
      apiKeyId: tenant.keyId,
      modelAlias: tenant.alias,
      routerPool: tenant.poolName,
      route: "/v1/completions",
      status: "ok",
      errorCode: null,
      promptTokens: prompt_tokens,
      completionTokens: completion_tokens,
      costMicros: expected,
      stream: false,
    });
  });

  it("is deterministic with the demo engine and honours max_tokens", async () => {
    const ask = async (max: number) =>
      (
        await readJson(
          await postJson(
            gw,
            "/v1/completions",
            { model: tenant.alias, prompt: "Same prompt", max_tokens: max, temperature: 0 },
            tenant.key,
          ),
        )
      ).data;
    const a = await ask(50);
    const b = await ask(50);
    expect(a.choices[0].text).toBe(b.choices[0].text);
    const short = await ask(3);
    expect(short.usage.completion_tokens).toBeLessThanOrEqual(3);
    expect(short.choices[0].finish_reason).toBe("length");
  });

  it("renders the model's prompt template before forwarding", async () => {
    const t = await createTenant(gw, {
      targets: [{ url: router.url }],
      model: { promptTemplate: "<s>[INST] {prompt} [/INST]" },
    });
    const plain = await readJson(
      await postJson(gw, "/v1/completions", { model: tenant.alias, prompt: "hello" }, tenant.key),
    );
    const templated = await readJson(
      await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hello" }, t.key),
    );
    expect(templated.data.usage.prompt_tokens).toBeGreaterThan(plain.data.usage.prompt_tokens);
  });

  it("lists the org's models in the OpenAI shape", async () => {
    const res = await gw.app.request("/v1/models", {
      headers: { authorization: `Bearer ${tenant.key}` },
    });
    const body = await readJson(res);
    expect(body.object).toBe("list");
    expect(body.data).toContainEqual({
      id: tenant.alias,
      object: "model",
      created: expect.any(Number),
      owned_by: "portal",
    });
  });

  it("reports pools with healthy/total targets on /health", async () => {
    const body = await readJson(await gw.app.request("/health"));
    expect(body.status).toBe("ok");
    expect(body.pools).toContainEqual({
      name: tenant.poolName,
      state: "active",
      healthy: 1,
      total: 1,
    });
  });
});
