import Anthropic from "@anthropic-ai/sdk";
import { type ErrorCode, ErrorCode as ErrorCodeEnum } from "@portal/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AnthropicMessageStreamEncoder,
  buildAnthropicMessage,
  type CompatRequest,
  parseAnthropicMessagesRequest,
  renderAnthropicError,
} from "./index.js";
import { type StubServer, sampleCompletionData, startStubServer } from "./sdk-stub-server.js";

// The official `@anthropic-ai/sdk` against a local stub that answers with our builders' output.

let stub: StubServer;
let client: Anthropic;

beforeAll(async () => {
  stub = await startStubServer();
  client = new Anthropic({ apiKey: "cx_live_test", baseURL: stub.baseUrl, maxRetries: 0 });
});
afterAll(() => stub.close());

function parseSent(body: string): CompatRequest {
  const parsed = parseAnthropicMessagesRequest(body);
  if (!parsed.ok) throw new Error(`refused SDK body ${body}: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

/** Answer as the route will: our encoder, input tokens unknown at start, text in pieces. */
function streamReply(body: string, pieces: string[], finishReason: "stop" | "length" = "stop") {
  const req = parseSent(body);
  const enc = new AnthropicMessageStreamEncoder({
    id: "cmpl_01JSTREAM0000000000000000",
    model: req.completion.model,
  });
  const frames = [enc.start(), enc.keepAlive(), ...pieces.map((p) => enc.delta(p))];
  frames.push(enc.finish({ finishReason, usage: { prompt_tokens: 11, completion_tokens: 3 } }));
  return { status: 200, body: frames };
}

describe("anthropic SDK → our schema", () => {
  it("accepts everything the SDK sends for a full-featured request", async () => {
    stub.reply(() => ({
      status: 200,
      body: JSON.stringify(buildAnthropicMessage(sampleCompletionData())),
    }));
    await client.messages.create({
      model: "default",
      max_tokens: 64,
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Hi" },
            { type: "text", text: "there" },
          ],
        },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "Name a colour." },
        { role: "assistant", content: "The colour is" },
      ],
      stop_sequences: ["\n\nHuman:"],
      // SDK 1.x types no longer list temperature/top_p/top_k; older SDKs send them and the
      // schema accepts them (anthropic-messages.test.ts).
      metadata: { user_id: "customer-7" },
      thinking: { type: "disabled" },
      service_tier: "standard_only",
    });
    const sent = stub.requests.at(-1);
    expect(sent?.url).toBe("/v1/messages");
    expect(parseSent(sent?.body ?? "")).toEqual({
      completion: {
        model: "default",
        max_tokens: 64,
        stop: ["\n\nHuman:"],
        user: "customer-7",
      },
      chat: {
        turns: [
          { role: "system", text: "Be brief." },
          { role: "user", text: "Hi\nthere" },
          { role: "assistant", text: "Hello!" },
          { role: "user", text: "Name a colour." },
          { role: "assistant", text: "The colour is" },
        ],
        continueLast: true,
      },
      stream: false,
      includeUsage: false,
      fieldNames: { prompt: "messages" },
    });
  });

  it("parses our Message into the SDK's Message", async () => {
    const data = sampleCompletionData({
      choices: [{ index: 0, text: "Cut off", finish_reason: "length" }],
    });
    stub.reply(() => ({ status: 200, body: JSON.stringify(buildAnthropicMessage(data)) }));
    const message = await client.messages.create({
      model: "default",
      max_tokens: 5,
      messages: [{ role: "user", content: "Tell me a story." }],
    });
    expect(message).toMatchObject({
      id: "msg_01JTESTCOMPLETION000000000",
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: "Cut off" }],
      model: "default",
      stop_reason: "max_tokens",
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 5 },
    });
  });

  it("streams the event sequence through messages.create({stream: true})", async () => {
    stub.reply((r) => streamReply(r.body, ["Hel", "lo"]));
    const stream = await client.messages.create({
      model: "default",
      max_tokens: 16,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(parseSent(stub.requests.at(-1)?.body ?? "").stream).toBe(true);
    // `ping` events are swallowed by the SDK; everything else arrives in order.
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[0]).toMatchObject({
      message: { id: "msg_01JSTREAM0000000000000000", model: "default", content: [] },
    });
    expect(events[5]).toMatchObject({
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { input_tokens: 11, output_tokens: 3 },
    });
  });

  it("assembles the final message with messages.stream().finalMessage()", async () => {
    stub.reply((r) => streamReply(r.body, ["Portal ", "works", "."], "length"));
    const seen: string[] = [];
    const final = await client.messages
      .stream({ model: "default", max_tokens: 3, messages: [{ role: "user", content: "hi" }] })
      .on("text", (t) => seen.push(t))
      .finalMessage();
    expect(seen).toEqual(["Portal ", "works", "."]);
    expect(final).toMatchObject({
      id: "msg_01JSTREAM0000000000000000",
      role: "assistant",
      content: [{ type: "text", text: "Portal works." }],
      stop_reason: "max_tokens",
      // input tokens were 0 in message_start; the SDK keeps message_delta's figure.
      usage: { input_tokens: 11, output_tokens: 3 },
    });
  });

  it("throws on a mid-stream error event", async () => {
    stub.reply(() => {
      const enc = new AnthropicMessageStreamEncoder({ id: "cmpl_x", model: "default" });
      return {
        status: 200,
        body: [
          enc.delta("partial"),
          enc.error({ code: "pool_unavailable", message: "No router is available right now." }),
        ],
      };
    });
    const err = await client.messages
      .stream({ model: "default", max_tokens: 3, messages: [{ role: "user", content: "hi" }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const apiErr = err as InstanceType<typeof Anthropic.APIError>;
    expect(apiErr.type).toBe("overloaded_error");
    expect(apiErr.message).toContain("No router is available right now.");
  });
});

describe("anthropic SDK error classes", () => {
  type ErrorClass = new (...args: never[]) => InstanceType<typeof Anthropic.APIError>;
  const expected: Record<ErrorCode, { cls: ErrorClass; status: number }> = {
    invalid_request: { cls: Anthropic.BadRequestError, status: 400 },
    invalid_json: { cls: Anthropic.BadRequestError, status: 400 },
    payload_too_large: { cls: Anthropic.ContentTooLargeError, status: 413 },
    unauthorized: { cls: Anthropic.AuthenticationError, status: 401 },
    key_revoked: { cls: Anthropic.AuthenticationError, status: 401 },
    key_expired: { cls: Anthropic.AuthenticationError, status: 401 },
    account_disabled: { cls: Anthropic.PermissionDeniedError, status: 403 },
    forbidden: { cls: Anthropic.PermissionDeniedError, status: 403 },
    model_not_allowed: { cls: Anthropic.PermissionDeniedError, status: 403 },
    model_not_found: { cls: Anthropic.NotFoundError, status: 404 },
    not_found: { cls: Anthropic.NotFoundError, status: 404 },
    idempotency_conflict: { cls: Anthropic.ConflictError, status: 409 },
    conflict: { cls: Anthropic.ConflictError, status: 409 },
    insufficient_balance: { cls: Anthropic.PaymentRequiredError, status: 402 },
    rate_limited: { cls: Anthropic.RateLimitError, status: 429 },
    quota_exceeded: { cls: Anthropic.RateLimitError, status: 429 },
    pool_unavailable: { cls: Anthropic.ServiceUnavailableError, status: 503 },
    upstream_error: { cls: Anthropic.InternalServerError, status: 502 },
    upstream_timeout: { cls: Anthropic.GatewayTimeoutError, status: 504 },
    internal_error: { cls: Anthropic.InternalServerError, status: 500 },
  };

  it("covers every catalogue code", () => {
    expect(Object.keys(expected).sort()).toEqual([...ErrorCodeEnum.options].sort());
  });

  for (const code of ErrorCodeEnum.options) {
    it(`${code} → ${expected[code].cls.name} (${expected[code].status})`, async () => {
      const rendered = renderAnthropicError(
        { code, message: `failure: ${code}` },
        { requestId: "req_01JERR" },
      );
      stub.reply(() => ({
        status: rendered.status,
        headers: rendered.headers,
        body: JSON.stringify(rendered.body),
      }));
      const err = await client.messages
        .create({ model: "default", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(expected[code].cls);
      const apiErr = err as InstanceType<typeof Anthropic.APIError>;
      expect(apiErr.status).toBe(expected[code].status);
      expect(apiErr.type).toBe(rendered.body.error.type);
      expect(apiErr.apiMessage).toBe(`failure: ${code}`);
      expect(apiErr.requestID).toBe("req_01JERR");
    });
  }

  it("sends a schema violation back as a BadRequestError naming the field", async () => {
    const parsed = parseAnthropicMessagesRequest(
      JSON.stringify({
        model: "default",
        max_tokens: 5,
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/png", data: "" } },
            ],
          },
        ],
      }),
    );
    if (parsed.ok) throw new Error("an image block should be refused");
    const rendered = renderAnthropicError(parsed.error);
    stub.reply(() => ({ status: rendered.status, body: JSON.stringify(rendered.body) }));
    const err = await client.messages
      .create({ model: "default", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).apiMessage).toBe(
      "Invalid request: messages.0.content.0.type: content block type 'image' is not supported; only 'text' blocks are accepted",
    );
  });
});
