import { newId } from "@portal/contracts";
import { plans } from "@portal/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../services/api-keys.js";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";
import {
  asUser,
  expectJson,
  makeOperator,
  type PortalSession,
  signUp,
} from "../../testing/portal.js";
import { testRedisUrl } from "../../testing/redis.js";

// An operator acts through instance A; instance B (separate caches, same Redis and Postgres)
// must follow within a second, through the invalidation bus rather than its 10 s cache TTL.
describe.skipIf(!testRedisUrl())("operator changes reach other gateway instances", () => {
  let a: TestGateway;
  let b: TestGateway;
  let op: PortalSession;
  beforeAll(async () => {
    a = await createTestGateway();
    b = await createTestGateway({ shareWith: a });
    op = await signUp(a, "Operator");
    await makeOperator(a, op.userId);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  const modelsStatus = async (gw: TestGateway, key: string) =>
    (await gw.app.request("/v1/models", { headers: { authorization: `Bearer ${key}` } })).status;

  it("disabling an org and a key through A is refused on B within a second", async () => {
    const t = await createTenant(a);
    expect(await modelsStatus(b, t.key)).toBe(200); // cached on B
    await expectJson(
      await asUser(a, op, "POST", `/admin/api/orgs/${t.orgId}/disable`, { reason: "abuse" }),
      200,
    );
    await expect.poll(() => modelsStatus(b, t.key), { timeout: 1_000, interval: 20 }).toBe(403);
    await expectJson(await asUser(a, op, "POST", `/admin/api/orgs/${t.orgId}/enable`), 200);
    await expect.poll(() => modelsStatus(b, t.key), { timeout: 1_000, interval: 20 }).toBe(200);
    await expectJson(
      await asUser(a, op, "POST", `/admin/api/keys/${t.keyId}/disabled`, { disabled: true }),
      200,
    );
    await expect.poll(() => modelsStatus(b, t.key), { timeout: 1_000, interval: 20 }).toBe(403);
  });

  it("a drained target and a plan edit through A are visible on B within a second", async () => {
    const t = await createTenant(a, { targets: [{ url: "http://127.0.0.1:5995" }] });
    // The tenant was inserted behind B's back; B loads it once and then caches the catalog.
    b.services.catalog.evictLocal();
    const before = await b.services.catalog.resolve(t.alias);
    const targetId = before?.pool.targets[0]?.id;
    if (!targetId) throw new Error("target missing");
    await expectJson(
      await asUser(a, op, "PATCH", `/admin/api/targets/${targetId}`, { state: "draining" }),
      200,
    );
    await expect
      .poll(async () => (await b.services.catalog.resolve(t.alias))?.pool.targets[0]?.state, {
        timeout: 1_000,
        interval: 20,
      })
      .toBe("draining");

    // A plan of its own, so editing it touches no other test's org.
    const planId = newId("plan");
    const slug = `two-${planId.slice(-8).toLowerCase()}`;
    await a.dbHandle.db.insert(plans).values({
      id: planId,
      slug,
      name: "Two instances",
      billingMode: "free",
      requestsPerMinuteKey: 60,
      requestsPerMinuteOrg: 120,
      tokensPerMinuteOrg: 100_000,
      maxConcurrentPerKey: 4,
    });
    await expectJson(
      await asUser(a, op, "PATCH", `/admin/api/orgs/${t.orgId}`, { plan: slug }),
      200,
    );
    const keyHash = hashApiKey(t.key);
    const rpmOnB = async () => (await b.services.keys.find(keyHash))?.limits.keyRequestsPerMinute;
    await expect.poll(rpmOnB, { timeout: 1_000, interval: 20 }).toBe(60); // now cached on B
    await expectJson(
      await asUser(a, op, "PATCH", `/admin/api/plans/${planId}`, { requests_per_minute_key: 9 }),
      200,
    );
    await expect.poll(rpmOnB, { timeout: 1_000, interval: 20 }).toBe(9);
  });
});
