import { AnthropicMessage, CompletionRequest } from "@portal/contracts";
import { describe, expect, it } from "vitest";
import {
  AnthropicMessageStreamEncoder,
  buildAnthropicMessage,
  parseAnthropicMessagesRequest,
  toAnthropicStopReason,
} from "./anthropic-messages.js";
import { renderChatPrompt } from "./chat-prompt.js";
import { toCompletionRequest } from "./common.js";
import { sampleCompletionData } from "./sdk-stub-server.js";

const base = { model: "default", max_tokens: 32, messages: [{ role: "user", content: "hi" }] };

function refusal(body: Record<string, unknown>) {
  const parsed = parseAnthropicMessagesRequest(JSON.stringify(body));
  if (parsed.ok) throw new Error(`expected a refusal for ${JSON.stringify(body)}`);
  return parsed.error;
}

function accepted(body: Record<string, unknown>) {
  const parsed = parseAnthropicMessagesRequest(JSON.stringify(body));
  if (!parsed.ok) throw new Error(`refused ${JSON.stringify(body)}: ${parsed.error.message}`);
  return parsed.value;
}

describe("parseAnthropicMessagesRequest", () => {
  it("maps the request onto our fields and puts system first", () => {
    const req = accepted({
      ...base,
      system: "Be brief.",
      stop_sequences: ["END"],
      temperature: 1,
      top_p: 0.9,
      top_k: 5,
      metadata: { user_id: "u-1" },
      stream: true,
      container: null,
      inference_geo: "us",
    });
    expect(req).toEqual({
      completion: {
        model: "default",
        max_tokens: 32,
        temperature: 1,
        top_p: 0.9,
        top_k: 5,
        stop: ["END"],
        user: "u-1",
      },
      chat: {
        turns: [
          { role: "system", text: "Be brief." },
          { role: "user", text: "hi" },
        ],
        continueLast: false,
      },
      stream: true,
      includeUsage: false,
      fieldNames: { prompt: "messages" },
    });
  });

  it("keeps system turns inside messages, drops an empty system and omits empty stop_sequences", () => {
    const req = accepted({
      ...base,
      system: [],
      stop_sequences: [],
      messages: [
        { role: "system", content: [{ type: "text", text: "Rules." }] },
        { role: "user", content: "hi" },
      ],
    });
    expect(req.chat.turns).toEqual([
      { role: "system", text: "Rules." },
      { role: "user", text: "hi" },
    ]);
    expect(req.completion).not.toHaveProperty("stop");
  });

  it("marks a trailing assistant message as a prefill to continue", () => {
    const req = accepted({
      ...base,
      messages: [
        { role: "user", content: "Name a colour." },
        { role: "assistant", content: "The colour is" },
      ],
    });
    expect(req.chat.continueLast).toBe(true);
    expect(renderChatPrompt("{prompt}", req.chat)).toBe(
      "User: Name a colour.\n\nAssistant: The colour is",
    );
  });

  it.each([
    [{ max_tokens: undefined }, "max_tokens", "Invalid input: expected number, received undefined"],
    [{ temperature: 1.5 }, "temperature", "Too big: expected number to be <=1"],
    [
      { stop_sequences: ["a", "b", "c", "d", "e"] },
      "stop_sequences",
      "at most 4 stop_sequences are supported",
    ],
    [
      { tools: [{ name: "get_weather", input_schema: { type: "object" } }] },
      "tools",
      "tools (tool use) is not supported by this gateway",
    ],
    [
      { tool_choice: { type: "auto" } },
      "tool_choice.type",
      "tool_choice other than 'none' is not supported by this gateway",
    ],
    [
      { thinking: { type: "enabled", budget_tokens: 1024 } },
      "thinking.type",
      "thinking type 'enabled' is not supported by this gateway",
    ],
    [
      { output_config: { format: { type: "json_schema", schema: {} } } },
      "output_config.format",
      "output_config.format is not supported by this gateway",
    ],
    [
      { system: [{ type: "image", source: {} }] },
      "system.0.type",
      "content block type 'image' is not supported; only 'text' blocks are accepted",
    ],
    [
      {
        messages: [
          { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "1" }] },
        ],
      },
      "messages.0.content.0.type",
      "content block type 'tool_result' is not supported; only 'text' blocks are accepted",
    ],
    [
      { messages: [{ role: "tool", content: "x" }] },
      "messages.0.role",
      "role 'tool' is not supported; use user or assistant (system is a top-level field)",
    ],
    [{ messages: [] }, "messages", "messages must not be empty"],
    [{ messages: [{ role: "user", content: [] }] }, "messages", "messages contain no text"],
  ])("refuses %j with a message naming the field", (extra, path, message) => {
    const err = refusal({ ...base, ...extra });
    expect(err.code).toBe("invalid_request");
    expect(err.message).toBe(`Invalid request: ${path}: ${message}`);
  });

  it("maps onto a valid CompletionRequest once the prompt is rendered", () => {
    const req = accepted({ ...base, system: "S", stop_sequences: ["X"] });
    const input = toCompletionRequest(req, renderChatPrompt("<s>{messages}{prompt}", req.chat));
    expect(CompletionRequest.parse(input)).toEqual({
      model: "default",
      max_tokens: 32,
      stop: ["X"],
      stream: false,
      prompt:
        "<s><|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    });
  });
});

