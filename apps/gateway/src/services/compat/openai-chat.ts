import {
  type CompletionData,
  type OpenAIChatCompletion,
  type OpenAIChatCompletionChunk,
  OpenAIChatCompletionRequest,
  type OpenAIChatMessage,
  type OpenAIUsage,
} from "@portal/contracts";
import type { ChatRole, ChatTurn } from "./chat-prompt.js";
import {
  type CatalogError,
  type CompatParseResult,
  type CompatRequest,
  dropUndefined,
  type OurFinishReason,
  parseJsonWith,
  SSE_KEEP_ALIVE,
  sseFrame,
  type TokenUsage,
  toOpenAIFinishReason,
} from "./common.js";
import { renderOpenAIError } from "./vendor-errors.js";

/** Parse a raw `POST /v1/chat/completions` body into our completion fields and a transcript. */
export function parseOpenAIChatRequest(rawBody: string): CompatParseResult<CompatRequest> {
  const parsed = parseJsonWith(rawBody, OpenAIChatCompletionRequest);
  if (!parsed.ok) return parsed;
  const req = parsed.value;
  const stream = req.stream === true;
  return {
    ok: true,
    value: {
      completion: dropUndefined({
        model: req.model,
        // max_completion_tokens is the current name; max_tokens the deprecated one.
        max_tokens: req.max_completion_tokens ?? req.max_tokens ?? undefined,
        // top_p 0 (OpenAI allows it: always the likeliest token) is greedy decoding, which
        // miners take as temperature 0; they refuse a top_p of 0 itself.
        temperature: req.top_p === 0 ? 0 : (req.temperature ?? undefined),
        top_p: req.top_p === 0 ? undefined : (req.top_p ?? undefined),
        presence_penalty: req.presence_penalty ?? undefined,
        frequency_penalty: req.frequency_penalty ?? undefined,
        stop: req.stop ?? undefined,
        user: req.user,
      }),
      chat: { turns: req.messages.map(toTurn), continueLast: false },
      stream,
      includeUsage: stream && req.stream_options?.include_usage === true,
      fieldNames: {
        prompt: "messages",
        max_tokens: req.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
      },
    },
  };
}

const ROLES: Record<OpenAIChatMessage["role"], ChatRole> = {
  system: "system",
  developer: "system",
  user: "user",
  assistant: "assistant",
  tool: "tool",
};

function toTurn(m: OpenAIChatMessage): ChatTurn {
  const text =
    typeof m.content === "string" ? m.content : (m.content ?? []).map((p) => p.text).join("\n");
  return { role: ROLES[m.role], text };
}

/** `chatcmpl-…` from our completion id (`cmpl_<ulid>`), so logs can join the two. */
export function chatCompletionId(completionId: string): string {
  return `chatcmpl-${completionId.replace(/^cmpl_/, "")}`;
}

/** Build the non-streaming `chat.completion` body from our completion data. */
export function buildChatCompletion(data: CompletionData): OpenAIChatCompletion {
  return {
    id: chatCompletionId(data.id),
    object: "chat.completion",
    created: data.created,
    model: data.model,
    choices: data.choices.map((c) => ({
      index: c.index,
      message: { role: "assistant", content: c.text, refusal: null },
      finish_reason: toOpenAIFinishReason(c.finish_reason),
      logprobs: null,
    })),
    usage: openAIUsage(data.usage),
  };
}

function openAIUsage(u: TokenUsage): OpenAIUsage {
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
  };
}

/**
 * Encodes one streamed chat completion as OpenAI SSE frames (`data: {chat.completion.chunk}`).
 * Order: a first chunk with `delta.role`, one chunk per text delta, a last chunk with
 * `finish_reason`, then, when `includeUsage`, a usage chunk with `choices: []`, then
 * `data: [DONE]`. With `includeUsage` every other chunk carries `usage: null`, as OpenAI does.
 * Each method returns the text to write (possibly ""); the encoder never writes itself.
 */
export class OpenAIChatStreamEncoder {
  private started = false;
  private ended = false;
  private readonly id: string;

  constructor(
    private readonly opts: {
      /** Our completion id (`cmpl_…`) or request-derived id; rendered as `chatcmpl-…`. */
      id: string;
      /** The public alias the caller asked for. */
      model: string;
      /** Epoch seconds. */
      created: number;
      includeUsage: boolean;
    },
  ) {
    this.id = chatCompletionId(opts.id);
  }

  /** The role chunk. Optional: `delta`/`finish` send it first if it has not been sent. */
  start(): string {
    if (this.started || this.ended) return "";
    this.started = true;
    return this.chunk({ role: "assistant", content: "" }, null);
  }

  /** A text delta; empty text sends nothing (but still opens the stream). */
  delta(text: string): string {
    if (this.ended) return "";
    const head = this.start();
    return text === "" ? head : head + this.chunk({ content: text }, null);
  }

  /** The closing frames: finish_reason chunk, the usage chunk if asked for, and `[DONE]`. */
  finish(args: { finishReason: OurFinishReason | null; usage: TokenUsage }): string {
    if (this.ended) return "";
    let out = this.start() + this.chunk({}, toOpenAIFinishReason(args.finishReason));
    if (this.opts.includeUsage) {
      const usageChunk: OpenAIChatCompletionChunk = {
        ...this.base(),
        choices: [],
        usage: openAIUsage(args.usage),
      };
      out += sseFrame(JSON.stringify(usageChunk));
    }
    this.ended = true;
    return `${out}data: [DONE]\n\n`;
  }

  /**
   * A failure after the 200 status was sent: `data: {"error": {...}}` (the openai SDK throws an
   * APIError carrying it). Ends the stream: no `[DONE]` follows, as with OpenAI itself.
   */
  error(err: CatalogError): string {
    if (this.ended) return "";
    this.ended = true;
    return sseFrame(JSON.stringify(renderOpenAIError(err).body));
  }

  /** A comment line that keeps proxies from timing out while the model has not answered yet. */
  keepAlive(): string {
    return this.ended ? "" : SSE_KEEP_ALIVE;
  }

  private base(): Omit<OpenAIChatCompletionChunk, "choices"> {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.opts.created,
      model: this.opts.model,
    };
  }

  private chunk(
    delta: OpenAIChatCompletionChunk["choices"][number]["delta"],
    finishReason: "stop" | "length" | null,
  ): string {
    const chunk: OpenAIChatCompletionChunk = {
      ...this.base(),
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      ...(this.opts.includeUsage ? { usage: null } : {}),
    };
    return sseFrame(JSON.stringify(chunk));
  }
}
