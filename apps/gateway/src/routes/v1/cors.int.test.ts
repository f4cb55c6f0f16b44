import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../../testing/fixture-router.js";
import { createTenant, createTestGateway, type TestGateway } from "../../testing/harness.js";

let gw: TestGateway;
let router: FixtureRouter;
beforeAll(async () => {
  gw = await createTestGateway();
  router = await startFixtureRouter();
});
afterAll(async () => {
  await gw.close();
  await router.close();
});

const ORIGIN = "https://app.example.com";

describe("CORS on the customer API", () => {
  it("answers a browser's preflight without a key, reflecting the SDK's headers", async () => {
    const res = await gw.app.request("/v1/chat/completions", {
      method: "OPTIONS",
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-stainless-lang",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe(
      "authorization,content-type,x-stainless-lang",
    );
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("lets the page read the answer and our headers", async () => {
    const t = await createTenant(gw, { targets: [{ url: router.url }] });
    const res = await gw.app.request("/v1/completions", {
      method: "POST",
      headers: {
        origin: ORIGIN,
        authorization: `Bearer ${t.key}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ model: t.alias, prompt: "hi", max_tokens: 4 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
    // Streams too.
    const stream = await gw.app.request("/v1/completions", {
      method: "POST",
      headers: {
        origin: ORIGIN,
        authorization: `Bearer ${t.key}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ model: t.alias, prompt: "hi", max_tokens: 4, stream: true }),
    });
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    expect(stream.headers.get("access-control-allow-origin")).toBe("*");
    await stream.text();
    // A server-to-server call (no Origin) gets none of it.
    const plain = await gw.app.request("/v1/models", {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
    // Refusals too (a browser client must see why).
    const refused = await gw.app.request("/v1/models", { headers: { origin: ORIGIN } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("gives the cookie-session console APIs no CORS at all", async () => {
    const res = await gw.app.request("/portal/api/me", {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "GET" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const get = await gw.app.request("/portal/api/me", { headers: { origin: ORIGIN } });
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
  });
});
