import { z } from "zod";
import { COMPLETION_LIMITS } from "./completions.js";

/*
 * `POST /v1/chat/completions`: the OpenAI chat shape as the official `openai` SDK sends it.
 *
 * Lenient where the SDK is: unknown fields are accepted and ignored (the SDK and its callers add
 * new ones often: `store`, `metadata`, `service_tier`, `prompt_cache_key`, `verbosity`, …), and
 * `null` is accepted wherever OpenAI documents it as "not given". Strict where silently ignoring a
 * field would change the answer the caller expects: tools/functions, `n` > 1, JSON response
 * formats, logprobs, audio output and non-text content parts are refused with a message that names
 * the field. Numeric ranges mirror `CompletionRequest` so a parsed request always maps onto it.
 */

const notSupported = (what: string) => `${what} is not supported by this gateway`;

/** A text content part; any other part type (image_url, input_audio, file, …) is refused. */
export const OpenAITextPart = z.looseObject({
  type: z.literal("text", {
    error: (iss) =>
      `content part type '${String(iss.input)}' is not supported; only 'text' parts are accepted`,
  }),
  text: z.string(),
});

const OpenAIContent = z.union([z.string(), z.array(OpenAITextPart)]);

/** One chat message. `function` (the deprecated tool role) is refused with the tools. */
export const OpenAIChatMessage = z
  .looseObject({
    role: z.enum(["system", "developer", "user", "assistant", "tool"], {
      error: (iss) =>
        `role '${String(iss.input)}' is not supported; use system, developer, user, assistant or tool`,
    }),
    // `null` is what the SDK sends back for an assistant message that only had tool calls.
    content: OpenAIContent.nullable().optional(),
    name: z.string().optional(),
    tool_call_id: z.string().optional(),
    tool_calls: z
      .array(z.unknown())
      .max(0, { error: notSupported("tool_calls (function calling)") })
      .nullable()
      .optional(),
    function_call: z.null({ error: notSupported("function_call") }).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.role !== "assistant" && (m.content === null || m.content === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["content"],
        message: `content is required for a '${m.role}' message`,
      });
    }
  });
export type OpenAIChatMessage = z.infer<typeof OpenAIChatMessage>;

const penalty = z.number().min(-2).max(2).nullable().optional();
const maxTokens = z.int().min(1).max(COMPLETION_LIMITS.maxTokensCeiling).nullable().optional();

/** Body of `POST /v1/chat/completions`. */
export const OpenAIChatCompletionRequest = z
  .looseObject({
    model: z.string().min(1).max(128),
    messages: z.array(OpenAIChatMessage).min(1, { error: "messages must not be empty" }),
    max_tokens: maxTokens,
    max_completion_tokens: maxTokens,
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    stop: z
      .union([
        z.string().min(1),
        z.array(z.string().min(1)).max(COMPLETION_LIMITS.stopMaxSequences, {
          error: `at most ${COMPLETION_LIMITS.stopMaxSequences} stop sequences are supported`,
        }),
      ])
      .nullable()
      .optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z
      .looseObject({ include_usage: z.boolean().nullable().optional() })
      .nullable()
      .optional(),
    n: z
      .literal(1, { error: "n must be 1: this gateway returns exactly one choice per request" })
      .nullable()
      .optional(),
    presence_penalty: penalty,
    frequency_penalty: penalty,
    /** Accepted for compatibility; router nodes do not take a seed, so it does not pin output. */
    seed: z.int().nullable().optional(),
    user: z.string().max(256).optional(),
    response_format: z
      .looseObject({
        type: z.literal("text", {
          error: (iss) =>
            `response_format type '${String(iss.input)}' is not supported; only 'text' is accepted`,
        }),
      })
      .nullable()
      .optional(),
    tools: z
      .array(z.unknown())
      .max(0, { error: notSupported("tools (function calling)") })
      .nullable()
      .optional(),
    tool_choice: z
      .literal("none", { error: notSupported("tool_choice other than 'none'") })
      .nullable()
      .optional(),
    functions: z
      .array(z.unknown())
      .max(0, { error: notSupported("functions (function calling)") })
      .nullable()
      .optional(),
    function_call: z
      .literal("none", { error: notSupported("function_call other than 'none'") })
      .nullable()
      .optional(),
    logprobs: z
      .literal(false, { error: notSupported("logprobs") })
      .nullable()
      .optional(),
    top_logprobs: z
      .literal(0, { error: notSupported("top_logprobs") })
      .nullable()
      .optional(),
    logit_bias: z
      .record(z.string(), z.number())
      .refine((b) => Object.keys(b).length === 0, { error: notSupported("logit_bias") })
      .nullable()
      .optional(),
    modalities: z
      .array(
        z.literal("text", {
          error: (iss) => notSupported(`output modality '${String(iss.input)}'`),
        }),
      )
      .nullable()
      .optional(),
    audio: z.null({ error: notSupported("audio output") }).optional(),
    prediction: z.null({ error: notSupported("prediction (predicted outputs)") }).optional(),
  })
  .superRefine((req, ctx) => {
    const hasText = req.messages.some((m) =>
      typeof m.content === "string"
        ? m.content.trim() !== ""
        : (m.content ?? []).some((p) => p.text.trim() !== ""),
    );
    if (!hasText) {
      ctx.addIssue({
        code: "custom",
        path: ["messages"],
        message: "messages contain no text",
      });
    }
  })
  .meta({
    id: "OpenAIChatCompletionRequest",
    example: {
      model: "default",
      messages: [
        { role: "system", content: "You are a concise assistant." },
        { role: "user", content: "Explain decentralized AI inference in one sentence." },
      ],
      max_completion_tokens: 160,
      temperature: 0.7,
      stream: false,
    },
  });
