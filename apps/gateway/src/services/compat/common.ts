import {
  type CompletionRequest,
  type ErrorCode,
  type FinishReason,
  parseJsonText,
} from "@portal/contracts";
import type { z } from "zod";
import { firstIssue, summarizeIssues } from "../../lib/zod-issues.js";
import type { ChatTranscript } from "./chat-prompt.js";

/**
 * A failure in our own catalogue terms. `ApiError` satisfies it structurally, so a route can
 * hand whatever it caught (after `toApiError` for domain errors) to a vendor error renderer.
 */
export interface CatalogError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown> | undefined;
  /** Headers that belong to the failure (Retry-After, X-RateLimit-*); passed through. */
  headers?: Record<string, string> | undefined;
}

/** What a vendor error renderer returns: write exactly this status, body and headers. */
export interface CompatErrorResponse<B> {
  status: number;
  body: B;
  headers: Record<string, string>;
}

export type CompatParseResult<T> = { ok: true; value: T } | { ok: false; error: CatalogError };

/** Our finish reasons, as the router chunks and `CompletionData` carry them. */
export type OurFinishReason = z.infer<typeof FinishReason>;

/** Token counts in our (= OpenAI's) field names; `data.usage` and router usage both fit. */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/**
 * A vendor request translated into ours. The prompt is not here: the caller renders `chat` with
 * the model's `promptTemplate` (known only after alias resolution) and calls `toCompletionRequest`.
 */
export interface CompatRequest {
  /** `CompletionRequest` fields other than `prompt` and `stream`. */
  completion: Omit<CompletionRequest, "prompt" | "stream">;
  /** The conversation, normalized across vendors. */
  chat: ChatTranscript;
  stream: boolean;
  /** OpenAI `stream_options.include_usage`: send the trailing usage chunk. Always false for Anthropic (its stream always carries usage). */
  includeUsage: boolean;
  /**
   * The vendor's names for our fields, for errors (`param`, `details.field`): the rendered
   * prompt is the vendor's `messages`; `max_tokens` may have been sent as `max_completion_tokens`.
   */
  fieldNames: Record<string, string>;
}

/** An error about one of our fields, renamed to the field the vendor's caller sent. */
export function inVendorTerms(err: unknown, names: Record<string, string>): unknown {
  const details = (err as { details?: Record<string, unknown> } | null)?.details;
  const field = details?.field;
  if (details && typeof field === "string" && names[field] !== undefined) {
    details.field = names[field];
  }
  return err;
}

/** Join a parsed compat request and the rendered prompt into our own completion request. */
export function toCompletionRequest(req: CompatRequest, prompt: string): CompletionRequest {
  return { ...req.completion, prompt, stream: req.stream };
}

/** Parse a raw body as JSON and validate it; failures come back as catalogue errors. */
export function parseJsonWith<S extends z.ZodType>(
  rawBody: string,
  schema: S,
): CompatParseResult<z.infer<S>> {
  if (rawBody.trim() === "") {
    return fail("invalid_json", "The request body is empty; send a JSON object.");
  }
  const read = parseJsonText(rawBody);
  if (!read.ok) {
    if (read.tooDeep) return fail("invalid_request", read.message);
    return fail("invalid_json", `The request body is not valid JSON: ${read.message}`);
  }
  const parsed = schema.safeParse(read.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = summarizeIssues(parsed.error.issues);
  return fail("invalid_request", `Invalid request: ${firstIssue(issues, "invalid body")}`, {
    issues,
  });
}

function fail(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): { ok: false; error: CatalogError } {
  return { ok: false, error: details ? { code, message, details } : { code, message } };
}

/** Map our finish reason to OpenAI's: only a token-limit cut is `length`. */
export function toOpenAIFinishReason(reason: OurFinishReason | null): "stop" | "length" {
  return reason === "length" ? "length" : "stop";
}

/** One SSE event; `event:` only when named (Anthropic names every event, OpenAI none). */
export function sseFrame(data: string, event?: string): string {
  return event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

/** An SSE comment; both SDKs' parsers skip it. Send while waiting for the first token. */
export const SSE_KEEP_ALIVE = ": keep-alive\n\n";

/** Drop keys whose value is undefined, so optional fields stay absent rather than `undefined`. */
export function dropUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
