import {
  CompletionRequest,
  OpenAIChatCompletion,
  OpenAIChatCompletionChunk,
} from "@portal/contracts";
import { describe, expect, it } from "vitest";
import { renderChatPrompt } from "./chat-prompt.js";
import { toCompletionRequest } from "./common.js";
import {
  buildChatCompletion,
  OpenAIChatStreamEncoder,
  parseOpenAIChatRequest,
} from "./openai-chat.js";
import { sampleCompletionData } from "./sdk-stub-server.js";

const user = [{ role: "user", content: "hi" }];

function refusal(body: Record<string, unknown>) {
  const parsed = parseOpenAIChatRequest(JSON.stringify(body));
  if (parsed.ok) throw new Error(`expected a refusal for ${JSON.stringify(body)}`);
  return parsed.error;
}

function accepted(body: Record<string, unknown>) {
  const parsed = parseOpenAIChatRequest(JSON.stringify(body));
  if (!parsed.ok) throw new Error(`refused ${JSON.stringify(body)}: ${parsed.error.message}`);
  return parsed.value;
}

describe("parseOpenAIChatRequest", () => {
  it("treats null as not given and ignores unknown fields", () => {
    const req = accepted({
      model: "default",
      messages: [
        { role: "assistant", content: null },
        { role: "user", content: "hi" },
      ],
      max_tokens: null,
      temperature: null,
      top_p: null,
      stop: null,
      stream: null,
      stream_options: null,
      n: null,
      seed: null,
      tools: [],
      tool_choice: "none",
      logprobs: false,
      response_format: null,
      reasoning_effort: "low",
      some_future_field: { nested: true },
    });
    expect(req.completion).toEqual({ model: "default" });
    expect(req.chat.turns).toEqual([
      { role: "assistant", text: "" },
      { role: "user", text: "hi" },
    ]);
    expect(req).toMatchObject({ stream: false, includeUsage: false });
  });

  it("prefers max_completion_tokens over the deprecated max_tokens", () => {
    expect(
      accepted({ model: "m", messages: user, max_tokens: 10, max_completion_tokens: 20 }).completion
        .max_tokens,
    ).toBe(20);
    expect(accepted({ model: "m", messages: user, max_tokens: 10 }).completion.max_tokens).toBe(10);
  });

  it("only reports include_usage for streams", () => {
    const body = { model: "m", messages: user, stream_options: { include_usage: true } };
    expect(accepted(body).includeUsage).toBe(false);
    expect(accepted({ ...body, stream: true }).includeUsage).toBe(true);
  });

  it.each([
    [{ n: 2 }, "n", "n must be 1"],
    [
      { tools: [{ type: "function", function: { name: "f" } }] },
      "tools",
      "tools (function calling) is not supported",
    ],
    [{ tool_choice: "auto" }, "tool_choice", "tool_choice other than 'none' is not supported"],
    [{ functions: [{ name: "f" }] }, "functions", "functions (function calling) is not supported"],
    [
      { response_format: { type: "json_object" } },
      "response_format.type",
      "response_format type 'json_object' is not supported",
    ],
    [{ logprobs: true }, "logprobs", "logprobs is not supported"],
    [{ top_logprobs: 3 }, "top_logprobs", "top_logprobs is not supported"],
    [{ logit_bias: { "50256": -100 } }, "logit_bias", "logit_bias is not supported"],
    [{ modalities: ["text", "audio"] }, "modalities.1", "output modality 'audio' is not supported"],
    [{ audio: { voice: "alloy", format: "wav" } }, "audio", "audio output is not supported"],
    [{ stop: ["a", "b", "c", "d", "e"] }, "stop", "at most 4 stop sequences are supported"],
    [{ temperature: 3 }, "temperature", "<=2"],
    [{ top_p: -0.1 }, "top_p", ">=0"],
    [{ max_tokens: 0 }, "max_tokens", ">=1"],
  ])("refuses %j naming the field", (extra, path, message) => {
    const err = refusal({ model: "m", messages: user, ...extra });
    expect(err.code).toBe("invalid_request");
    expect(err.message).toContain(message);
    const issues = err.details?.issues as { path: string }[] | undefined;
    expect(issues?.[0]?.path).toBe(path);
  });

  it.each([
    [
      [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }],
      "messages.0.content.0.type",
      "content part type 'image_url' is not supported; only 'text' parts are accepted",
    ],
    [
      [{ role: "function", name: "f", content: "1" }],
      "messages.0.role",
      "role 'function' is not supported; use system, developer, user, assistant or tool",
    ],
    [
      [{ role: "assistant", content: null, tool_calls: [{ id: "c", type: "function" }] }],
      "messages.0.tool_calls",
      "tool_calls (function calling) is not supported by this gateway",
    ],
    [[{ role: "user" }], "messages.0.content", "content is required for a 'user' message"],
    [[{ role: "user", content: 7 }], "messages.0.content", "expected string or array"],
    [[], "messages", "messages must not be empty"],
    [[{ role: "user", content: "  " }], "messages", "messages contain no text"],
  ])("refuses messages %j", (messages, path, message) => {
    const err = refusal({ model: "m", messages });
    expect(err.message).toBe(`Invalid request: ${path}: ${message}`);
  });

  it("answers invalid_json for a body that is not JSON or empty", () => {
    expect(parseOpenAIChatRequest("{nope")).toMatchObject({
      ok: false,
      error: { code: "invalid_json" },
    });
    expect(parseOpenAIChatRequest("  ")).toMatchObject({
      ok: false,
      error: { code: "invalid_json" },
    });
  });

  it("maps onto a valid CompletionRequest once the prompt is rendered", () => {
    const req = accepted({
      model: "default",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
      ],
      max_completion_tokens: 50,
      temperature: 0.5,
      stop: "\n",
      stream: true,
    });
    const input = toCompletionRequest(req, renderChatPrompt("{prompt}", req.chat));
    expect(CompletionRequest.parse(input)).toEqual({
      model: "default",
      prompt: "System: Be brief.\n\nUser: hi\n\nAssistant:",
      max_tokens: 50,
      temperature: 0.5,
      stop: "\n",
      stream: true,
    });
  });
});

