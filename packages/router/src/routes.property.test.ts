// Every route of the router app under arbitrary input: the seed documents' example bodies with
// one field gone wrong, JSON noise and raw noise, with and without the router key, as JSON and
// as curl's form content type. Never a 500 (`internal_error`), never a hang, and every refusal
// is the router's error body with a catalogued code.
import { RouterErrorBody } from "@portal/contracts";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouterApp } from "./app.js";
import type { RouterConfig } from "./config.js";
import { API_KEY, startTestRouter, type TestRouter } from "./testing/harness.js";
import { DEEP_TEXT, deepen, junkValue } from "./testing/junk.js";
import { redirect, serve, startWebServer, type TestWebServer } from "./testing/web-server.js";

/** Every optional family switched on, so the sweep reaches their handlers, not their 404. */
const config: RouterConfig = {
  sessions: [
    { id: 0, model: "demo", mode: "ephemeral" },
    { id: 68, model: "demo", mode: "ephemeral" },
    { id: 201, model: "demo", mode: "ephemeral" },
    { id: 202, model: "demo", mode: "ephemeral" },
    { id: 203, model: "demo", mode: "ephemeral" },
  ],
  default_session_id: 68,
  v3_pools: {
    delegate: { "1": [201], "3": [201, 202, 203] },
    validate: { "1": [201], "3": [201, 202, 203] },
  },
  trial: { enabled: true, max_requests: 100_000 },
  x402: { enabled: true, pay_to: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" },
  privacy: { allowed_list: "68:0x0000000000000000000000000000000000000001" },
  web_fetch: { hosts: ["127.0.0.1"], allow_private: true, timeout_ms: 2_000, max_bytes: 65_536 },
  mcp: { enabled: true },
};
const MCP_PATH = "/mcp/messages";

/** Bodies of the seed documents (000, 002), by the route family they were written for. */
const SEED_BODIES: Array<[RegExp, Record<string, unknown>]> = [
  [
    /completions/,
    {
      prompt: "What is Cortensor?",
      max_tokens: 16,
      temperature: 0.7,
      timeout: 5,
      precommit_timeout: 4,
      stream: false,
    },
  ],
  [
    /\/v2\/.*delegate|\/v1\/.*delegate/,
    {
      session_id: 68,
      objective: "Summarize the technical purpose of Cortensor routers.",
      input: { kind: "text", payload: "Routers accept API requests and submit tasks." },
      fetch_web: false,
      policy: { tier: "balanced", redundancy: 1, timeout: 5, precommit_timeout: 4 },
      model_policy: { max_tokens: 16, temperature: 0.4 },
    },
  ],
  [
    /\/v3\/delegate/,
    {
      request_id: "delegate-demo-1",
      objective: "Write a short technical summary of decentralized inference.",
      input: { kind: "text", payload: "Cortensor routes inference work across miner nodes." },
      consensus: { replicas: 3 },
      policy: { tier: "balanced" },
    },
  ],
  [
    /\/v3\/validate/,
    {
      request_id: "validate-demo-1",
      claim: { type: "api_result", description: "Check it.", output: "Candidate output." },
      consensus: { replicas: 3 },
      policy: { tier: "safe" },
    },
  ],
  [
    /validate/,
    {
      session_id: 68,
      claim: {
        type: "technical_summary",
        description: "Validate whether the output describes router behavior accurately.",
        output: "Routers coordinate API requests, sessions, and task submission.",
      },
      policy: { tier: "safe", redundancy: 3, rules: ["accuracy"], timeout_ms: 5000 },
    },
  ],
  [
    /factcheck/,
    {
      session_id: 68,
      mode: "standard",
      claim: { type: "network_roles", statement: "Cortensor supports router and miner roles." },
      policy: { tier: "safe", redundancy: 3, task_redundancy: 1, timeout_ms: 5000 },
    },
  ],
  [
    /payload_enc_key/,
    {
      address: "0x0000000000000000000000000000000000000001",
      session_id: 68,
      task_id: 0,
      signature: `0x${"ab".repeat(65)}`,
    },
  ],
];

let t: TestRouter;
let web: TestWebServer;
/** Web pages the delegate bodies may point at: a page, a redirect loop, a 500, a binary. */
const urls: string[] = [];
const routes: Array<{ method: string; path: string }> = [];
beforeAll(async () => {
  web = await startWebServer({
    "/page": serve("text/html; charset=utf-8", "<html><body><p>Routers route.</p></body></html>"),
    "/loop": redirect("/loop"),
    "/boom": serve("text/plain", "upstream broke", 500),
    "/bin": serve("application/octet-stream", Buffer.alloc(64, 7)),
  });
  for (const p of ["/page", "/loop", "/boom", "/bin", "/missing"]) urls.push(`${web.origin}${p}`);
  t = await startTestRouter({ config }, 5);
  const seen = new Set<string>();
  for (const r of createRouterApp(t.node.core).routes) {
    const key = `${r.method} ${r.path}`;
    if (r.path.includes("*") || seen.has(key)) continue;
    seen.add(key);
    // `all` handlers (MCP's Streamable HTTP endpoint) are swept with the methods clients use.
    for (const method of r.method === "ALL" ? ["POST", "GET", "DELETE"] : [r.method]) {
      routes.push({ method, path: r.path });
    }
  }
});
afterAll(async () => {
  await t?.close();
  await web?.close();
});

const junk = junkValue(
  fc.constantFrom("url", "text", "http://10.0.0.1/x", "file:///etc/passwd"),
  fc.nat().map((n) => urls[n % urls.length] ?? "http://127.0.0.1/"),
  fc.nat().map((n) => ({ kind: "url", payload: urls[n % urls.length] })),
);

/** The seed body with one field (top level or one level down) replaced or removed. */
function offByOne(base: Record<string, unknown>) {
  const paths = Object.entries(base).flatMap(([k, v]) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? [[k], ...Object.keys(v).map((n) => [k, n])]
      : [[k]],
  );
  return fc.tuple(fc.constantFrom(...paths), junk, fc.boolean()).map(([path, bad, drop]) => {
    const out = structuredClone(base);
    const [head, leaf] = path as [string, string?];
    const holder = (leaf ? out[head] : out) as Record<string, unknown>;
    const key = leaf ?? head;
    if (drop) delete holder[key];
    else holder[key] = bad;
    return deepen(JSON.stringify(out));
  });
}

function requestFor(path: string) {
  const base = SEED_BODIES.find(([re]) => re.test(path))?.[1];
  const bodies = [
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
    fc.string({ maxLength: 80 }),
    fc.constant(DEEP_TEXT),
    ...(base ? [fc.constant(JSON.stringify(base)), offByOne(base), offByOne(base)] : []),
  ];
  return fc.record({
    params: fc.array(
      fc.oneof(
        fc.constantFrom("0", "68", "201", "1", "-1", "abc", "99999999999999999999", "1e3", "%20"),
        fc.string({ minLength: 1, maxLength: 12 }),
      ),
      { minLength: 3, maxLength: 3 },
    ),
    body: fc.oneof(...bodies),
    contentType: fc.constantFrom(
      "application/json",
      "application/x-www-form-urlencoded",
      "text/plain",
      undefined,
    ),
    auth: fc.constantFrom("key", "key", "key", "none", "wrong"),
  });
}

/** Runs per route; SWEEP_RUNS=1000 for a longer hunt. */
const RUNS = Number(process.env.SWEEP_RUNS ?? 60);

describe("every router route under arbitrary input", () => {
  it("registers the route families of the seed documents", () => {
    const paths = routes.map((r) => r.path).join(" ");
    for (const family of [
      "/api/v1/",
      "/api/v2/",
      "/api/v3/",
      "delegate",
      "validate",
      "factcheck",
    ]) {
      expect(paths).toContain(family);
    }
  });

  it("never answers 500 and refuses only with the router's catalogued error body", async () => {
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(requestFor(route.path), async (r) => {
          let i = 0;
          const path = route.path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, () =>
            encodeURIComponent(r.params[i++] ?? "0"),
          );
          const headers: Record<string, string> = {};
          if (r.contentType) headers["content-type"] = r.contentType;
          if (r.auth === "key") headers.authorization = `Bearer ${API_KEY}`;
          if (r.auth === "wrong") headers.authorization = "Bearer not-the-key";
          const withBody = route.method !== "GET" && route.method !== "HEAD";
          const res = await fetch(`${t.node.url}${path}`, {
            method: route.method,
            headers,
            ...(withBody ? { body: r.body } : {}),
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          const label = `${route.method} ${path} ${JSON.stringify(r).slice(0, 600)} -> ${res.status} ${text.slice(0, 300)}`;
          expect(res.status, label).not.toBe(500);
          if (res.status < 400) return;
          if (res.status === 402 && route.path.includes("/x402/")) {
            // x402's own Payment Required body (protocols.md), not the router's error body.
            expect(JSON.parse(text), label).toMatchObject({ x402Version: 1, accepts: [{}] });
            return;
          }
          if (route.path === MCP_PATH) {
            // MCP answers in JSON-RPC (the SDK's transport), never an internal error.
            // (The router's own refusals, such as a missing key, come before it.)
            const rpc = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            if (typeof rpc.error?.code === "number") {
              expect(rpc.error.code, label).not.toBe(-32603);
              return;
            }
          }
          const parsed = RouterErrorBody.safeParse(JSON.parse(text));
          expect(parsed.success, label).toBe(true);
          expect(parsed.data?.error.code, label).not.toBe("internal_error");
        }),
        { numRuns: RUNS },
      );
    }
  }, 300_000);
});

