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
let slow: FixtureRouter;
beforeAll(async () => {
  gw = await createTestGateway();
  router = await startFixtureRouter({ promptTokens: 1 });
  slow = await startFixtureRouter({ promptTokens: 1, delayMs: 300 });
});
afterAll(async () => {
  await gw.close();
  await router.close();
  await slow.close();
});

const req = (alias: string, prompt = "hello") => ({ model: alias, prompt, max_tokens: 40 });

describe("Idempotency-Key on POST /v1/completions", () => {
  it("replays the stored response for the same key and body, without new work or charge", async () => {
    const t = await createTenant(gw, { plan: "prepaid", targets: [{ url: router.url }] });
    await fundOrg(gw, t.orgId, 1_000n);
    const headers = { "idempotency-key": "retry-me-1" };
    const first = await postJson(gw, "/v1/completions", req(t.alias), t.key, headers);
    const firstText = await first.text();
    expect(first.status, firstText).toBe(200);
    const served = router.served();
    const again = await postJson(gw, "/v1/completions", req(t.alias), t.key, headers);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(firstText);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(router.served()).toBe(served);
    // Charged once: 1 + 2 × 40 = 81 µUSD.
    expect((await gw.services.balance.snapshot(t.orgId)).available).toBe(1_000n - 81n);
  });

  it("answers idempotency_conflict (409) for the same key with another body", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }] });
    const headers = { "idempotency-key": "same-key" };
    expect((await postJson(gw, "/v1/completions", req(t.alias), t.key, headers)).status).toBe(200);
    const res = await postJson(gw, "/v1/completions", req(t.alias, "other"), t.key, headers);
    const text = await res.text();
    expect(res.status, text).toBe(409);
    expect(JSON.parse(text)).toMatchObject({
      status: "failed",
      error: { code: "idempotency_conflict", details: { reason: "body_mismatch" } },
    });
  });

  it("binds a key to its route: the same bytes on another route conflict instead of replaying", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }] });
    const headers = { "idempotency-key": "cross-route" };
    // Valid on both compat routes: the same bytes mean a chat completion on one and an
    // Anthropic message on the other.
    const body = {
      model: t.alias,
      max_tokens: 20,
      messages: [{ role: "user", content: "hello" }],
    };
    const chat = await postJson(gw, "/v1/chat/completions", body, t.key, headers);
    expect(chat.status).toBe(200);
    expect(
      (await postJson(gw, "/v1/chat/completions", body, t.key, headers)).headers.get(
        "idempotent-replayed",
      ),
    ).toBe("true");
    const served = router.served();
    const messages = await postJson(gw, "/v1/messages", body, t.key, headers);
    const text = await messages.text();
    expect(messages.status, text).toBe(409);
    expect(messages.headers.get("idempotent-replayed")).toBeNull();
    expect(JSON.parse(text)).toMatchObject({ type: "error" });
    expect(router.served()).toBe(served);
  });

  it("scopes keys per org", async () => {
    const a = await createTenant(gw, { targets: [{ url: router.url }] });
    const b = await createTenant(gw, { targets: [{ url: router.url }] });
    const headers = { "idempotency-key": "shared-name" };
    const ra = await postJson(gw, "/v1/completions", req(a.alias), a.key, headers);
    const rb = await postJson(gw, "/v1/completions", req(b.alias), b.key, headers);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect((await readJson(ra)).request_id).not.toBe((await readJson(rb)).request_id);
  });

  it("never runs concurrent duplicates twice", async () => {
    const t = await createTenant(gw, { targets: [{ url: slow.url }] });
    const headers = { "idempotency-key": "burst" };
    const before = slow.served();
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        postJson(gw, "/v1/completions", req(t.alias), t.key, headers),
      ),
    );
    const bodies = await Promise.all(responses.map(readJson));
    expect(slow.served() - before).toBe(1);
    expect(bodies.filter((b) => b.status === "ok")).toHaveLength(1);
    for (const b of bodies.filter((x) => x.status !== "ok")) {
      expect(b.error).toMatchObject({
        code: "idempotency_conflict",
        details: { reason: "in_progress" },
      });
    }
    // Once the first finished, a retry gets its stored answer.
    const retry = await postJson(gw, "/v1/completions", req(t.alias), t.key, headers);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect((await readJson(retry)).request_id).toBe(
      bodies.find((b) => b.status === "ok").request_id,
    );
  });

  it("lets a failed request be retried (nothing was charged or stored)", async () => {
    const t = await createTenant(gw, { plan: "prepaid", targets: [{ url: router.url }] });
    const headers = { "idempotency-key": "after-topup" };
    expect((await postJson(gw, "/v1/completions", req(t.alias), t.key, headers)).status).toBe(402);
    await fundOrg(gw, t.orgId, 100n);
    expect((await postJson(gw, "/v1/completions", req(t.alias), t.key, headers)).status).toBe(200);
  });

  it("refuses a malformed key", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }] });
    const res = await postJson(gw, "/v1/completions", req(t.alias), t.key, {
      "idempotency-key": "x".repeat(256),
    });
    expect(res.status).toBe(400);
    expect(await readJson(res)).toMatchObject({ error: { code: "invalid_request" } });
  });
});
