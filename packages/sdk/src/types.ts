/**
 * Wire types of the Portal gateway, written out so the published SDK has no runtime dependency.
 * `types.test.ts` checks they stay assignable to the gateway's own zod contracts.
 */

export type ErrorCode =
  | "invalid_request"
  | "invalid_json"
  | "payload_too_large"
  | "unauthorized"
  | "key_revoked"
  | "key_expired"
  | "account_disabled"
  | "forbidden"
  | "model_not_allowed"
  | "model_not_found"
  | "not_found"
  | "idempotency_conflict"
  | "conflict"
  | "insufficient_balance"
  | "rate_limited"
  | "quota_exceeded"
  | "pool_unavailable"
  | "upstream_error"
  | "upstream_timeout"
  | "internal_error";

export interface CompletionRequest {
  model: string;
  prompt: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  stop?: string | string[];
  stream?: boolean;
  /** Seconds (default 180); must be greater than `precommit_timeout`. */
  timeout?: number;
  /** Seconds (default 120, or two thirds of a shorter `timeout` given alone). */
  precommit_timeout?: number;
  user?: string;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: { amount: string; currency: "USD" };
}

export interface CompletionData {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    text: string;
    finish_reason: "stop" | "length" | "error" | "cancelled" | null;
  }>;
  usage: CompletionUsage;
  timing: { queue_ms: number; upstream_ms: number; total_ms: number };
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface Envelope<T> {
  request_id: string;
  status: "ok" | "failed";
  model: string | null;
  router_pool: string | null;
  data: T | null;
  error: ErrorBody | null;
}

export interface OkEnvelope<T> extends Envelope<T> {
  status: "ok";
  data: T;
  error: null;
}

export interface ModelList {
  object: "list";
  data: Array<{ id: string; object: "model"; created: number; owned_by: string }>;
}

/** One event of a streamed completion: `choices[0].text` is the delta; the last one has usage. */
export interface CompletionChunk {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    text: string;
    finish_reason: "stop" | "length" | "error" | "cancelled" | null;
  }>;
  usage?: CompletionUsage;
  timing?: { queue_ms: number; upstream_ms: number; total_ms: number };
}

export interface ChatMessage {
  role: "system" | "developer" | "user" | "assistant";
  content: string | Array<{ type: "text"; text: string }>;
}

/** `POST /v1/chat/completions` (OpenAI Chat Completions shape). */
export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  user?: string;
  stream_options?: { include_usage?: boolean };
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: "assistant"; content: string; refusal: null };
    finish_reason: "stop" | "length";
    logprobs: null;
  }>;
  usage: ChatUsage;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: "assistant"; content?: string };
    finish_reason: "stop" | "length" | null;
    logprobs: null;
  }>;
  usage?: ChatUsage | null;
}
