import { type ErrorCode, ErrorCode as ErrorCodeEnum } from "@portal/contracts";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildChatCompletion,
  type CompatRequest,
  OpenAIChatStreamEncoder,
  parseOpenAIChatRequest,
  renderOpenAIError,
} from "./index.js";
import { type StubServer, sampleCompletionData, startStubServer } from "./sdk-stub-server.js";

// The official `openai` SDK against a local stub that answers with our builders' output.

let stub: StubServer;
let client: OpenAI;

beforeAll(async () => {
  stub = await startStubServer();
  client = new OpenAI({ apiKey: "cx_live_test", baseURL: `${stub.baseUrl}/v1`, maxRetries: 0 });
});
afterAll(() => stub.close());

/** Parse what the SDK sent with our schema; fail loudly with the body when it is refused. */
function parseSent(body: string): CompatRequest {
  const parsed = parseOpenAIChatRequest(body);
  if (!parsed.ok) throw new Error(`refused SDK body ${body}: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

/** Answer a chat request as the route will: our stream encoder, text split into deltas. */
function streamReply(body: string, pieces: string[]) {
  const req = parseSent(body);
  const enc = new OpenAIChatStreamEncoder({
    id: "cmpl_01JSTREAM0000000000000000",
    model: req.completion.model,
    created: 1_764_000_000,
    includeUsage: req.includeUsage,
  });
  const frames = [enc.keepAlive(), enc.start(), ...pieces.map((p) => enc.delta(p))];
  frames.push(
    enc.finish({ finishReason: "stop", usage: { prompt_tokens: 9, completion_tokens: 4 } }),
  );
  return { status: 200, body: frames };
}

describe("openai SDK → our schema", () => {
  it("accepts everything the SDK sends for a full-featured non-stream request", async () => {
    stub.reply(() => ({
      status: 200,
      body: JSON.stringify(buildChatCompletion(sampleCompletionData())),
    }));
    await client.chat.completions.create({
      model: "default",
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "system", content: [{ type: "text", text: "Answer in English." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "Hi" },
            { type: "text", text: "there" },
          ],
          name: "ann",
        },
        { role: "assistant", content: "Hello!", refusal: null },
        { role: "user", content: "Say hello." },
      ],
      max_completion_tokens: 32,
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stop: ["\n\n"],
      n: 1,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      seed: 42,
      user: "customer-7",
      response_format: { type: "text" },
      store: false,
      metadata: { trace: "x" },
      parallel_tool_calls: false,
      service_tier: "auto",
    });
    const sent = stub.requests.at(-1);
    expect(sent?.url).toBe("/v1/chat/completions");
    const req = parseSent(sent?.body ?? "");
    expect(req).toEqual({
      completion: {
        model: "default",
        max_tokens: 32,
        temperature: 0.2,
        top_p: 0.9,
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
        stop: ["\n\n"],
        user: "customer-7",
      },
      chat: {
        turns: [
          { role: "system", text: "Be brief." },
          { role: "system", text: "Answer in English." },
          { role: "user", text: "Hi\nthere" },
          { role: "assistant", text: "Hello!" },
          { role: "user", text: "Say hello." },
        ],
        continueLast: false,
      },
      stream: false,
      includeUsage: false,
      fieldNames: { prompt: "messages", max_tokens: "max_completion_tokens" },
    });
  });

  it("parses our chat.completion into the SDK's ChatCompletion", async () => {
    const data = sampleCompletionData({
      choices: [{ index: 0, text: "Cut off mid", finish_reason: "length" }],
    });
    stub.reply(() => ({ status: 200, body: JSON.stringify(buildChatCompletion(data)) }));
    const completion = await client.chat.completions.create({
      model: "default",
      messages: [{ role: "user", content: "Tell me a story." }],
    });
    expect(completion).toMatchObject({
      id: "chatcmpl-01JTESTCOMPLETION000000000",
      object: "chat.completion",
      created: 1_764_000_000,
      model: "default",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Cut off mid" },
          finish_reason: "length",
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    });
  });

  it("streams chunks without a usage chunk when include_usage is not set", async () => {
    stub.reply((r) => streamReply(r.body, ["Hel", "lo", "!"]));
    const stream = await client.chat.completions.create({
      model: "default",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(parseSent(stub.requests.at(-1)?.body ?? "")).toMatchObject({
      stream: true,
      includeUsage: false,
    });
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "Hel" },
      { content: "lo" },
      { content: "!" },
      {},
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([
      null,
      null,
      null,
      null,
      "stop",
    ]);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.usage === undefined)).toBe(
      true,
    );
    expect(new Set(chunks.map((c) => c.id))).toEqual(
      new Set(["chatcmpl-01JSTREAM0000000000000000"]),
    );
  });

  it("streams a trailing usage chunk with choices: [] when include_usage is set", async () => {
    stub.reply((r) => streamReply(r.body, ["Hi", " there"]));
    const stream = await client.chat.completions.create({
      model: "default",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
    });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hi there");
  });

  it("assembles the stream in the SDK's own helper (chat.completions.stream)", async () => {
    stub.reply((r) => streamReply(r.body, ["Portal ", "works."]));
    const final = await client.chat.completions
      .stream({
        model: "default",
        messages: [{ role: "user", content: "hi" }],
        stream_options: { include_usage: true },
      })
      .finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("Portal works.");
    expect(final.choices[0]?.finish_reason).toBe("stop");
    expect(final.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  });

  it("throws an APIError carrying a mid-stream error event", async () => {
    stub.reply(() => {
      const enc = new OpenAIChatStreamEncoder({
        id: "cmpl_x",
        model: "default",
        created: 1,
        includeUsage: false,
      });
      return {
        status: 200,
        body: [
          enc.delta("partial"),
          enc.error({ code: "upstream_error", message: "The router's stream broke off." }),
        ],
      };
    });
    const stream = await client.chat.completions.create({
      model: "default",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(seen.join("")).toBe("partial");
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain(
      "The router's stream broke off.",
    );
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe("upstream_error");
  });
});

describe("openai SDK error classes", () => {
  type ErrorClass = new (...args: never[]) => InstanceType<typeof OpenAI.APIError>;
  const expected: Record<ErrorCode, { cls: ErrorClass; status: number }> = {
    invalid_request: { cls: OpenAI.BadRequestError, status: 400 },
    invalid_json: { cls: OpenAI.BadRequestError, status: 400 },
    payload_too_large: { cls: OpenAI.APIError, status: 413 },
    unauthorized: { cls: OpenAI.AuthenticationError, status: 401 },
    key_revoked: { cls: OpenAI.AuthenticationError, status: 401 },
    key_expired: { cls: OpenAI.AuthenticationError, status: 401 },
    account_disabled: { cls: OpenAI.PermissionDeniedError, status: 403 },
    forbidden: { cls: OpenAI.PermissionDeniedError, status: 403 },
    model_not_allowed: { cls: OpenAI.PermissionDeniedError, status: 403 },
    model_not_found: { cls: OpenAI.NotFoundError, status: 404 },
    not_found: { cls: OpenAI.NotFoundError, status: 404 },
    idempotency_conflict: { cls: OpenAI.ConflictError, status: 409 },
    conflict: { cls: OpenAI.ConflictError, status: 409 },
    insufficient_balance: { cls: OpenAI.RateLimitError, status: 429 },
    rate_limited: { cls: OpenAI.RateLimitError, status: 429 },
    quota_exceeded: { cls: OpenAI.RateLimitError, status: 429 },
    pool_unavailable: { cls: OpenAI.InternalServerError, status: 503 },
    upstream_error: { cls: OpenAI.InternalServerError, status: 502 },
    upstream_timeout: { cls: OpenAI.InternalServerError, status: 504 },
    internal_error: { cls: OpenAI.InternalServerError, status: 500 },
  };

  it("covers every catalogue code", () => {
    expect(Object.keys(expected).sort()).toEqual([...ErrorCodeEnum.options].sort());
  });

  for (const code of ErrorCodeEnum.options) {
    it(`${code} → ${expected[code].cls.name} (${expected[code].status})`, async () => {
      const rendered = renderOpenAIError({ code, message: `failure: ${code}` });
      stub.reply(() => ({
        status: rendered.status,
        headers: { ...rendered.headers, "x-request-id": "req_01JERR" },
        body: JSON.stringify(rendered.body),
      }));
      const err = await client.chat.completions
        .create({ model: "default", messages: [{ role: "user", content: "hi" }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(expected[code].cls);
      const apiErr = err as InstanceType<typeof OpenAI.APIError>;
      expect(apiErr.status).toBe(expected[code].status);
      expect(apiErr.message).toBe(`${expected[code].status} failure: ${code}`);
      expect(apiErr.type).toBe(rendered.body.error.type);
      expect(apiErr.code).toBe(rendered.body.error.code);
      expect(apiErr.requestID).toBe("req_01JERR");
    });
  }

  it("names the offending field in `param` for a schema violation", async () => {
    const parsed = parseOpenAIChatRequest(
      JSON.stringify({ model: "default", messages: [{ role: "user", content: "hi" }], n: 3 }),
    );
    if (parsed.ok) throw new Error("n: 3 should be refused");
    const rendered = renderOpenAIError(parsed.error);
    stub.reply(() => ({ status: rendered.status, body: JSON.stringify(rendered.body) }));
    const err = await client.chat.completions
      .create({ model: "default", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("n");
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("n must be 1");
  });

  it("is not retried by the SDK when the balance is empty, but a rate limit is", async () => {
    const retrying = new OpenAI({
      apiKey: "cx_live_test",
      baseURL: `${stub.baseUrl}/v1`,
      maxRetries: 1,
    });
    const count = async (code: ErrorCode, headers: Record<string, string> = {}) => {
      const rendered = renderOpenAIError({ code, message: code, headers });
      stub.reply(() => ({
        status: rendered.status,
        headers: rendered.headers,
        body: JSON.stringify(rendered.body),
      }));
      const before = stub.requests.length;
      await retrying.chat.completions
        .create({ model: "default", messages: [{ role: "user", content: "hi" }] })
        .catch(() => undefined);
      return stub.requests.length - before;
    };
    expect(await count("insufficient_balance")).toBe(1);
    expect(await count("quota_exceeded")).toBe(1);
    expect(await count("rate_limited", { "Retry-After": "0" })).toBe(2);
  });
});
