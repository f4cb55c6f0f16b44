// Test-only exception to "a package never imports an app": the SDK is tested against the real
// gateway app in-process; nothing in src/ outside tests depends on it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createTenant, createTestGateway, type TestGateway } from "@portal/gateway/testing";
import { type RouterNodeHandle, startRouterNode } from "@portal/router";
import { type MinerHandle, startMiner } from "@portal/router/miner";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortalClient } from "./client.js";
import {
  AuthenticationError,
  ConnectionError,
  InvalidRequestError,
  NotFoundError,
  RateLimitError,
  UpstreamError,
} from "./errors.js";

const logger = pino({ level: "silent" });

describe("PortalClient against a real gateway", () => {
  let gw: TestGateway;
  let router: RouterNodeHandle;
  let miner: MinerHandle;
  let server: ReturnType<typeof serve>;
  let baseUrl: string;
  let key: string;
  let alias: string;

  beforeAll(async () => {
    gw = await createTestGateway();
    router = await startRouterNode({ port: 0, logger });
    miner = await startMiner({
      routerWsUrl: router.wsUrl,
      engine: "demo",
      models: ["demo"],
      demo: { tokenDelayMs: 0 },
      logger,
    });
    const tenant = await createTenant(gw, { targets: [{ url: router.url }] });
    key = tenant.key;
    alias = tenant.alias;
    await new Promise<void>((resolve) => {
      server = serve({ fetch: gw.app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
        baseUrl = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await miner.close();
    await router.close();
    await gw.close();
  });

  it("completes and lists models", async () => {
    const client = new PortalClient({ apiKey: key, baseUrl });
    const res = await client.completions.create({
      model: alias,
      prompt: "Hello from the SDK",
      max_tokens: 16,
    });
    expect(res).toMatchObject({ status: "ok", model: alias, error: null });
    expect(res.data.choices[0]?.text.length).toBeGreaterThan(0);
    expect(res.data.usage.total_tokens).toBe(
      res.data.usage.prompt_tokens + res.data.usage.completion_tokens,
    );
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain(alias);
  });

  it("raises typed errors with the code, status and request id", async () => {
    const bad = new PortalClient({ apiKey: `cx_live_${"B".repeat(40)}`, baseUrl });
    const authErr = await bad.models.list().catch((e: unknown) => e);
    expect(authErr).toBeInstanceOf(AuthenticationError);
    expect(authErr).toMatchObject({
      code: "unauthorized",
      status: 401,
      requestId: expect.stringMatching(/^req_/),
    });

    const client = new PortalClient({ apiKey: key, baseUrl });
    await expect(client.completions.create({ model: "nope", prompt: "x" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const invalid = await client.completions
      .create({ model: alias, prompt: "x", max_tokens: -1 })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidRequestError);
    expect((invalid as InvalidRequestError).details?.issues).toBeDefined();
  });
});

describe("PortalClient retries", () => {
  let server: Server;
  let baseUrl: string;
  const seen: Array<{ idempotencyKey: string | undefined; at: number }> = [];
  let script: Array<{ status: number; body: string; headers?: Record<string, string> }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({
        idempotencyKey: req.headers["idempotency-key"] as string | undefined,
        at: Date.now(),
      });
      req.resume();
      const step = script.shift() ?? { status: 500, body: "{}" };
      res.writeHead(step.status, { "content-type": "application/json", ...step.headers });
      res.end(step.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const failed = (code: string) =>
    JSON.stringify({
      request_id: "req_X",
      status: "failed",
      model: null,
      router_pool: null,
      data: null,
      error: { code, message: code },
    });
  const ok = JSON.stringify({
    request_id: "req_OK",
    status: "ok",
    model: "m",
    router_pool: "p",
    data: { choices: [] },
    error: null,
  });
  const client = (maxRetries = 2) => new PortalClient({ apiKey: "cx_live_x", baseUrl, maxRetries });

  it("retries rate_limited and pool_unavailable with one idempotency key, honouring Retry-After", async () => {
    seen.length = 0;
    script = [
      { status: 429, body: failed("rate_limited"), headers: { "retry-after": "1" } },
      { status: 503, body: failed("pool_unavailable"), headers: { "retry-after": "0" } },
      { status: 200, body: ok },
    ];
    const res = await client().completions.create({ model: "m", prompt: "p" });
    expect(res.request_id).toBe("req_OK");
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.idempotencyKey)).size).toBe(1);
    expect(seen[0]?.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("does not retry quota_exceeded, upstream_error or invalid requests", async () => {
    for (const [status, code] of [
      [429, "quota_exceeded"],
      [502, "upstream_error"],
      [400, "invalid_request"],
    ] as const) {
      seen.length = 0;
      script = [
        { status, body: failed(code) },
        { status: 200, body: ok },
      ];
      const err = await client()
        .completions.create({ model: "m", prompt: "p" })
        .catch((e: unknown) => e);
      expect(err, code).toMatchObject({ code, status });
      expect(seen, code).toHaveLength(1);
    }
    script = [];
  });

  it("gives up after maxRetries and classifies non-envelope answers by status", async () => {
    seen.length = 0;
    script = [
      { status: 503, body: "<html>bad gateway</html>", headers: { "retry-after": "0" } },
      { status: 503, body: "<html>bad gateway</html>", headers: { "retry-after": "0" } },
    ];
    const err = await client(1)
      .completions.create({ model: "m", prompt: "p" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: "pool_unavailable", status: 503 });
    expect(seen).toHaveLength(2);
  });

  it("surfaces rate limits as RateLimitError with retryAfter once retries are spent", async () => {
    script = [{ status: 429, body: failed("rate_limited"), headers: { "retry-after": "0" } }];
    const err = await client(0)
      .models.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ retryAfter: 0 });
  });

  it("reports an unreachable gateway as a ConnectionError", async () => {
    const dead = new PortalClient({
      apiKey: "cx_live_x",
      baseUrl: "http://127.0.0.1:1",
      maxRetries: 1,
      maxRetryDelayMs: 10,
    });
    const err = await dead.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ code: "connection_error", status: null });
  });
});