export type OpenAIChatCompletionRequest = z.infer<typeof OpenAIChatCompletionRequest>;

export const OpenAIFinishReason = z.enum(["stop", "length"]);
export type OpenAIFinishReason = z.infer<typeof OpenAIFinishReason>;

export const OpenAIUsage = z.object({
  prompt_tokens: z.int().nonnegative(),
  completion_tokens: z.int().nonnegative(),
  total_tokens: z.int().nonnegative(),
});
export type OpenAIUsage = z.infer<typeof OpenAIUsage>;

/** Non-streaming answer of `POST /v1/chat/completions`. */
export const OpenAIChatCompletion = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.int().nonnegative(),
        message: z.object({
          role: z.literal("assistant"),
          content: z.string(),
          refusal: z.null(),
        }),
        finish_reason: OpenAIFinishReason,
        logprobs: z.null(),
      }),
    ),
    usage: OpenAIUsage,
  })
  .meta({
    id: "OpenAIChatCompletion",
    example: {
      id: "chatcmpl-01JABCDEF0123456789ABCDEFG",
      object: "chat.completion",
      created: 1764000000,
      model: "default",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Many independent nodes…", refusal: null },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 24, completion_tokens: 31, total_tokens: 55 },
    },
  });
export type OpenAIChatCompletion = z.infer<typeof OpenAIChatCompletion>;

/** One `data:` event of a streamed chat completion. */
export const OpenAIChatCompletionChunk = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion.chunk"),
    created: z.int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.int().nonnegative(),
        delta: z.object({
          role: z.literal("assistant").optional(),
          content: z.string().optional(),
        }),
        finish_reason: OpenAIFinishReason.nullable(),
        logprobs: z.null(),
      }),
    ),
    /** Present (null until the last chunk) only when `stream_options.include_usage` was set. */
    usage: OpenAIUsage.nullable().optional(),
  })
  .meta({ id: "OpenAIChatCompletionChunk" });
export type OpenAIChatCompletionChunk = z.infer<typeof OpenAIChatCompletionChunk>;

/** OpenAI's error body; the `openai` SDK picks its exception class from the HTTP status. */
export const OpenAIErrorResponse = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .meta({
    id: "OpenAIErrorResponse",
    example: {
      error: {
        message: "Invalid API key.",
        type: "authentication_error",
        param: null,
        code: "invalid_api_key",
      },
    },
  });
export type OpenAIErrorResponse = z.infer<typeof OpenAIErrorResponse>;
