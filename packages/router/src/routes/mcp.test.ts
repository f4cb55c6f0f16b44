import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, startTestRouter, type TestRouter } from "../testing/harness.js";

let t: TestRouter;
let client: Client;
beforeAll(async () => {
  t = await startTestRouter(
    {
      config: {
        sessions: [
          { id: 0, model: "demo", mode: "ephemeral" },
          { id: 17, model: "demo", mode: "ephemeral" },
        ],
        default_session_id: 0,
        mcp: { enabled: true, sessions: { completion: 17 } },
      },
    },
    2,
  );
  client = new Client({ name: "router-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${t.node.url}/mcp/messages`), {
      requestInit: { headers: { Authorization: `Bearer ${API_KEY}` } },
    }),
  );
});
afterAll(async () => {
  await client.close();
  await t.close();
});

type TextContent = Array<{ type: string; text: string }>;
const json = (r: unknown) =>
  JSON.parse(((r as { content?: TextContent }).content ?? [])[0]?.text ?? "null");

describe("MCP server (Streamable HTTP, official SDK client)", () => {
  it("lists the completion, delegate, validate and tasks tools", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual([
      "cortensor_completions",
      "cortensor_delegate",
      "cortensor_delegate_v1",
      "cortensor_factcheck",
      "cortensor_tasks",
      "cortensor_validate",
      "cortensor_validate_v1",
    ]);
  });

  it("completion runs on the configured MCP session; tasks reads it back", async () => {
    const r = await client.callTool({
      name: "cortensor_completions",
      arguments: { prompt: "hello mcp" },
    });
    const out = json(r);
    expect(r.isError).toBeFalsy();
    expect(out).toMatchObject({ session_id: 17 });
    expect(out.text.length).toBeGreaterThan(0);
    const task = json(
      await client.callTool({
        name: "cortensor_tasks",
        arguments: { session_id: 17, task_id: out.task_id },
      }),
    );
    expect(task).toMatchObject({ state: "closed", result: out.text });
    const list = json(
      await client.callTool({ name: "cortensor_tasks", arguments: { session_id: 17 } }),
    );
    expect(list.tasks.length).toBeGreaterThan(0);
  });

  it("delegate and validate return the route families' structures", async () => {
    const d = json(
      await client.callTool({
        name: "cortensor_delegate",
        arguments: { objective: "Summarize routers", input: "Routers route." },
      }),
    );
    expect(d).toMatchObject({ object: "delegation", status: "completed" });
    const v = json(
      await client.callTool({
        name: "cortensor_validate",
        arguments: {
          claim_type: "summary",
          output: "Routers route tasks.",
          rules: ["accuracy"],
          redundancy: 2,
        },
      }),
    );
    expect(v).toMatchObject({ object: "validation", verdict: "VALID" });
    expect(v.runs).toHaveLength(2);
  });

  it("delegate v1, validate v1 and factcheck tools (the spec's tool names)", async () => {
    const d = json(
      await client.callTool({
        name: "cortensor_delegate_v1",
        arguments: { task_request_input: "Summarize routers." },
      }),
    );
    expect(d).toMatchObject({ object: "delegation", version: "v1", status: "completed" });
    const v = json(
      await client.callTool({
        name: "cortensor_validate_v1",
        arguments: {
          task_request_input: "Describe routers.",
          task_result_output: "Routers route.",
        },
      }),
    );
    expect(v).toMatchObject({ object: "validation", version: "v1" });
    const f = json(
      await client.callTool({
        name: "cortensor_factcheck",
        arguments: { statement: "Routers assign tasks to miners." },
      }),
    );
    expect(["TRUE", "FALSE", "UNVERIFIABLE", "RETRY"]).toContain(f.verdict);
  });

  it("domain errors are tool errors, not crashes", async () => {
    const r = await client.callTool({ name: "cortensor_tasks", arguments: { session_id: 999 } });
    expect(r.isError).toBe(true);
    expect(json(r)).toMatchObject({ error: "SessionNotFoundError" });
  });

  it("the MCP endpoint needs the router key; it is absent when MCP is disabled", async () => {
    const res = await fetch(`${t.node.url}/mcp/messages`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    const off = await startTestRouter({}, 0);
    try {
      const r = await fetch(`${off.node.url}/mcp/messages`, {
        method: "POST",
        headers: { Authorization: `Bearer ${API_KEY}` },
        body: "{}",
      });
      expect(r.status).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe("MCP on its own listener, with fixed sessions", () => {
  it("serves MCP only on mcp.listen; enforce_fixed_sessions overrides the caller's session", async () => {
    const own = await startTestRouter(
      {
        config: {
          sessions: [
            { id: 0, model: "demo", mode: "ephemeral" },
            { id: 16, model: "demo", mode: "ephemeral" },
            { id: 17, model: "demo", mode: "ephemeral" },
          ],
          default_session_id: 0,
          mcp: {
            enabled: true,
            listen: { host: "127.0.0.1", port: 0 },
            enforce_fixed_sessions: true,
            sessions: { default: 17, completion: 16 },
          },
        },
      },
      1,
    );
    const mcpClient = new Client({ name: "router-test-own", version: "1.0.0" });
    try {
      const mcpUrl = own.node.mcpUrl ?? "";
      expect(mcpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp\/messages$/);
      expect(new URL(mcpUrl).port).not.toBe(String(own.node.port));
      // The router's own port no longer answers the MCP path.
      const onRouterPort = await fetch(`${own.node.url}/mcp/messages`, {
        method: "POST",
        headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
        body: "{}",
      });
      expect(onRouterPort.status).toBe(404);
      // The MCP listener serves nothing but MCP, behind the router key.
      const other = await fetch(new URL("/api/v1/status", mcpUrl), {
        headers: { Authorization: `Bearer ${API_KEY}` },
      });
      expect(other.status).toBe(404);
      const noKey = await fetch(mcpUrl, { method: "POST", body: "{}" });
      expect(noKey.status).toBe(401);

      await mcpClient.connect(
        new StreamableHTTPClientTransport(new URL(mcpUrl), {
          requestInit: { headers: { Authorization: `Bearer ${API_KEY}` } },
        }),
      );
      const c = json(
        await mcpClient.callTool({
          name: "cortensor_completions",
          arguments: { prompt: "fixed session", session_id: 0 },
        }),
      );
      expect(c.session_id).toBe(16); // the caller's 0 is ignored
      const tasks = json(
        await mcpClient.callTool({ name: "cortensor_tasks", arguments: { session_id: 0 } }),
      );
      expect(tasks.session_id).toBe(17); // no tasks session: the MCP default session
    } finally {
      await mcpClient.close();
      await own.close();
    }
  });
});
