import { ERROR_HTTP_STATUS, type ErrorCode } from "@portal/contracts";
import { eq, requestLogs } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPortUrl, routerAnswer, startFakeRouter } from "../../../testing/fake-router.js";
import {
  createTenant,
  createTestGateway,
  denyModel,
  fundOrg,
  postJson,
  readJson,
  type TestGateway,
} from "../../../testing/harness.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({ upstreamMarginMs: 0, maxBodyBytes: 64 * 1024 });
});
afterAll(() => gw.close());

async function expectFailure(res: Response, code: ErrorCode) {
  const text = await res.text();
  expect(res.status, text).toBe(ERROR_HTTP_STATUS[code]);
  const body = JSON.parse(text);
  expect(Object.keys(body), text).toEqual([
    "request_id",
    "status",
    "model",
    "router_pool",
    "data",
    "error",
  ]);
  expect(body, text).toMatchObject({ status: "failed", data: null, error: { code } });
  expect(body.request_id).toMatch(/^req_[0-9A-Z]{26}$/);
  expect(res.headers.get("x-request-id")).toBe(body.request_id);
  expect(typeof body.error.message).toBe("string");
  expect(text).not.toMatch(/at .*\.ts:\d+|stack/i);
  return body;
}

describe("POST /v1/completions bad input", () => {
  it("invalid JSON → invalid_json", async () => {
    const t = await createTenant(gw);
    const body = await expectFailure(
      await postJson(gw, "/v1/completions", '{"model": "x", ', t.key),
      "invalid_json",
    );
    expect(body.model).toBeNull();
  });

  it("empty body → invalid_json", async () => {
    const t = await createTenant(gw);
    await expectFailure(await postJson(gw, "/v1/completions", "", t.key), "invalid_json");
  });

  it.each([
    ["wrong type", { prompt: "hi", max_tokens: "10" }, "max_tokens"],
    ["unknown field", { prompt: "hi", max_token: 10 }, ""],
    ["empty prompt", { prompt: "   " }, "prompt"],
    ["missing prompt", {}, "prompt"],
    ["negative max_tokens", { prompt: "hi", max_tokens: -5 }, "max_tokens"],
    ["huge max_tokens", { prompt: "hi", max_tokens: 10_000_000 }, "max_tokens"],
    ["fractional max_tokens", { prompt: "hi", max_tokens: 1.5 }, "max_tokens"],
    ["temperature out of range", { prompt: "hi", temperature: 7 }, "temperature"],
    [
      "timeout not above precommit",
      { prompt: "hi", timeout: 60, precommit_timeout: 60 },
      "timeout",
    ],
    ["timeout with no room for a precommit", { prompt: "hi", timeout: 1 }, "timeout"],
    ["array body", [], ""],
  ])("%s → invalid_request with issue paths", async (_name, extra, path) => {
    const t = await createTenant(gw);
    const payload = Array.isArray(extra) ? extra : { model: t.alias, ...extra };
    const body = await expectFailure(
      await postJson(gw, "/v1/completions", payload, t.key),
      "invalid_request",
    );
    expect(body.error.details.issues.length).toBeGreaterThan(0);
    expect(body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it("max_tokens above the model's maximum → invalid_request naming the limit", async () => {
    const t = await createTenant(gw, { model: { maxMaxTokens: 100 } });
    const body = await expectFailure(
      await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hi", max_tokens: 101 },
        t.key,
      ),
      "invalid_request",
    );
    expect(body.error.details).toMatchObject({ field: "max_tokens", maximum: 100 });
    expect(body.model).toBe(t.alias);
  });

  it("prompt over the context length → invalid_request with token counts", async () => {
    const t = await createTenant(gw, { model: { contextLength: 200, maxMaxTokens: 100 } });
    const body = await expectFailure(
      await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "word ".repeat(400), max_tokens: 50 },
        t.key,
      ),
      "invalid_request",
    );
    expect(body.error.details.prompt_tokens).toBeGreaterThan(150);
    expect(body.error.details.context_length).toBe(200);
  });

  it("body over the limit → payload_too_large", async () => {
    const t = await createTenant(gw);
    await expectFailure(
      await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "x".repeat(70 * 1024) },
        t.key,
      ),
      "payload_too_large",
    );
  });

  it("a compressed body → invalid_request naming the encoding, on the API and the console", async () => {
    const t = await createTenant(gw);
    for (const [path, headers] of [
      ["/v1/completions", { authorization: `Bearer ${t.key}` }],
      ["/portal/api/auth/sign-in", {}],
    ] as const) {
      const res = await gw.app.request(path, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "content-encoding": "br" },
        body: "\u000b\u0002\u0080",
      });
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(JSON.parse(text), text).toMatchObject({
        status: "failed",
        error: { code: "invalid_request", details: { content_encoding: "br" } },
      });
    }
  });

  it("unknown model → model_not_found", async () => {
    const t = await createTenant(gw);
    const body = await expectFailure(
      await postJson(gw, "/v1/completions", { model: "no-such-model", prompt: "hi" }, t.key),
      "model_not_found",
    );
    expect(body.model).toBe("no-such-model");
    expect(body.router_pool).toBeNull();
  });

  it("model denied to the org → model_not_allowed", async () => {
    const t = await createTenant(gw);
    await denyModel(gw, t.alias, t.orgId);
    await expectFailure(
      await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi" }, t.key),
      "model_not_allowed",
    );
  });

  it("restricted model without an allow rule → model_not_allowed, and hidden from /v1/models", async () => {
    const t = await createTenant(gw, { model: { visibility: "restricted" } });
    await expectFailure(
      await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi" }, t.key),
      "model_not_allowed",
    );
    const list = await readJson(
      await gw.app.request("/v1/models", { headers: { authorization: `Bearer ${t.key}` } }),
    );
    expect(list.data.map((m: { id: string }) => m.id)).not.toContain(t.alias);
  });

  it("unknown route → not_found envelope", async () => {
    await expectFailure(await gw.app.request("/v1/nope"), "unauthorized");
    await expectFailure(await gw.app.request("/nope"), "not_found");
  });
});

