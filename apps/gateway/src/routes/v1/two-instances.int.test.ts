import { newId } from "@portal/contracts";
import { apiKeys, eq } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../services/api-keys.js";
import { type FixtureRouter, startFixtureRouter } from "../../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  postJson,
  type TestGateway,
} from "../../testing/harness.js";
import { testRedisUrl } from "../../testing/redis.js";

// Two gateway instances of one deployment: separate services (caches, limiters, writers) over
// the same Redis and Postgres.
describe.skipIf(!testRedisUrl())("two gateway instances sharing Redis", () => {
  let a: TestGateway;
  let b: TestGateway;
  let router: FixtureRouter;
  const usageStream = `usage:{two-${newId("req").slice(4)}}`;
  beforeAll(async () => {
    a = await createTestGateway({ usageStream });
    b = await createTestGateway({ shareWith: a, usageStream });
    router = await startFixtureRouter();
  });
  afterAll(async () => {
    await b.close();
    await a.services.usage.flush();
    await a.services.enforcement.redis?.del(usageStream);
    await a.close();
    await router.close();
  });

  it("enforce one global limit, not one per instance", async () => {
    const t = await createTenant(a, {
      targets: [{ url: router.url }],
      planLimits: { maxConcurrentPerKey: 100 },
      key: { rpmLimit: 6 },
    });
    const body = { model: t.alias, prompt: "hi", max_tokens: 4 };
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postJson(i % 2 ? a : b, "/v1/completions", body, t.key)),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 429)).toHaveLength(14);
  });

  it("refuse a key revoked through the other instance within a second", async () => {
    const t = await createTenant(a, { targets: [{ url: router.url }] });
    const body = { model: t.alias, prompt: "hi", max_tokens: 4 };
    // Both instances have the key cached (fresh for 10 s).
    expect((await postJson(a, "/v1/completions", body, t.key)).status).toBe(200);
    expect((await postJson(b, "/v1/completions", body, t.key)).status).toBe(200);

    // What the portal's revoke does: write the row, then invalidate through instance A.
    await a.dbHandle.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(eq(apiKeys.id, t.keyId));
    const revokedAt = Date.now();
    a.services.keys.invalidate(hashApiKey(t.key));

    let status = 0;
    let elapsed = 0;
    while (elapsed < 1_000) {
      const res = await b.app.request("/v1/models", {
        headers: { authorization: `Bearer ${t.key}` },
      });
      status = res.status;
      elapsed = Date.now() - revokedAt;
      if (status === 401) {
        expect(await res.json()).toMatchObject({ error: { code: "key_revoked" } });
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);
    expect(elapsed).toBeLessThan(1_000);
  });
});
