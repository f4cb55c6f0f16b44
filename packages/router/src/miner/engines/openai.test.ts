import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { RouterCompletionResponse, RouterErrorBody } from "@portal/contracts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { countTokens } from "../../core/tokens.js";
import { startTestRouter, type TestRouter } from "../../testing/harness.js";
import { OpenAiEngine } from "./openai.js";

/**
 * A tiny OpenAI-compatible server (POST /v1/completions, with and without `stream: true`) standing
 * in for vLLM, llama.cpp's server or Ollama. The prompt picks the behaviour:
 * - "fail…": HTTP 500 with an OpenAI error body
 * - "midfail…": streams a piece, then an error chunk
 * - "nousage…": answers without `usage`
 * - anything else: answers with `usage`, like vLLM with `stream_options.include_usage`
 */
type Received = { body: Record<string, unknown>; auth: string | undefined };
const received: Received[] = [];
const PIECES = [" Decentralized", " inference", " routes", " work", "."];
let server: Server;
let baseUrl: string;

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/completions") {
      res.writeHead(404).end();
      return;
    }
    const body = await readBody(req);
    received.push({ body, auth: req.headers.authorization });
    const prompt = String(body.prompt);
    if (prompt.startsWith("fail")) {
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { message: "model crashed", type: "server_error" } }));
      return;
    }
    const usage = prompt.startsWith("nousage")
      ? undefined
      : { prompt_tokens: 7, completion_tokens: PIECES.length, total_tokens: 7 + PIECES.length };
    if (body.stream !== true) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          id: "cmpl-fixture",
          object: "text_completion",
          choices: [{ index: 0, text: PIECES.join(""), finish_reason: "stop" }],
          ...(usage !== undefined && { usage }),
        }),
      );
      return;
    }
    res.writeHead(200, { "Content-Type": "text/event-stream" });
    if (prompt.startsWith("midfail")) {
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: " partial" }] })}\n\n`);
      res.end(`data: ${JSON.stringify({ error: { message: "out of memory" } })}\n\n`);
      return;
    }
    for (const [i, text] of PIECES.entries()) {
      const last = i === PIECES.length - 1;
      res.write(
        `data: ${JSON.stringify({ choices: [{ index: 0, text, finish_reason: last ? "stop" : null }] })}\n\n`,
      );
    }
    if (usage !== undefined) res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\n`);
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const req = { model: "llama-3.1-8b-instruct", prompt: "hello", max_tokens: 64, temperature: 0.2 };
const signal = () => new AbortController().signal;

describe("openai engine against an OpenAI-compatible server", () => {
  it("streams tokens, forwards the parameters and reports the server's usage", async () => {
    const engine = new OpenAiEngine({ baseUrl, apiKey: "sk-local", model: "served-name" });
    const tokens: string[] = [];
    const out = await engine.generate(
      {
        ...req,
        stop: ["\n\n"],
        top_p: 0.9,
        top_k: 40,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
      },
      (t) => tokens.push(t),
      signal(),
    );
    expect(tokens).toEqual(PIECES);
    expect(out).toEqual({
      text: PIECES.join(""),
      finish_reason: "stop",
      usage: { prompt_tokens: 7, completion_tokens: PIECES.length },
    });
    expect(received.at(-1)).toMatchObject({
      auth: "Bearer sk-local",
      body: {
        model: "served-name",
        prompt: "hello",
        max_tokens: 64,
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
        stop: ["\n\n"],
        stream: true,
        stream_options: { include_usage: true },
      },
    });
  });

  it("without stream: one JSON answer, with and without usage", async () => {
    const engine = new OpenAiEngine({ baseUrl, stream: false });
    const tokens: string[] = [];
    const out = await engine.generate(req, (t) => tokens.push(t), signal());
    expect(received.at(-1)?.body.stream).toBeUndefined();
    expect(received.at(-1)?.body.model).toBe(req.model);
    expect(received.at(-1)?.body).not.toHaveProperty("top_k");
    expect(tokens).toEqual([PIECES.join("")]);
    expect(out.usage).toEqual({ prompt_tokens: 7, completion_tokens: PIECES.length });
    const bare = await engine.generate({ ...req, prompt: "nousage" }, () => {}, signal());
    expect(bare).toEqual({ text: PIECES.join(""), finish_reason: "stop" });
  });

  it("a streamed answer without usage leaves usage to the router", async () => {
    const engine = new OpenAiEngine({ baseUrl });
    const out = await engine.generate({ ...req, prompt: "nousage" }, () => {}, signal());
    expect(out.usage).toBeUndefined();
    expect(out.text).toBe(PIECES.join(""));
  });

  it("an upstream HTTP error or an error chunk mid-stream rejects with the upstream's message", async () => {
    const engine = new OpenAiEngine({ baseUrl });
    await expect(engine.generate({ ...req, prompt: "fail" }, () => {}, signal())).rejects.toThrow(
      /upstream 500: .*model crashed/,
    );
    await expect(
      engine.generate({ ...req, prompt: "midfail" }, () => {}, signal()),
    ).rejects.toThrow(/upstream error: out of memory/);
  });
});

describe("openai miners behind a router", () => {
  let t: TestRouter | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("usage is the router's BPE count whether or not the upstream reports one", async () => {
    t = await startTestRouter({}, 0);
    await t.addMiners(1, { engine: "openai", openai: { baseUrl } });
    const counted = (prompt: string) => ({
      prompt_tokens: countTokens(prompt),
      completion_tokens: countTokens(PIECES.join("")),
      total_tokens: countTokens(prompt) + countTokens(PIECES.join("")),
    });
    const bare = RouterCompletionResponse.parse(
      await (await t.post("/api/v3/completions/0", { prompt: "nousage please" })).json(),
    );
    expect(bare.choices[0]?.text).toBe(PIECES.join(""));
    expect(bare.usage).toEqual(counted("nousage please"));
    // The upstream says 7 + 5; the miner passes that on, but the bill is the router's own count.
    const reported = RouterCompletionResponse.parse(
      await (await t.post("/api/v1/completions/0", { prompt: "with usage" })).json(),
    );
    expect(reported.usage).toEqual(counted("with usage"));
  });

  it("an upstream error fails the task with the upstream's reason (502 task_failed)", async () => {
    t = await startTestRouter({}, 0);
    await t.addMiners(1, { engine: "openai", openai: { baseUrl } });
    const res = await t.post("/api/v1/completions/0", { prompt: "fail now" });
    const body = RouterErrorBody.parse(await res.json());
    expect(res.status).toBe(502);
    expect(body.error.code).toBe("task_failed");
    expect(JSON.stringify(body.error.details)).toContain("model crashed");
    // The router keeps serving: the next request works.
    expect((await t.post("/api/v1/completions/0", { prompt: "ok again" })).status).toBe(200);
  });
});
