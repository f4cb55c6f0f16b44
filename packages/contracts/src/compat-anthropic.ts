import { z } from "zod";
import { COMPLETION_LIMITS } from "./completions.js";

/*
 * `POST /v1/messages`: the Anthropic Messages shape as the official `@anthropic-ai/sdk` sends it.
 *
 * Unknown fields are accepted and ignored (the SDK grows new optional ones: `service_tier`,
 * `container`, `inference_geo`, `speed`, …). Features that would change the answer if silently
 * ignored are refused by name: tools, MCP servers, extended thinking, structured output formats
 * and any content block other than text (image, document, tool_use, tool_result, thinking, …).
 * Ranges mirror `CompletionRequest` so a parsed request always maps onto it; `stop_sequences` is
 * capped at the gateway's limit of 4.
 */

const notSupported = (what: string) => `${what} is not supported by this gateway`;

/** A text content block; every other block type is refused. */
export const AnthropicTextBlock = z.looseObject({
  type: z.literal("text", {
    error: (iss) =>
      `content block type '${String(iss.input)}' is not supported; only 'text' blocks are accepted`,
  }),
  text: z.string(),
});

const AnthropicContent = z.union([z.string(), z.array(AnthropicTextBlock)]);

/** One turn. `system` turns are what newer SDKs allow inside `messages`. */
export const AnthropicMessageParam = z.looseObject({
  role: z.enum(["user", "assistant", "system"], {
    error: (iss) =>
      `role '${String(iss.input)}' is not supported; use user or assistant (system is a top-level field)`,
  }),
  content: AnthropicContent,
});
export type AnthropicMessageParam = z.infer<typeof AnthropicMessageParam>;

/** Body of `POST /v1/messages`. */
export const AnthropicMessagesRequest = z
  .looseObject({
    model: z.string().min(1).max(128),
    max_tokens: z.int().min(1).max(COMPLETION_LIMITS.maxTokensCeiling),
    messages: z.array(AnthropicMessageParam).min(1, { error: "messages must not be empty" }),
    system: AnthropicContent.optional(),
    stop_sequences: z
      .array(z.string().min(1))
      .max(COMPLETION_LIMITS.stopMaxSequences, {
        error: `at most ${COMPLETION_LIMITS.stopMaxSequences} stop_sequences are supported`,
      })
      .optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.int().min(0).max(1000).optional(),
    stream: z.boolean().optional(),
    metadata: z.looseObject({ user_id: z.string().max(256).nullable().optional() }).optional(),
    tools: z
      .array(z.unknown())
      .max(0, { error: notSupported("tools (tool use)") })
      .optional(),
    tool_choice: z
      .looseObject({
        type: z.literal("none", { error: notSupported("tool_choice other than 'none'") }),
      })
      .optional(),
    mcp_servers: z
      .array(z.unknown())
      .max(0, { error: notSupported("mcp_servers") })
      .optional(),
    thinking: z
      .looseObject({
        type: z.literal("disabled", {
          error: (iss) => notSupported(`thinking type '${String(iss.input)}'`),
        }),
      })
      .optional(),
    output_config: z
      .looseObject({ format: z.null({ error: notSupported("output_config.format") }).optional() })
      .optional(),
  })
  .superRefine((req, ctx) => {
    const hasText = req.messages.some((m) =>
      typeof m.content === "string"
        ? m.content.trim() !== ""
        : m.content.some((b) => b.text.trim() !== ""),
    );
    if (!hasText) {
      ctx.addIssue({ code: "custom", path: ["messages"], message: "messages contain no text" });
    }
  })
  .meta({
    id: "AnthropicMessagesRequest",
    example: {
      model: "default",
      max_tokens: 160,
      system: "You are a concise assistant.",
      messages: [{ role: "user", content: "Explain decentralized AI inference in one sentence." }],
    },
  });
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequest>;

/**
 * Body of `POST /v1/messages/count_tokens`: a Messages request without `max_tokens` (it counts
 * the input only). Validated as a Messages request (same refusals) with `max_tokens` filled in.
 */
export const AnthropicCountTokensRequest = z.preprocess(
  (v) =>
    v !== null && typeof v === "object" && !Array.isArray(v) && !("max_tokens" in v)
      ? { ...v, max_tokens: 1 }
      : v,
  AnthropicMessagesRequest,
);

/** What the OpenAPI document shows for that body (the preprocessing cannot be drawn). */
export const AnthropicCountTokensBody = z
  .looseObject({
    model: z.string().min(1).max(128),
    messages: z.array(AnthropicMessageParam).min(1),
    system: AnthropicContent.optional(),
  })
  .meta({
    id: "AnthropicCountTokensRequest",
    example: { model: "default", messages: [{ role: "user", content: "How long is this?" }] },
  });

/** Answer of `POST /v1/messages/count_tokens`. */
export const AnthropicTokenCount = z
  .object({ input_tokens: z.int().nonnegative() })
  .meta({ id: "AnthropicTokenCount", example: { input_tokens: 14 } });

export const AnthropicStopReason = z.enum(["end_turn", "max_tokens", "stop_sequence"]);
export type AnthropicStopReason = z.infer<typeof AnthropicStopReason>;

export const AnthropicUsage = z.object({
  input_tokens: z.int().nonnegative(),
  output_tokens: z.int().nonnegative(),
});
export type AnthropicUsage = z.infer<typeof AnthropicUsage>;

/** Non-streaming answer of `POST /v1/messages` (and the `message` of `message_start`). */
export const AnthropicMessage = z
  .object({
    id: z.string(),
    type: z.literal("message"),
    role: z.literal("assistant"),
    content: z.array(z.object({ type: z.literal("text"), text: z.string() })),
    model: z.string(),
    stop_reason: AnthropicStopReason.nullable(),
    stop_sequence: z.string().nullable(),
    usage: AnthropicUsage,
  })
  .meta({
    id: "AnthropicMessage",
    example: {
      id: "msg_01JABCDEF0123456789ABCDEFG",
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: "Many independent nodes…" }],
      model: "default",
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 24, output_tokens: 31 },
    },
  });
export type AnthropicMessage = z.infer<typeof AnthropicMessage>;

/** Anthropic's error types (the subset this gateway answers with). */
export const AnthropicErrorType = z.enum([
  "invalid_request_error",
  "request_too_large",
  "authentication_error",
  "billing_error",
  "permission_error",
  "not_found_error",
  "conflict_error",
  "rate_limit_error",
  "api_error",
  "timeout_error",
  "overloaded_error",
]);
export type AnthropicErrorType = z.infer<typeof AnthropicErrorType>;

/** Anthropic's error body; the SDK picks its exception class from the HTTP status. */
export const AnthropicErrorResponse = z
  .object({
    type: z.literal("error"),
    error: z.object({ type: AnthropicErrorType, message: z.string() }),
    request_id: z.string().optional(),
  })
  .meta({
    id: "AnthropicErrorResponse",
    example: {
      type: "error",
      error: { type: "authentication_error", message: "Invalid API key." },
      request_id: "req_01JABCDEF0123456789ABCDEFG",
    },
  });
export type AnthropicErrorResponse = z.infer<typeof AnthropicErrorResponse>;