describe("buildChatCompletion", () => {
  it("builds a body that satisfies the contract schema", () => {
    const body = buildChatCompletion(sampleCompletionData());
    expect(OpenAIChatCompletion.parse(body)).toEqual(body);
    expect(body).toEqual({
      id: "chatcmpl-01JTESTCOMPLETION000000000",
      object: "chat.completion",
      created: 1_764_000_000,
      model: "default",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello from Portal.", refusal: null },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    });
  });

  it("maps only length to length; error, cancelled and null finish as stop", () => {
    const reasons = (["length", "error", "cancelled", null] as const).map(
      (finish_reason) =>
        buildChatCompletion(
          sampleCompletionData({ choices: [{ index: 0, text: "x", finish_reason }] }),
        ).choices[0]?.finish_reason,
    );
    expect(reasons).toEqual(["length", "stop", "stop", "stop"]);
  });
});

describe("OpenAIChatStreamEncoder", () => {
  const frames = (text: string) =>
    text
      .split("\n\n")
      .filter((f) => f !== "")
      .map((f) => f.replace(/^data: /, ""));

  it("emits role, deltas, finish, usage and [DONE] in order", () => {
    const enc = new OpenAIChatStreamEncoder({
      id: "cmpl_01JX",
      model: "default",
      created: 5,
      includeUsage: true,
    });
    const text =
      enc.delta("A") +
      enc.delta("") +
      enc.delta("B") +
      enc.finish({ finishReason: "length", usage: { prompt_tokens: 2, completion_tokens: 2 } });
    const out = frames(text);
    expect(out.at(-1)).toBe("[DONE]");
    const chunks = out.slice(0, -1).map((f) => OpenAIChatCompletionChunk.parse(JSON.parse(f)));
    expect(chunks.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason, c.usage])).toEqual([
      [{ role: "assistant", content: "" }, null, null],
      [{ content: "A" }, null, null],
      [{ content: "B" }, null, null],
      [{}, "length", null],
      [undefined, undefined, { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 }],
    ]);
    expect(chunks.every((c) => c.id === "chatcmpl-01JX" && c.created === 5)).toBe(true);
    // Nothing after the end.
    expect(
      enc.delta("late") +
        enc.finish({ finishReason: "stop", usage: { prompt_tokens: 0, completion_tokens: 0 } }),
    ).toBe("");
    expect(enc.keepAlive()).toBe("");
  });

  it("omits the usage member entirely without include_usage", () => {
    const enc = new OpenAIChatStreamEncoder({
      id: "x",
      model: "m",
      created: 1,
      includeUsage: false,
    });
    const out = frames(
      enc.delta("A") +
        enc.finish({ finishReason: "stop", usage: { prompt_tokens: 1, completion_tokens: 1 } }),
    );
    expect(out).toHaveLength(4);
    for (const f of out.slice(0, -1)) expect(JSON.parse(f)).not.toHaveProperty("usage");
  });

  it("ends with an error object and no [DONE] on a failure", () => {
    const enc = new OpenAIChatStreamEncoder({
      id: "x",
      model: "m",
      created: 1,
      includeUsage: false,
    });
    const text = enc.delta("A") + enc.error({ code: "upstream_timeout", message: "slow" });
    const last = frames(text).at(-1) ?? "";
    expect(JSON.parse(last)).toEqual({
      error: { message: "slow", type: "server_error", param: null, code: "upstream_timeout" },
    });
    expect(text).not.toContain("[DONE]");
    expect(enc.delta("more")).toBe("");
  });
});