describe("POST /v1/completions upstream faults", () => {
  it("every router down → pool_unavailable quickly, no usage row", async () => {
    const t = await createTenant(gw, {
      targets: [{ url: await closedPortUrl() }, { url: await closedPortUrl() }],
    });
    const res = await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi" }, t.key);
    const body = await expectFailure(res, "pool_unavailable");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(body.router_pool).toBe(t.poolName);
  });

  it("a pool with no active target → pool_unavailable, counted against no limit", async () => {
    const t = await createTenant(gw, {
      targets: [{ url: "http://127.0.0.1:1", state: "draining" }],
    });
    for (const stream of [false, false, true]) {
      await expectFailure(
        await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi", stream }, t.key),
        "pool_unavailable",
      );
    }
    // Refused before the limits: a client retrying through an outage spends no requests per
    // minute, and no weekly allowance on a free plan.
    const usage = await gw.app.request("/v1/usage", {
      headers: { authorization: `Bearer ${t.key}` },
    });
    const { data } = (await usage.json()) as {
      data: {
        limits: Array<{ scope: string; used: number }>;
        weekly_allowance: { used: number } | null;
      };
    };
    const used = Object.fromEntries(data.limits.map((l) => [l.scope, l.used]));
    expect(used).toMatchObject({ key_requests_per_minute: 0, org_requests_per_minute: 0 });
    if (data.weekly_allowance) expect(data.weekly_allowance.used).toBe(0);
  });

  it("a router answering garbage → upstream_error without leaking internals", async () => {
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("<html>session 77 at secret-router.internal</html>");
    });
    try {
      const t = await createTenant(gw, {
        targets: [{ url: fake.url, sessionId: 77, routerKey: "router-secret-key" }],
      });
      const res = await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi" }, t.key);
      const body = await expectFailure(res, "upstream_error");
      const text = JSON.stringify(body);
      expect(text).not.toContain(fake.url);
      expect(text).not.toContain("router-secret-key");
      expect(text).not.toContain("secret-router.internal");
      // The session id may only reach customers by chance inside the random request id.
      expect(JSON.stringify(body.error)).not.toContain("77");
      // What the router received: our request id as client_reference, its key, session in the path.
      expect(fake.requests[0]?.path).toBe("/api/v3/completions/77");
      expect(fake.requests[0]?.auth).toBe("Bearer router-secret-key");
      expect(JSON.parse(fake.requests[0]?.body ?? "{}").client_reference).toBe(body.request_id);
    } finally {
      await fake.close();
    }
  });

  it("a timeout given alone sends the router a precommit_timeout that fits below it", async () => {
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "internal_error", message: "x" } }));
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const payload = { model: t.alias, prompt: "hi", timeout: 30 };
      await expectFailure(await postJson(gw, "/v1/completions", payload, t.key), "upstream_error");
      const sent = JSON.parse(fake.requests[0]?.body ?? "{}");
      expect({ timeout: sent.timeout, precommit_timeout: sent.precommit_timeout }).toEqual({
        timeout: 30,
        precommit_timeout: 20,
      });
    } finally {
      await fake.close();
    }
  });

  it("a router error status → upstream_error", async () => {
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { code: "internal_error", message: "db at 10.0.0.5 down" } }),
      );
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const body = await expectFailure(
        await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi" }, t.key),
        "upstream_error",
      );
      expect(JSON.stringify(body)).not.toContain("10.0.0.5");
    } finally {
      await fake.close();
    }
  });

  it("a router that never answers → upstream_timeout after timeout + precommit_timeout", async () => {
    const fake = await startFakeRouter(() => {
      // Never respond.
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const started = Date.now();
      await expectFailure(
        await postJson(
          gw,
          "/v1/completions",
          { model: t.alias, prompt: "hi", timeout: 2, precommit_timeout: 1 },
          t.key,
        ),
        "upstream_timeout",
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    } finally {
      await fake.close();
    }
  });

  it("a router trickling bytes past the deadline → upstream_timeout at the deadline; the hold and slot are back", async () => {
    // Headers at once, then a space every 200 ms (each resets an idle timer), the answer at 6 s;
    // the deadline is 3 s.
    let answered = false;
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      let n = 0;
      const tick = setInterval(() => {
        if (res.destroyed) return clearInterval(tick);
        if (++n < 30) return void res.write(" ");
        clearInterval(tick);
        answered = true;
        res.end(JSON.stringify(routerAnswer({})));
      }, 200);
    });
    try {
      const t = await createTenant(gw, {
        plan: "prepaid",
        targets: [{ url: fake.url }],
        planLimits: { maxConcurrentPerKey: 1 },
      });
      await fundOrg(gw, t.orgId, 1_000_000n);
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hi", max_tokens: 16, timeout: 2, precommit_timeout: 1 },
        t.key,
      );
      await expectFailure(res, "upstream_timeout");
      expect(answered).toBe(false);
      const usage = await readJson(
        await gw.app.request("/v1/usage", { headers: { authorization: `Bearer ${t.key}` } }),
      );
      expect(usage.data.balance).toMatchObject({ available: "1.000000", reserved: "0.000000" });
      const slot = usage.data.limits.find((l: { scope: string }) => l.scope === "key_concurrency");
      expect(slot.used).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it("the router's own task timeout (504) → upstream_timeout naming the request's timeout; the wait is not overhead", async () => {
    const fake = await startFakeRouter((_req, _body, res) => {
      setTimeout(() => {
        res.writeHead(504, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "task_timeout", message: "no commit in time" } }));
      }, 400);
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: fake.url }] });
      const started = performance.now();
      const res = await postJson(
        gw,
        "/v1/completions",
        { model: t.alias, prompt: "hi", timeout: 2 },
        t.key,
      );
      const elapsed = performance.now() - started;
      const overhead = Number(res.headers.get("x-portal-overhead-ms"));
      const body = await expectFailure(res, "upstream_timeout");
      expect(body.error.message).toBe(
        "The model did not answer within the request's timeout of 2 s.",
      );
      // The router held the request 400 ms; that wait is upstream time, not the gateway's.
      expect(overhead).toBeGreaterThanOrEqual(0);
      expect(overhead).toBeLessThanOrEqual(elapsed - 400);
    } finally {
      await fake.close();
    }
  });

  it("a 503 from one router fails over to the next with the same client_reference", async () => {
    const busy = await startFakeRouter((_req, _body, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "no_miners_available", message: "busy" } }));
    });
    const ok = await startFakeRouter((_req, body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify(routerAnswer({ client_reference: JSON.parse(body).client_reference })),
      );
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: busy.url }, { url: ok.url }] });
      // Two requests so the rotation hits the busy router first at least once.
      for (let i = 0; i < 2; i++) {
        const res = await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi" }, t.key);
        expect(res.status, await res.clone().text()).toBe(200);
      }
      expect(busy.requests.length).toBeGreaterThanOrEqual(1);
      expect(ok.requests.length).toBe(2);
      const refs = ok.requests.map((r) => JSON.parse(r.body).client_reference);
      const busyRefs = busy.requests.map((r) => JSON.parse(r.body).client_reference);
      for (const ref of busyRefs) expect(refs).toContain(ref);
    } finally {
      await busy.close();
      await ok.close();
    }
  });
});

describe("request logs", () => {
  it("records rejected requests too", async () => {
    const res = await postJson(gw, "/v1/completions", { model: "x", prompt: "hi" });
    const body = await expectFailure(res, "unauthorized");
    await gw.services.requestLogs.flush();
    const rows = await gw.dbHandle.db
      .select()
      .from(requestLogs)
      .where(eq(requestLogs.requestId, body.request_id));
    expect(rows[0]).toMatchObject({
      httpStatus: 401,
      errorCode: "unauthorized",
      route: "/v1/completions",
      method: "POST",
    });
  });
});
