import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../../testing/fixture-router.js";
import { createTenant, createTestGateway, postJson } from "../../testing/harness.js";

// Without Redis the weekly allowance lived only in the process: every restart gave each free org
// a fresh allowance, and /v1/usage disagreed with the usage on record. The in-process limiter now
// starts each org's weekly counter from the requests on record.

let router: FixtureRouter;
beforeAll(async () => {
  router = await startFixtureRouter();
});
afterAll(() => router.close());

describe("the weekly allowance without Redis", () => {
  it("survives a restart of the gateway", async () => {
    const first = await createTestGateway({ redis: false });
    const t = await createTenant(first, {
      targets: [{ url: router.url }],
      planLimits: { weeklyRequestAllowance: 3 },
    });
    const ask = (gw: typeof first) =>
      postJson(gw, "/v1/completions", { model: t.alias, prompt: "hi", max_tokens: 2 }, t.key);
    for (let i = 0; i < 3; i++) expect((await ask(first)).status).toBe(200);
    expect((await ask(first)).status).toBe(429);
    await first.services.usage.flush();

    // A fresh set of in-process stores over the same database and secrets, as after a restart
    // (the first instance stays open only because it owns the test database).
    const second = await createTestGateway({ redis: false, shareWith: first });
    try {
      const refused = await ask(second);
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ error: { code: "quota_exceeded" } });
      const usage = await second.app.request("/v1/usage", {
        headers: { authorization: `Bearer ${t.key}` },
      });
      const body = (await usage.json()) as {
        data: { limits: Array<{ scope: string; used: number; limit: number }> };
      };
      expect(body.data.limits.find((l) => l.scope === "org_weekly_allowance")).toMatchObject({
        used: 3,
        limit: 3,
      });
    } finally {
      await second.close();
      await first.close();
    }
  });
});