describe("the A2A JSON-RPC endpoint under arbitrary requests", () => {
  const METHODS = [
    "message/send",
    "tasks/get",
    "tasks/cancel",
    "message/stream",
    "tasks/resubscribe",
    "tasks/pushNotificationConfig/set",
    "agent/getAuthenticatedExtendedCard",
  ];
  /** A valid A2A user message, and the same with one field gone wrong. */
  const validMessage = fc.record({
    kind: fc.constant("message"),
    messageId: fc.uuid(),
    role: fc.constant("user"),
    parts: fc.array(
      fc.record({ kind: fc.constant("text"), text: fc.string({ minLength: 1, maxLength: 40 }) }),
      { minLength: 1, maxLength: 2 },
    ),
    metadata: fc.record(
      { skill: fc.constantFrom("completion", "delegate", "validate", "factcheck") },
      { requiredKeys: [] },
    ),
  });
  const message = fc.oneof(
    { weight: 2, arbitrary: validMessage },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          validMessage,
          fc.constantFrom("kind", "messageId", "role", "parts", "metadata"),
          junk,
        )
        .map(([m, key, bad]) => ({ ...m, [key]: bad })),
    },
    { weight: 1, arbitrary: junk },
  );
  const params = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record(
        {
          message,
          configuration: fc.oneof(
            { weight: 4, arbitrary: fc.record({ blocking: fc.boolean() }) },
            { weight: 1, arbitrary: junk },
          ),
          id: fc.oneof(fc.uuid(), junk),
          historyLength: fc.oneof(fc.integer({ min: -5, max: 50 }), junk),
        },
        { requiredKeys: ["message"] },
      ),
    },
    { weight: 1, arbitrary: junk },
  );
  const request = fc.record(
    {
      jsonrpc: fc.oneof(
        { weight: 9, arbitrary: fc.constant("2.0") },
        { weight: 1, arbitrary: junk },
      ),
      id: fc.oneof(
        { weight: 4, arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 10 })) },
        { weight: 1, arbitrary: fc.oneof(fc.constant(null), junk) },
      ),
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant("message/send") },
        { weight: 4, arbitrary: fc.constantFrom(...METHODS) },
        { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
        { weight: 1, arbitrary: junk },
      ),
      params,
    },
    { requiredKeys: ["jsonrpc", "method"] },
  );

  it("answers every request with a JSON-RPC result or a specific error, never -32603", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 9, arbitrary: request },
          { weight: 1, arbitrary: fc.array(request, { maxLength: 2 }) },
        ),
        async (body) => {
          const res = await fetch(`${t.node.url}/api/v1/a2a`, {
            method: "POST",
            headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
            body: deepen(JSON.stringify(body)),
            signal: AbortSignal.timeout(15_000),
          });
          const text = await res.text();
          const label = `${JSON.stringify(body).slice(0, 400)} -> ${res.status} ${text.slice(0, 300)}`;
          expect(res.status, label).toBeLessThan(500);
          const json = JSON.parse(text) as { error?: { code?: unknown }; result?: unknown };
          if (res.status !== 200) return;
          expect(json.error?.code, label).not.toBe(-32603);
          expect("result" in json || typeof json.error?.code === "number", label).toBe(true);
        },
      ),
      { numRuns: RUNS * 5 },
    );
  }, 300_000);
});
