import { type RouterNodeHandle, startRouterNode } from "@portal/router";
import { type MinerHandle, startMiner } from "@portal/router/miner";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamFailedError } from "../../domain-errors.js";
import { startFakeRouter } from "../../testing/fake-router.js";
import type { TargetInfo } from "../catalog.js";
import { RouterClient, type RouterStreamEvent, TargetUnavailableError } from "./router-client.js";

const logger = pino({ level: "silent" });
const target = (url: string): TargetInfo => ({
  id: "t",
  url,
  sessionId: 0,
  routerKey: "default-dev-token",
  weight: 1,
  state: "active",
});
const body = {
  prompt: "Tell me about routers",
  max_tokens: 24,
  client_reference: "req_stream_test",
};

async function drain(gen: AsyncGenerator<RouterStreamEvent>): Promise<RouterStreamEvent[]> {
  const out: RouterStreamEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

describe("RouterClient.openStream", () => {
  let node: RouterNodeHandle;
  let miner: MinerHandle;
  const client = new RouterClient();
  beforeAll(async () => {
    node = await startRouterNode({ port: 0, logger });
    miner = await startMiner({
      routerWsUrl: node.wsUrl,
      engine: "demo",
      models: ["demo"],
      demo: { tokenDelayMs: 1 },
      logger,
    });
  });
  afterAll(async () => {
    await miner.close();
    await node.close();
    await client.close();
  });

  it("relays a real router's token stream in order with usage on the last chunk", async () => {
    const events = await drain(
      await client.openStream(target(node.url), body, 30_000, new AbortController().signal),
    );
    const chunks = events.flatMap((e) => (e.type === "chunk" ? [e.chunk] : []));
    expect(chunks.length).toBeGreaterThan(2);
    const last = chunks.at(-1);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(last?.choices[0]?.finish_reason);
    const streamed = chunks.map((c) => c.choices[0]?.text ?? "").join("");
    // Same client_reference → the router returns the same task's result without running it again.
    const again = await client.complete(target(node.url), body, 30_000);
    expect(streamed).toBe(again.choices[0]?.text);
    expect(events.some((e) => e.type === "error")).toBe(false);
  });

  it("throws TargetUnavailableError on a 503 before streaming (safe to fail over)", async () => {
    const fake = await startFakeRouter((_q, _b, res) => {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "no_miners_available", message: "busy" } }));
    });
    try {
      await expect(
        client.openStream(target(fake.url), body, 5_000, new AbortController().signal),
      ).rejects.toBeInstanceOf(TargetUnavailableError);
    } finally {
      await fake.close();
    }
  });

  it("relays a whole JSON answer (streaming turned off by the router) as one chunk; garbage is an error", async () => {
    const answer = {
      id: "7",
      object: "text_completion",
      created: 1,
      model: "demo",
      choices: [{ index: 0, text: "all at once", finish_reason: "stop" }],
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
      session_id: 7,
      task_id: 9,
    };
    let reply: unknown = answer;
    const fake = await startFakeRouter((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(typeof reply === "string" ? reply : JSON.stringify(reply));
    });
    try {
      const events = await drain(
        await client.openStream(target(fake.url), body, 5_000, new AbortController().signal),
      );
      expect(events).toEqual([
        {
          type: "chunk",
          chunk: {
            id: "7",
            object: "text_completion",
            created: 1,
            model: "demo",
            choices: [{ index: 0, text: "all at once", finish_reason: "stop" }],
            usage: answer.usage,
            session_id: 7,
            task_id: 9,
          },
        },
      ]);
      reply = { ...answer, choices: [] };
      await expect(
        client.openStream(target(fake.url), body, 5_000, new AbortController().signal),
      ).rejects.toBeInstanceOf(UpstreamFailedError);
      reply = "{not json";
      await expect(
        client.openStream(target(fake.url), body, 5_000, new AbortController().signal),
      ).rejects.toBeInstanceOf(UpstreamFailedError);
    } finally {
      await fake.close();
    }
  });

  it("reports a router that breaks off mid-stream", async () => {
    const fake = await startFakeRouter((_q, _b, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(
        `data: ${JSON.stringify({ id: "x", object: "text_completion", created: 1, model: "demo", choices: [{ index: 0, text: "partial", finish_reason: null }] })}\n\n`,
      );
      setTimeout(() => res.destroy(), 20);
    });
    try {
      const gen = await client.openStream(
        target(fake.url),
        body,
        5_000,
        new AbortController().signal,
      );
      const seen: RouterStreamEvent[] = [];
      await expect(
        (async () => {
          for await (const e of gen) seen.push(e);
        })(),
      ).rejects.toBeInstanceOf(UpstreamFailedError);
      expect(seen[0]).toMatchObject({ type: "chunk" });
    } finally {
      await fake.close();
    }
  });

  it("turns a garbage event into an error event and stops", async () => {
    const fake = await startFakeRouter((_q, _b, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end("data: {not json}\n\ndata: [DONE]\n\n");
    });
    try {
      const events = await drain(
        await client.openStream(target(fake.url), body, 5_000, new AbortController().signal),
      );
      expect(events).toEqual([
        { type: "error", error: { code: "internal_error", message: expect.any(String) } },
      ]);
    } finally {
      await fake.close();
    }
  });

  it("stops quietly when the caller aborts", async () => {
    const controller = new AbortController();
    const gen = await client.openStream(
      target(node.url),
      { ...body, client_reference: "req_abort", max_tokens: 200 },
      30_000,
      controller.signal,
    );
    const seen: RouterStreamEvent[] = [];
    for await (const e of gen) {
      seen.push(e);
      if (seen.length === 2) controller.abort();
    }
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThan(50);
  });
});
