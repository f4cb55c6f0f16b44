import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPortUrl, routerAnswer, startFakeRouter } from "../../../testing/fake-router.js";
import {
  createTenant,
  createTestGateway,
  fundOrg,
  postJson,
  readJson,
  type TestGateway,
  type TestTenant,
} from "../../../testing/harness.js";
import { testRedisUrl } from "../../../testing/redis.js";

const modes = [
  { name: "in-process stores", redis: false },
  ...(testRedisUrl() ? [{ name: "Redis", redis: true }] : []),
];

interface UsageView {
  limits: Array<{ scope: string; used: number }>;
  weekly_allowance: { used: number } | null;
  balance: { available: string; reserved: string } | null;
}

async function usageOf(gw: TestGateway, t: TestTenant): Promise<UsageView> {
  const res = await gw.app.request("/v1/usage", { headers: { authorization: `Bearer ${t.key}` } });
  return (await readJson(res)).data as UsageView;
}

const used = (u: UsageView) => Object.fromEntries(u.limits.map((l) => [l.scope, l.used]));

/** The same request through each completion route, streamed and not. */
const attempts = (alias: string): Array<[string, Record<string, unknown>]> => [
  ["/v1/completions", { model: alias, prompt: "hi", max_tokens: 8 }],
  ["/v1/completions", { model: alias, prompt: "hi", max_tokens: 8, stream: true }],
  ["/v1/chat/completions", { model: alias, messages: [{ role: "user", content: "hi" }] }],
  ["/v1/messages", { model: alias, max_tokens: 8, messages: [{ role: "user", content: "hi" }] }],
];

describe.each(modes)("a request no router accepted is uncounted ($name)", ({ redis }) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ redis });
  });
  afterAll(() => gw.close());

  it("every target refusing: 503 each time, no request window or weekly allowance spent", async () => {
    // Two requests a minute and two a week: without the refund the third attempt would be
    // rate_limited and the weekly allowance gone for a week by our outage.
    const t = await createTenant(gw, {
      targets: [{ url: await closedPortUrl() }, { url: await closedPortUrl() }],
      planLimits: {
        requestsPerMinuteKey: 2,
        requestsPerMinuteOrg: 2,
        weeklyRequestAllowance: 2,
        maxConcurrentPerKey: 1,
      },
    });
    for (const [path, body] of [...attempts(t.alias), ...attempts(t.alias)]) {
      const res = await postJson(gw, path, body, t.key);
      expect(res.status, `${path} ${await res.clone().text()}`).toBe(503);
    }
    const u = await usageOf(gw, t);
    expect(used(u)).toMatchObject({
      key_requests_per_minute: 0,
      org_requests_per_minute: 0,
      key_concurrency: 0,
    });
    expect(u.weekly_allowance?.used).toBe(0);
  });

  it("a prepaid org gets its reservation back and its limits uncounted", async () => {
    const t = await createTenant(gw, {
      plan: "prepaid",
      targets: [{ url: await closedPortUrl() }],
      planLimits: { requestsPerMinuteKey: 2, maxConcurrentPerKey: 1 },
    });
    await fundOrg(gw, t.orgId, 1_000_000n);
    for (const [path, body] of attempts(t.alias)) {
      expect((await postJson(gw, path, body, t.key)).status).toBe(503);
    }
    const u = await usageOf(gw, t);
    expect(used(u)).toMatchObject({ key_requests_per_minute: 0, key_concurrency: 0 });
    expect(u.balance).toMatchObject({ available: "1.000000", reserved: "0.000000" });
  });

  it("a router refusing the target's key (401) is failed over, and uncounted when all do", async () => {
    // A router that checks its key, as a real one does: a rotated key on one target.
    const keyed = await startFakeRouter((req, _body, res) => {
      if (req.headers.authorization !== "Bearer right-key") {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "unauthorized", message: "bad key" } }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(routerAnswer()));
    });
    try {
      const mixed = await createTenant(gw, {
        targets: [
          { url: keyed.url, routerKey: "rotated-wrong" },
          { url: keyed.url, sessionId: 1, routerKey: "right-key" },
        ],
      });
      for (let i = 0; i < 4; i++) {
        const res = await postJson(
          gw,
          "/v1/completions",
          { model: mixed.alias, prompt: "hi" },
          mixed.key,
        );
        expect(res.status, await res.clone().text()).toBe(200);
      }
      const wrong = await createTenant(gw, {
        targets: [{ url: keyed.url, routerKey: "rotated-wrong" }],
        planLimits: { requestsPerMinuteKey: 2, weeklyRequestAllowance: 2 },
      });
      for (const [path, body] of attempts(wrong.alias)) {
        const res = await postJson(gw, path, body, wrong.key);
        expect(res.status, `${path} ${await res.clone().text()}`).toBe(503);
      }
      const u = await usageOf(gw, wrong);
      expect(used(u)).toMatchObject({ key_requests_per_minute: 0 });
      expect(u.weekly_allowance?.used).toBe(0);
    } finally {
      await keyed.close();
    }
  });

  it("a router that took the request and failed still counts (the work may have run)", async () => {
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("not json");
    });
    try {
      const t = await createTenant(gw, {
        targets: [{ url: fake.url }],
        planLimits: { requestsPerMinuteKey: 2, weeklyRequestAllowance: 10 },
      });
      const first = await postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi" }, t.key);
      expect((await readJson(first)).error.code).toBe("upstream_error");
      const u = await usageOf(gw, t);
      expect(used(u)).toMatchObject({ key_requests_per_minute: 1, key_concurrency: 0 });
      expect(u.weekly_allowance?.used).toBe(1);
    } finally {
      await fake.close();
    }
  });
});