describe("buildAnthropicMessage", () => {
  it("builds a Message that satisfies the contract schema", () => {
    const body = buildAnthropicMessage(sampleCompletionData());
    expect(AnthropicMessage.parse(body)).toEqual(body);
    expect(body).toEqual({
      id: "msg_01JTESTCOMPLETION000000000",
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: "Hello from Portal." }],
      model: "default",
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 5 },
    });
  });

  it("reports stop_sequence only when the caller knows which one matched", () => {
    expect(toAnthropicStopReason("stop")).toBe("end_turn");
    expect(toAnthropicStopReason("length", "X")).toBe("max_tokens");
    expect(toAnthropicStopReason(null)).toBe("end_turn");
    expect(buildAnthropicMessage(sampleCompletionData(), { stopSequence: "END" })).toMatchObject({
      stop_reason: "stop_sequence",
      stop_sequence: "END",
    });
  });
});

describe("AnthropicMessageStreamEncoder", () => {
  function events(text: string) {
    return text
      .split("\n\n")
      .filter((f) => f !== "")
      .map((f) => {
        const [eventLine, dataLine] = f.split("\n");
        const data = JSON.parse((dataLine ?? "").replace(/^data: /, "")) as { type: string };
        // Every frame is named, and the name matches the payload's type.
        expect(eventLine).toBe(`event: ${data.type}`);
        return data;
      });
  }

  it("emits the full event sequence with usage on message_start and message_delta", () => {
    const enc = new AnthropicMessageStreamEncoder({ id: "cmpl_01JX", model: "default" });
    const out = events(
      enc.start({ inputTokens: 7 }) +
        enc.delta("A") +
        enc.delta("") +
        enc.delta("B") +
        enc.finish({ finishReason: "stop", usage: { prompt_tokens: 7, completion_tokens: 2 } }),
    );
    expect(out).toEqual([
      {
        type: "message_start",
        message: {
          id: "msg_01JX",
          type: "message",
          role: "assistant",
          content: [],
          model: "default",
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 7, output_tokens: 0 },
        },
      },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "ping" },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "A" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "B" } },
      { type: "content_block_stop", index: 0 },
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { input_tokens: 7, output_tokens: 2 },
      },
      { type: "message_stop" },
    ]);
    expect(enc.delta("late")).toBe("");
    expect(enc.keepAlive()).toBe("");
  });

  it("opens the message by itself when finish comes first (empty answer)", () => {
    const enc = new AnthropicMessageStreamEncoder({ id: "x", model: "m" });
    const types = events(
      enc.finish({ finishReason: "length", usage: { prompt_tokens: 1, completion_tokens: 0 } }),
    ).map((e) => e.type);
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("ends with an error event on a failure", () => {
    const enc = new AnthropicMessageStreamEncoder({ id: "x", model: "m" });
    const out = events(enc.delta("A") + enc.error({ code: "upstream_timeout", message: "slow" }));
    expect(out.at(-1)).toEqual({
      type: "error",
      error: { type: "timeout_error", message: "slow" },
    });
    expect(
      enc.finish({ finishReason: "stop", usage: { prompt_tokens: 0, completion_tokens: 0 } }),
    ).toBe("");
  });
});
