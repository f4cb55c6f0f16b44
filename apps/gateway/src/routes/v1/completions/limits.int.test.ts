import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { newId } from "@portal/contracts";
import { eq, organizations, plans, usageDaily, usageEvents } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { closedPortUrl, routerAnswer, startFakeRouter } from "../../../testing/fake-router.js";
import { type FixtureRouter, startFixtureRouter } from "../../../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  postJson,
  type TestGateway,
} from "../../../testing/harness.js";
import { testRedisUrl } from "../../../testing/redis.js";
import { listen } from "../../../testing/sse.js";

/** Poll a condition (never a fixed sleep): up to 10 s, every 20 ms. */
const WAIT = { timeout: 10_000, interval: 20 };

const modes = [
  { name: "in-process stores", redis: false },
  ...(testRedisUrl() ? [{ name: "Redis", redis: true }] : []),
];

describe.each(modes)("limits on POST /v1/completions ($name)", ({ redis }) => {
  let gw: TestGateway;
  let fast: FixtureRouter;
  let slow: FixtureRouter;
  beforeAll(async () => {
    gw = await createTestGateway({ redis });
    fast = await startFixtureRouter();
    slow = await startFixtureRouter({ delayMs: 300 });
  });
  afterAll(async () => {
    await gw.close();
    await fast.close();
    await slow.close();
  });

  const ask = (t: { key: string; alias: string }, extra: Record<string, unknown> = {}) =>
    postJson(
      gw,
      "/v1/completions",
      { model: t.alias, prompt: "hi", max_tokens: 8, ...extra },
      t.key,
    );

  it("sends X-RateLimit-* on success and refuses past the key's rpm with rate_limited", async () => {
    const t = await createTenant(gw, { targets: [{ url: fast.url }], key: { rpmLimit: 3 } });
    for (let i = 0; i < 3; i++) {
      const res = await ask(t);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBe("3");
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(2 - i));
      const reset = Number(res.headers.get("x-ratelimit-reset"));
      expect(reset).toBeGreaterThan(Date.now() / 1000);
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
    }
    const res = await ask(t);
    const text = await res.text();
    expect(res.status, text).toBe(429);
    const body = JSON.parse(text);
    expect(body).toMatchObject({
      status: "failed",
      data: null,
      error: {
        code: "rate_limited",
        details: { scope: "key_requests_per_minute", limit: 3 },
      },
    });
    expect(body.error.details.retry_after).toBeGreaterThanOrEqual(1);
    expect(res.headers.get("retry-after")).toBe(String(body.error.details.retry_after));
    expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(res.headers.get("x-ratelimit-limit")).toBe("3");
  });

  it("refuses with quota_exceeded once the weekly allowance is used", async () => {
    const t = await createTenant(gw, { targets: [{ url: fast.url }] });
    const planId = newId("plan");
    await gw.dbHandle.db.insert(plans).values({
      id: planId,
      slug: `tiny-${planId}`,
      name: "Tiny",
      billingMode: "free",
      requestsPerMinuteKey: 100,
      requestsPerMinuteOrg: 100,
      tokensPerMinuteOrg: 100_000,
      maxConcurrentPerKey: 4,
      weeklyRequestAllowance: 2,
    });
    await gw.dbHandle.db.update(organizations).set({ planId }).where(eq(organizations.id, t.orgId));
    expect((await ask(t)).status).toBe(200);
    const second = await ask(t);
    expect(second.status).toBe(200);
    expect(second.headers.get("x-ratelimit-limit")).toBe("2");
    expect(second.headers.get("x-ratelimit-remaining")).toBe("0");
    const res = await ask(t);
    const text = await res.text();
    expect(res.status, text).toBe(429);
    const body = JSON.parse(text);
    expect(body.error).toMatchObject({ code: "quota_exceeded", details: { limit: 2 } });
    const resetAt = new Date(body.error.details.reset_at);
    expect(resetAt.getUTCDay()).toBe(1); // Monday 00:00 UTC: the next ISO week
    expect(resetAt.getUTCHours()).toBe(0);
    expect(resetAt.getTime()).toBeGreaterThan(Date.now());
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("limits concurrent requests per key and frees the slot after each request", async () => {
    const t = await createTenant(gw, {
      targets: [{ url: slow.url }],
      key: { concurrencyLimit: 1 },
    });
    const [a, b] = await Promise.all([ask(t), ask(t)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 429]);
    const refused = a.status === 429 ? a : b;
    expect(await refused.json()).toMatchObject({
      error: { code: "rate_limited", details: { scope: "key_concurrency", limit: 1 } },
    });
    // Sequential requests are never refused: each one released its slot.
    for (let i = 0; i < 3; i++) expect((await ask(t)).status).toBe(200);
  });

  it("releases the concurrency slot when the request fails", async () => {
    const t = await createTenant(gw, {
      targets: [{ url: await closedPortUrl() }],
      key: { concurrencyLimit: 1 },
    });
    for (let i = 0; i < 3; i++) {
      const res = await ask(t);
      expect(res.status, await res.clone().text()).toBe(503);
    }
  });

  it("releases the concurrency slot when the client goes away mid-request", async () => {
    const t = await createTenant(gw, {
      targets: [{ url: slow.url }],
      key: { concurrencyLimit: 1 },
    });
    const server = serve({ fetch: gw.app.fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise((r) => server.once("listening", r));
    const { port } = server.address() as AddressInfo;
    try {
      const abort = new AbortController();
      // Abort only once the request holds the slot (it has reached the router).
      const received = slow.received();
      const pending = fetch(`http://127.0.0.1:${port}/v1/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: t.alias, prompt: "hi", max_tokens: 8 }),
        signal: abort.signal,
      });
      await vi.waitFor(() => expect(slow.received()).toBeGreaterThan(received), WAIT);
      abort.abort();
      await expect(pending).rejects.toThrow();
      // The upstream answers after 300 ms; the handler then ends and frees the slot. Poll for
      // that (a refused attempt takes no slot); the lease TTL is far longer than the wait, so a
      // leaked slot still fails here.
      await vi.waitFor(async () => {
        const res = await ask(t);
        expect(res.status, await res.clone().text()).toBe(200);
      }, WAIT);
    } finally {
      (server as Server).closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("a client that goes away aborts the router request: slot freed, billed for the prompt only", async () => {
    // A router that would answer only after 30 s, and records when its request was closed.
    let closed = false;
    const stuck = await startFakeRouter((req, _body, res) => {
      req.socket.on("close", () => {
        closed = true;
      });
      setTimeout(() => {
        if (!res.destroyed)
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify(routerAnswer()));
      }, 30_000).unref();
    });
    const t = await createTenant(gw, {
      targets: [{ url: stuck.url }],
      key: { concurrencyLimit: 1, tpmLimit: 1_000 },
    });
    const http = await listen(gw);
    try {
      const abort = new AbortController();
      const pending = fetch(`${http.url}/v1/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: t.alias, prompt: "hello there", max_tokens: 8 }),
        signal: abort.signal,
      });
      await vi.waitFor(() => expect(stuck.requests.length).toBe(1), WAIT);
      abort.abort();
      await expect(pending).rejects.toThrow();
      // The gateway hung up on the router long before the router would have answered.
      await vi.waitFor(() => expect(closed).toBe(true), WAIT);
      // The slot is free at once: with a concurrency of 1 the next request is admitted and
      // reaches the router while the first one's answer is still 30 s away.
      const second = fetch(`${http.url}/v1/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: t.alias, prompt: "again", max_tokens: 8 }),
        signal: AbortSignal.timeout(20_000),
      }).catch(() => null);
      await vi.waitFor(() => expect(stuck.requests.length).toBe(2), WAIT);
      await gw.services.usage.flush();
      const rows = await gw.dbHandle.db
        .select()
        .from(usageEvents)
        .where(eq(usageEvents.apiKeyId, t.keyId));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: "cancelled", completionTokens: 0 });
      expect(rows[0]?.promptTokens).toBeGreaterThan(0);
      // Billed, so not a failure in the daily rollup (/v1/usage, the console, exports).
      const [day] = await gw.dbHandle.db
        .select()
        .from(usageDaily)
        .where(eq(usageDaily.orgId, t.orgId));
      expect(day).toMatchObject({ requests: 1, failedRequests: 0, completionTokens: 0 });
      // The prompt it was billed for counts against the token windows too.
      const usage = await gw.app.request("/v1/usage", {
        headers: { authorization: `Bearer ${t.key}` },
      });
      const { data } = (await usage.json()) as {
        data: { limits: Array<{ scope: string; used: number }> };
      };
      const used = Object.fromEntries(data.limits.map((l) => [l.scope, l.used]));
      expect(used.key_tokens_per_minute).toBe(rows[0]?.promptTokens);
      void second;
    } finally {
      await http.close();
      await stuck.close();
    }
  });

  it("applies a key's tokens-per-minute override after the tokens are counted", async () => {
    // Fixture usage: max_tokens completion tokens, and 10 prompt tokens billed at the prompt's
    // own count (the fixture over-reports a one-token prompt): 41 tokens.
    const t = await createTenant(gw, { targets: [{ url: fast.url }], key: { tpmLimit: 41 } });
    expect((await ask(t, { max_tokens: 40 })).status).toBe(200);
    // The token count is booked before the response is sent, so the next request sees it.
    const res = await ask(t, { max_tokens: 40 });
    const text = await res.text();
    expect(res.status, text).toBe(429);
    expect(JSON.parse(text).error).toMatchObject({
      code: "rate_limited",
      details: { scope: "key_tokens_per_minute", limit: 41 },
    });
  });
});
