import { TOO_DEEP_MESSAGE } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeRouter } from "../testing/fake-router.js";
import { createTenant, createTestGateway, type TestGateway } from "../testing/harness.js";
import { signUp } from "../testing/portal.js";

// A body nested thousands of levels deep used to overflow the stack in the console's text check
// (500 internal_error). Every body reader now refuses nesting past MAX_JSON_DEPTH (64) as a 400,
// in the route's own error shape, and a router answer nested that deep is an upstream error.

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

const nest = (levels: number, inner = "1") => `${"[".repeat(levels)}${inner}${"]".repeat(levels)}`;
const DEEP = nest(20_000);

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return gw.app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  }) as Promise<Response>;
}

describe("bodies nested past the limit", () => {
  it("console: 400 invalid_request, not a 500, and nothing is created", async () => {
    const email = `deep-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}@example.com`;
    const res = await post(
      "/portal/api/auth/sign-up",
      `{"email":"${email}","password":"long-enough-pw","name":${DEEP}}`,
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      status: "failed",
      error: { code: "invalid_request", message: TOO_DEEP_MESSAGE },
    });
    const again = await post(
      "/portal/api/auth/sign-up",
      JSON.stringify({ email, password: "long-enough-pw", name: "Deep" }),
    );
    expect(again.status).toBe(201);
  });

  it("console with a session: the same refusal", async () => {
    const s = await signUp(gw);
    const res = (await gw.app.request("/portal/api/me", {
      method: "PATCH",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/json" },
      body: `{"name":${DEEP}}`,
    })) as Response;
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
  });

  it("completion routes: 400 in each route's own error shape", async () => {
    const t = await createTenant(gw);
    const auth = { authorization: `Bearer ${t.key}` };
    const native = await post("/v1/completions", `{"model":"${t.alias}","prompt":${DEEP}}`, auth);
    expect(native.status).toBe(400);
    expect(await native.json()).toMatchObject({
      status: "failed",
      error: { code: "invalid_request", message: TOO_DEEP_MESSAGE },
    });
    const chat = await post(
      "/v1/chat/completions",
      `{"model":"${t.alias}","messages":[{"role":"user","content":"hi"}],"metadata":{"a":${DEEP}}}`,
      auth,
    );
    expect(chat.status).toBe(400);
    expect(await chat.json()).toMatchObject({
      error: { type: "invalid_request_error", message: TOO_DEEP_MESSAGE },
    });
    const messages = await post(
      "/v1/messages",
      `{"model":"${t.alias}","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata":{"a":${DEEP}}}`,
      auth,
    );
    expect(messages.status).toBe(400);
    expect(await messages.json()).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: TOO_DEEP_MESSAGE },
    });
  });

  it("a body at the limit is read as usual (here refused by the schema, naming the field)", async () => {
    const t = await createTenant(gw);
    const res = await post("/v1/completions", `{"model":"${t.alias}","prompt":${nest(63)}}`, {
      authorization: `Bearer ${t.key}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "invalid_request", details: { issues: [{ path: "prompt" }] } },
    });
  });

  it("a router answer nested past the limit is upstream_error", async () => {
    const router = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(`{"choices":${DEEP}}`);
    });
    try {
      const t = await createTenant(gw, { targets: [{ url: router.url }] });
      const res = await post(
        "/v1/completions",
        JSON.stringify({ model: t.alias, prompt: "hi", max_tokens: 4 }),
        { authorization: `Bearer ${t.key}` },
      );
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({
        status: "failed",
        error: { code: "upstream_error" },
      });
    } finally {
      await router.close();
    }
  });
});
