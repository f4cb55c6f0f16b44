import { RouterErrorBody, TOO_DEEP_MESSAGE } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouterConfig } from "../config.js";
import { extractJsonObject } from "../core/structured.js";
import { decodePaymentHeader } from "../core/x402/verify.js";
import { AUTH, startTestRouter, type TestRouter } from "../testing/harness.js";

// Bodies nested thousands of levels deep used to answer 500 (v2 delegate with a deep payload
// object, A2A with deep message metadata): a recursive walk after the parse overflowed the stack.
// Every reader now refuses nesting past MAX_JSON_DEPTH (64) before anything else looks at it.

const config: RouterConfig = {
  sessions: [{ id: 68, model: "demo", mode: "ephemeral" }],
  default_session_id: 68,
  mcp: { enabled: true },
  x402: { enabled: true, pay_to: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C" },
};
const DEEP = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;

let t: TestRouter;
beforeAll(async () => {
  t = await startTestRouter({ config }, 1);
});
afterAll(() => t.close());

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${t.node.url}${path}`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/json", ...headers },
    body,
  });
}

describe("bodies nested past the limit", () => {
  it("REST routes: 400 invalid_request in the router's error body", async () => {
    for (const [path, body] of [
      [
        "/api/v2/delegate",
        `{"session_id":68,"objective":"x","input":{"kind":"text","payload":{"a":${DEEP}}}}`,
      ],
      ["/api/v1/completions", `{"prompt":"x","metadata":{"a":${DEEP}}}`],
      ["/api/v3/completions/68", DEEP],
      ["/api/v1/validate", `{"claim":${DEEP}}`],
    ] as const) {
      const res = await post(path, body);
      const json = RouterErrorBody.parse(await res.json());
      expect(res.status, path).toBe(400);
      expect(json.error, path).toEqual({ code: "invalid_request", message: TOO_DEEP_MESSAGE });
    }
  });

  it("the same body one level inside the limit is served", async () => {
    const inner = `${"[".repeat(60)}${"]".repeat(60)}`;
    const res = await post(
      "/api/v2/delegate",
      `{"session_id":68,"objective":"x","input":{"kind":"text","payload":"y"},"metadata":{"a":${inner}}}`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: "delegation", status: "completed" });
  });

  it("A2A: a JSON-RPC Invalid Request (-32600), not a 500", async () => {
    const res = await post(
      "/api/v1/a2a",
      `{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"kind":"message","messageId":"m","role":"user","parts":[{"kind":"text","text":"hi"}],"metadata":{"a":${DEEP}}}}}`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: TOO_DEEP_MESSAGE },
    });
  });

  it("MCP: a JSON-RPC Invalid Request before the SDK parses it; a normal call still works", async () => {
    const mcpHeaders = { accept: "application/json, text/event-stream" };
    const res = await post(
      "/mcp/messages",
      `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"a":${DEEP}}}`,
      mcpHeaders,
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: TOO_DEEP_MESSAGE },
    });
    const init = await post(
      "/mcp/messages",
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-03-26",
          capabilities: {},
          clientInfo: { name: "t", version: "1" },
        },
      }),
      mcpHeaders,
    );
    expect(init.status).toBe(200);
    expect(await init.json()).toMatchObject({ jsonrpc: "2.0", id: 1, result: { serverInfo: {} } });
    const broken = await post("/mcp/messages", "{not json", mcpHeaders);
    expect(await broken.json()).toMatchObject({ error: { code: -32700 } });
  });

  it("miner output and payment headers nested that deep are read as not JSON", () => {
    expect(extractJsonObject(`{"a":${DEEP}}`)).toBeUndefined();
    expect(extractJsonObject('{"a":[[1]]}')).toEqual({ a: [[1]] });
    const header = Buffer.from(`{"x402Version":1,"payload":${DEEP}}`).toString("base64");
    expect(() => decodePaymentHeader(header)).toThrow("X-PAYMENT does not decode to JSON");
  });
});
