import { randomUUID } from "node:crypto";
import {
  ClientFactory,
  ClientFactoryOptions,
  JsonRpcTransportFactory,
  TaskNotCancelableError,
  TaskNotFoundError,
} from "@a2a-js/sdk/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, AUTH, startTestRouter, type TestRouter } from "../testing/harness.js";

let t: TestRouter;
beforeAll(async () => {
  t = await startTestRouter(
    {
      config: {
        sessions: [
          { id: 0, model: "demo", mode: "ephemeral" },
          { id: 7, model: "demo", mode: "ephemeral", redundancy: 3 },
        ],
        default_session_id: 0,
        factcheck: { session_id: 7 },
      },
    },
    3,
  );
});
afterAll(async () => {
  await t.close();
});

/** The official A2A JS client (v0.3 JSON-RPC), reading the card and sending the router key. */
async function a2aClient() {
  const authFetch: typeof fetch = (input, init) =>
    fetch(input, {
      ...init,
      headers: { ...(init?.headers as Record<string, string>), Authorization: `Bearer ${API_KEY}` },
    });
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl: authFetch })],
    }),
  );
  return factory.createFromUrl(t.node.url, "/.well-known/agent.json");
}

const userMessage = (text: string, metadata?: Record<string, unknown>) => ({
  kind: "message" as const,
  messageId: randomUUID(),
  role: "user" as const,
  parts: [{ kind: "text" as const, text }],
  ...(metadata !== undefined && { metadata }),
});

const rpc = async (body: unknown, headers: Record<string, string> = AUTH) => {
  const res = await fetch(`${t.node.url}/api/v1/a2a`, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("A2A JSON-RPC endpoint (card url, official @a2a-js/sdk client)", () => {
  it("message/send runs a completion and answers a completed Task; tasks/get reads it back", async () => {
    const client = await a2aClient();
    const result = await client.sendMessage({ message: userMessage("Explain routers briefly.") });
    expect(result.kind).toBe("task");
    if (result.kind !== "task") return;
    expect(result.status.state).toBe("completed");
    const artifactText =
      (result.artifacts?.[0]?.parts[0] as { text?: string } | undefined)?.text ?? "";
    expect(artifactText.length).toBeGreaterThan(0);
    expect(result.metadata).toMatchObject({ skill: "completion", session_id: 0 });
    // The same text as the REST completion for the same prompt (demo engine is deterministic).
    const rest = (await (
      await t.post("/api/v3/completions/0", { prompt: "Explain routers briefly." })
    ).json()) as { choices: Array<{ text: string }> };
    expect(artifactText).toBe(rest.choices[0]?.text);
    expect(result.history?.map((m) => m.role)).toEqual(["user", "agent"]);

    const again = await client.getTask({ id: result.id });
    expect(again).toMatchObject({ id: result.id, status: { state: "completed" } });
    const short = await client.getTask({ id: result.id, historyLength: 1 });
    expect(short.history).toHaveLength(1);
  });

  it("routes the validate and factcheck skills through data parts and metadata", async () => {
    const client = await a2aClient();
    const validated = await client.sendMessage({
      message: {
        kind: "message",
        messageId: randomUUID(),
        role: "user",
        parts: [
          {
            kind: "data",
            data: {
              claim: { type: "summary", description: "a summary", output: "Routers route tasks." },
              policy: { rules: ["must mention routers"] },
            },
          },
        ],
        metadata: { skill: "validate" },
      },
    });
    expect(validated.kind).toBe("task");
    if (validated.kind !== "task") return;
    expect(validated.status.state).toBe("completed");
    const data = validated.artifacts?.[0]?.parts.find((p) => p.kind === "data") as
      | { data: { verdict: string } }
      | undefined;
    expect(data?.data.verdict).toBe("VALID");

    const checked = await client.sendMessage({
      message: userMessage("The router assigns tasks to miners.", { skill: "factcheck" }),
    });
    expect(checked.kind === "task" && checked.status.state).toBe("completed");
    expect(checked.kind === "task" && checked.metadata?.skill).toBe("factcheck");
  });

  it("non-blocking send returns a working task that tasks/get later shows completed", async () => {
    const { body } = await rpc({
      jsonrpc: "2.0",
      id: "nb-1",
      method: "message/send",
      params: { message: userMessage("non-blocking please"), configuration: { blocking: false } },
    });
    const task = body.result as { id: string; status: { state: string } };
    expect(body.id).toBe("nb-1");
    expect(task.status.state).toBe("working");
    await expect
      .poll(async () => {
        const got = await rpc({ jsonrpc: "2.0", id: 2, method: "tasks/get", params: task });
        return (got.body.result as { status: { state: string } }).status.state;
      })
      .toBe("completed");
  });

  it("a task the router cannot run is a failed Task carrying the router error code", async () => {
    const client = await a2aClient();
    const result = await client.sendMessage({
      message: userMessage("on a missing session", { session_id: 404 }),
    });
    expect(result.kind).toBe("task");
    if (result.kind !== "task") return;
    expect(result.status.state).toBe("failed");
    expect(result.metadata?.error_code).toBe("session_not_found");
    expect(result.status.message?.parts[0]).toMatchObject({ kind: "text" });
  });

  it("cancel and unknown tasks map to the A2A errors the SDK understands", async () => {
    const client = await a2aClient();
    const done = await client.sendMessage({ message: userMessage("to be cancelled?") });
    await expect(client.cancelTask({ id: done.kind === "task" ? done.id : "" })).rejects.toThrow(
      TaskNotCancelableError,
    );
    await expect(client.getTask({ id: "no-such-task" })).rejects.toThrow(TaskNotFoundError);
  });

  it("answers JSON-RPC errors for malformed requests, unknown methods and bad params", async () => {
    const parse = await rpc("{not json");
    expect(parse).toMatchObject({
      status: 200,
      body: { jsonrpc: "2.0", id: null, error: { code: -32700 } },
    });
    expect((await rpc({ id: 1, method: "message/send" })).body).toMatchObject({
      id: 1,
      error: { code: -32600 },
    });
    expect((await rpc({ jsonrpc: "2.0", id: 2, method: "tasks/list" })).body).toMatchObject({
      id: 2,
      error: { code: -32601 },
    });
    const badParams = await rpc({
      jsonrpc: "2.0",
      id: 3,
      method: "message/send",
      params: { message: { role: "user", parts: [] } },
    });
    expect(badParams.body).toMatchObject({ id: 3, error: { code: -32602 } });
    const emptyPrompt = await rpc({
      jsonrpc: "2.0",
      id: 4,
      method: "message/send",
      params: { message: userMessage("   ") },
    });
    expect(emptyPrompt.body).toMatchObject({ id: 4, error: { code: -32602 } });
    const noClaim = await rpc({
      jsonrpc: "2.0",
      id: 5,
      method: "message/send",
      params: { message: userMessage("judge this", { skill: "validate" }) },
    });
    expect(noClaim.body).toMatchObject({ id: 5, error: { code: -32602 } });
    const stream = await rpc({
      jsonrpc: "2.0",
      id: 6,
      method: "message/stream",
      params: { message: userMessage("stream") },
    });
    expect(stream.body).toMatchObject({ id: 6, error: { code: -32004 } });
  });

  it("needs the router key, like every work route", async () => {
    const res = await rpc({ jsonrpc: "2.0", id: 1, method: "tasks/get", params: { id: "x" } }, {});
    expect(res.status).toBe(401);
  });
});
