import {
  AnthropicCountTokensRequest,
  type AnthropicMessage,
  type AnthropicMessageParam,
  AnthropicMessagesRequest,
  type AnthropicStopReason,
  type AnthropicUsage,
  type CompletionData,
} from "@portal/contracts";
import type { ChatTurn } from "./chat-prompt.js";
import {
  type CatalogError,
  type CompatParseResult,
  type CompatRequest,
  dropUndefined,
  type OurFinishReason,
  parseJsonWith,
  sseFrame,
  type TokenUsage,
} from "./common.js";
import { renderAnthropicError } from "./vendor-errors.js";

/** Parse a raw `POST /v1/messages` body into our completion fields and a transcript. */
export function parseAnthropicMessagesRequest(rawBody: string): CompatParseResult<CompatRequest> {
  const parsed = parseJsonWith(rawBody, AnthropicMessagesRequest);
  return parsed.ok ? { ok: true, value: fromAnthropicRequest(parsed.value) } : parsed;
}

/** Parse a `POST /v1/messages/count_tokens` body (a Messages request without `max_tokens`). */
export function parseAnthropicCountTokensRequest(
  rawBody: string,
): CompatParseResult<CompatRequest> {
  const parsed = parseJsonWith(rawBody, AnthropicCountTokensRequest);
  return parsed.ok ? { ok: true, value: fromAnthropicRequest(parsed.value) } : parsed;
}

function fromAnthropicRequest(req: AnthropicMessagesRequest): CompatRequest {
  const turns: ChatTurn[] = [];
  if (req.system !== undefined) {
    const text = textOf(req.system);
    if (text !== "") turns.push({ role: "system", text });
  }
  for (const m of req.messages) turns.push({ role: m.role, text: textOf(m.content) });
  return {
    completion: dropUndefined({
      model: req.model,
      max_tokens: req.max_tokens,
      // top_p 0 is greedy decoding (see the OpenAI route): temperature 0 for the miners.
      temperature: req.top_p === 0 ? 0 : req.temperature,
      top_p: req.top_p === 0 ? undefined : req.top_p,
      top_k: req.top_k,
      stop: req.stop_sequences && req.stop_sequences.length > 0 ? req.stop_sequences : undefined,
      user: req.metadata?.user_id ?? undefined,
    }),
    // A trailing assistant message is a prefill: the answer continues it (Anthropic semantics).
    chat: { turns, continueLast: req.messages.at(-1)?.role === "assistant" },
    stream: req.stream === true,
    includeUsage: false,
    fieldNames: { prompt: "messages" },
  };
}

function textOf(content: AnthropicMessageParam["content"]): string {
  return typeof content === "string" ? content : content.map((b) => b.text).join("\n");
}

/** `msg_…` from our completion id (`cmpl_<ulid>`), so logs can join the two. */
export function anthropicMessageId(completionId: string): string {
  return `msg_${completionId.replace(/^cmpl_/, "")}`;
}

/**
 * Our finish reason as an Anthropic stop reason. A router does not report which stop sequence
 * ended the text, so `stop_sequence` is only reported when the caller knows it.
 */
export function toAnthropicStopReason(
  reason: OurFinishReason | null,
  stopSequence?: string | null,
): AnthropicStopReason {
  if (reason === "length") return "max_tokens";
  return stopSequence ? "stop_sequence" : "end_turn";
}

/** Build the non-streaming Message body from our completion data (first choice). */
export function buildAnthropicMessage(
  data: CompletionData,
  opts: { stopSequence?: string | null } = {},
): AnthropicMessage {
  const choice = data.choices[0];
  const stopReason = toAnthropicStopReason(choice?.finish_reason ?? null, opts.stopSequence);
  return {
    id: anthropicMessageId(data.id),
    type: "message",
    role: "assistant",
    content: [{ type: "text", text: choice?.text ?? "" }],
    model: data.model,
    stop_reason: stopReason,
    stop_sequence: stopReason === "stop_sequence" ? (opts.stopSequence ?? null) : null,
    usage: anthropicUsage(data.usage),
  };
}

function anthropicUsage(u: TokenUsage): AnthropicUsage {
  return { input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens };
}

/**
 * Encodes one streamed message as Anthropic SSE events:
 * `message_start` → `content_block_start` → `ping` → `content_block_delta` (text_delta)… →
 * `content_block_stop` → `message_delta` (stop_reason, usage) → `message_stop`.
 * Every event is named (`event: …`): the SDK ignores unnamed ones. `message_start` carries the
 * prompt's token count; `message_delta` repeats the final one and the SDK keeps the later value.
 * Each method returns the text to write (possibly ""); the encoder never writes itself.
 */
export class AnthropicMessageStreamEncoder {
  private started = false;
  private ended = false;
  private readonly id: string;

  constructor(
    private readonly opts: {
      /** Our completion id (`cmpl_…`) or request-derived id; rendered as `msg_…`. */
      id: string;
      /** The public alias the caller asked for. */
      model: string;
    },
  ) {
    this.id = anthropicMessageId(opts.id);
  }

  /**
   * The opening events. Optional: `delta`/`finish` send them first if not sent yet. The prompt's
   * token count goes into `message_start` (SDKs that read usage from there would see 0 otherwise).
   */
  start(args: { inputTokens?: number; promptTokens?: () => number } = {}): string {
    if (this.started || this.ended) return "";
    this.started = true;
    const message: AnthropicMessage = {
      id: this.id,
      type: "message",
      role: "assistant",
      content: [],
      model: this.opts.model,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: args.inputTokens ?? args.promptTokens?.() ?? 0, output_tokens: 0 },
    };
    return (
      event("message_start", { type: "message_start", message }) +
      event("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }) +
      event("ping", { type: "ping" })
    );
  }

  /** A text delta; empty text sends nothing (but still opens the stream). */
  delta(text: string): string {
    if (this.ended) return "";
    const head = this.start();
    if (text === "") return head;
    return (
      head +
      event("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text },
      })
    );
  }

  /** The closing events: block stop, the stop reason with final usage, message stop. */
  finish(args: {
    finishReason: OurFinishReason | null;
    usage: TokenUsage;
    stopSequence?: string | null;
  }): string {
    if (this.ended) return "";
    const head = this.start();
    this.ended = true;
    const stopReason = toAnthropicStopReason(args.finishReason, args.stopSequence);
    return (
      head +
      event("content_block_stop", { type: "content_block_stop", index: 0 }) +
      event("message_delta", {
        type: "message_delta",
        delta: {
          stop_reason: stopReason,
          stop_sequence: stopReason === "stop_sequence" ? (args.stopSequence ?? null) : null,
        },
        usage: {
          input_tokens: args.usage.prompt_tokens,
          output_tokens: args.usage.completion_tokens,
        },
      }) +
      event("message_stop", { type: "message_stop" })
    );
  }

  /** A failure after the 200 status was sent: an `error` event (the SDK throws on it). Ends the stream. */
  error(err: CatalogError): string {
    if (this.ended) return "";
    this.ended = true;
    return event("error", renderAnthropicError(err).body);
  }

  /** Anthropic's own keep-alive is a `ping` event; the SDK skips it. */
  keepAlive(): string {
    return this.ended ? "" : event("ping", { type: "ping" });
  }
}

function event(name: string, data: unknown): string {
  return sseFrame(JSON.stringify(data), name);
}
