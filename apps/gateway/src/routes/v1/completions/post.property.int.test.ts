import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureRouter, startFixtureRouter } from "../../../testing/fixture-router.js";
import {
  createTenant,
  createTestGateway,
  type TestGateway,
  type TestTenant,
} from "../../../testing/harness.js";

let gw: TestGateway;
let router: FixtureRouter;
let tenant: TestTenant;
beforeAll(async () => {
  gw = await createTestGateway({ maxBodyBytes: 64 * 1024 });
  router = await startFixtureRouter();
  tenant = await createTenant(gw, {
    targets: [{ url: router.url }],
    planLimits: { requestsPerMinuteKey: 100_000, maxConcurrentPerKey: 1_000 },
  });
});
afterAll(async () => {
  await gw.close();
  await router.close();
});

/** Bodies from pure noise to almost-valid requests with one field gone wrong. */
function bodies(alias: string) {
  const field = fc.oneof(
    fc.constant(undefined),
    fc.jsonValue(),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
  );
  const nearlyValid = fc.record(
    {
      model: fc.oneof(fc.constant(alias), fc.string(), fc.jsonValue()),
      prompt: fc.oneof(fc.string({ minLength: 1 }), fc.jsonValue()),
      max_tokens: fc.oneof(fc.integer({ min: -10, max: 200_000 }), field),
      temperature: field,
      top_p: field,
      top_k: field,
      stop: fc.oneof(fc.string(), fc.array(fc.string()), field),
      stream: field,
      timeout: fc.oneof(fc.integer({ min: -1, max: 5_000 }), field),
      precommit_timeout: fc.oneof(fc.integer({ min: -1, max: 5_000 }), field),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    fc.string().map((s) => s),
    fc.jsonValue().map((v) => JSON.stringify(v) ?? "null"),
    nearlyValid.map((v) => JSON.stringify(v)),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
  );
}

const headerName = fc.constantFrom(
  "content-type",
  "idempotency-key",
  "x-api-key",
  "accept",
  "content-encoding",
  "x-request-id",
  "user-agent",
);
const headerValue = fc.string({ maxLength: 300 }).filter((v) => /^[\x20-\x7e]*$/.test(v));

const ENVELOPE_KEYS = ["request_id", "status", "model", "router_pool", "data", "error"];

/** Chat-shaped bodies: noise, and OpenAI / Anthropic requests with fields gone wrong. */
function chatBodies(alias: string) {
  const content = fc.oneof(
    fc.string(),
    fc.array(
      fc.record({ type: fc.constantFrom("text", "image_url", "tool_use"), text: fc.string() }),
    ),
    fc.jsonValue(),
  );
  const message = fc.record(
    {
      role: fc.oneof(
        fc.constantFrom("system", "user", "assistant", "developer", "tool"),
        fc.string(),
      ),
      content,
      name: fc.string(),
    },
    { requiredKeys: ["role"] },
  );
  const nearlyValid = fc.record(
    {
      model: fc.oneof(fc.constant(alias), fc.string(), fc.jsonValue()),
      messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.jsonValue()),
      system: fc.oneof(fc.string(), fc.jsonValue()),
      max_tokens: fc.oneof(fc.integer({ min: -10, max: 200_000 }), fc.jsonValue()),
      stream: fc.oneof(fc.boolean(), fc.jsonValue()),
      stream_options: fc.oneof(fc.record({ include_usage: fc.boolean() }), fc.jsonValue()),
      temperature: fc.oneof(fc.double(), fc.jsonValue()),
      stop: fc.oneof(fc.string(), fc.array(fc.string()), fc.jsonValue()),
      stop_sequences: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v) ?? "null"),
    nearlyValid.map((v) => JSON.stringify(v)),
  );
}

describe("vendor routes under arbitrary input", () => {
  for (const [path, isVendorError] of [
    [
      "/v1/chat/completions",
      (j: Record<string, unknown>) =>
        typeof (j.error as { message?: unknown } | undefined)?.message === "string" &&
        "type" in (j.error as object),
    ],
    [
      "/v1/messages",
      (j: Record<string, unknown>) =>
        j.type === "error" && typeof (j.error as { type?: unknown } | undefined)?.type === "string",
    ],
  ] as const) {
    it(`${path} never answers 500 and always answers JSON or SSE in the vendor's shape`, async () => {
      await fc.assert(
        fc.asyncProperty(chatBodies(tenant.alias), fc.boolean(), async (body, auth) => {
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (auth) headers.authorization = `Bearer ${tenant.key}`;
          const res = await gw.app.request(path, { method: "POST", headers, body });
          const text = await res.text();
          expect(res.status, text).toBeLessThan(500);
          if (res.headers.get("content-type")?.includes("text/event-stream")) {
            expect(text, text).toMatch(/^(event: |data: |: )/);
            expect(text, text).not.toContain("internal_error");
            return;
          }
          const json = JSON.parse(text);
          if (res.status === 200) {
            expect(json.model, text).toBe(tenant.alias);
          } else {
            expect(isVendorError(json), text).toBe(true);
            expect(text).not.toContain("Internal error");
          }
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe("POST /v1/completions under arbitrary input", () => {
  it("never answers 500 and always answers the envelope", async () => {
    await fc.assert(
      fc.asyncProperty(
        bodies(tenant.alias),
        fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
        fc.boolean(),
        async (body, extra, auth) => {
          const headers: Record<string, string> = { ...extra };
          if (auth) headers.authorization = `Bearer ${tenant.key}`;
          const res = await gw.app.request("/v1/completions", { method: "POST", headers, body });
          const text = await res.text();
          expect(res.status, text).toBeLessThan(500);
          // A valid body with stream: true answers SSE whose every event is an envelope.
          const payloads = res.headers.get("content-type")?.includes("text/event-stream")
            ? text
                .split("\n\n")
                .filter((e) => e.startsWith("data: ") && e !== "data: [DONE]")
                .map((e) => e.slice(6))
            : [text];
          for (const payload of payloads) {
            const json = JSON.parse(payload);
            expect(Object.keys(json), text).toEqual(ENVELOPE_KEYS);
            if (json.status !== "ok") expect(json.error.code, text).not.toBe("internal_error");
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
