import type { OpenAPIHono } from "@hono/zod-openapi";
import {
  AnthropicCountTokensBody,
  AnthropicErrorResponse,
  AnthropicMessage,
  AnthropicMessagesRequest,
  AnthropicTokenCount,
  CompletionData,
  CompletionRequest,
  type ErrorCode,
  HealthResponse,
  ModelList,
  OpenAIChatCompletion,
  OpenAIChatCompletionRequest,
  OpenAIErrorResponse,
  okEnvelopeSchema,
  RequestRecord,
  UsageReport,
} from "@portal/contracts";
import { z } from "zod";
import { renderAnthropicError, renderOpenAIError } from "../services/compat/index.js";
import { AUTH_FAILURES, failureResponses } from "./responses.js";

/** Everything a completion route can fail with, whatever its wire format. */
const COMPLETION_FAILURES = [
  ...AUTH_FAILURES,
  "invalid_request",
  "invalid_json",
  "payload_too_large",
  "model_not_allowed",
  "model_not_found",
  "idempotency_conflict",
  "insufficient_balance",
  "rate_limited",
  "quota_exceeded",
  "pool_unavailable",
  "upstream_error",
  "upstream_timeout",
] as const satisfies readonly ErrorCode[];

/** Vendor-shaped failures, with the statuses the vendor renderer really answers. */
function vendorFailures(
  schema: z.ZodType,
  vendor: string,
  statusOf: (err: { code: ErrorCode; message: string }) => number,
) {
  const statuses = [...new Set(COMPLETION_FAILURES.map((code) => statusOf({ code, message: "" })))];
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: `${vendor} error object (so ${vendor} SDKs raise their matching exception).`,
        content: { "application/json": { schema } },
      },
    ]),
  );
}

const RATE_HEADERS = {
  "X-Request-Id": {
    description: "The request id (also in the envelope).",
    schema: { type: "string" as const },
  },
  "X-Portal-Overhead-Ms": {
    description: "Time spent in the gateway itself, upstream excluded.",
    schema: { type: "string" as const },
  },
};

/** Paging of the Anthropic form of GET /v1/models (with an `anthropic-version` header). */
const AnthropicModelsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional().describe("Page size, 1–1000 (20)"),
  after_id: z.string().optional().describe("Start after this model id"),
  before_id: z.string().optional().describe("End before this model id"),
});

/** Document the public customer API: health, probes, models, completions, chat, messages, usage. */
export function registerV1Paths(app: OpenAPIHono): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "A Portal API key: `Authorization: Bearer cx_live_…` (or the `x-api-key` header).",
  });

  registry.registerPath({
    method: "get",
    path: "/health",
    summary: "Gateway health and each pool's healthy/total router targets",
    tags: ["Public"],
    responses: {
      200: { description: "Healthy", content: { "application/json": { schema: HealthResponse } } },
    },
  });

  registry.registerPath({
    method: "get",
    path: "/v1/models",
    summary: "Models this key may use (OpenAI list shape)",
    description:
      "With an `anthropic-version` header (Anthropic SDKs) the answer is Anthropic's Models API " +
      'page instead: `{data: [{type: "model", id, display_name, created_at}], has_more, ' +
      "first_id, last_id}`, paged with `limit`, `after_id` and `before_id`.",
    tags: ["Public"],
    security: [{ apiKey: [] }],
    request: { query: AnthropicModelsQuery },
    responses: {
      200: {
        description: "The models",
        headers: RATE_HEADERS,
        content: { "application/json": { schema: ModelList } },
      },
      ...failureResponses(AUTH_FAILURES),
    },
  });

  registry.registerPath({
    method: "get",
    path: "/v1/models/{id}",
    summary:
      "One model this key may use (OpenAI model object, or Anthropic's with anthropic-version)",
    tags: ["Public"],
    security: [{ apiKey: [] }],
    request: { params: z.object({ id: z.string().meta({ example: "default" }) }) },
    responses: {
      200: {
        description: "The model",
        content: { "application/json": { schema: ModelList.shape.data.element } },
      },
      ...failureResponses([...AUTH_FAILURES, "model_not_found"]),
    },
  });

  registry.registerPath({
    method: "post",
    path: "/v1/completions",
    summary: "Create a completion (Portal envelope; SSE envelopes with stream: true)",
    description:
      "Resolves the model alias to a managed router pool, forwards the prompt and answers the " +
      "envelope `{request_id, status, model, router_pool, data, error}`. `timeout` must be greater " +
      "than `precommit_timeout` (defaults 180 s and 120 s; a `timeout` given alone below 180 s " +
      "gets a `precommit_timeout` of two thirds of it). Unknown fields are refused.",
    tags: ["Public"],
    security: [{ apiKey: [] }],
    request: {
      body: { required: true, content: { "application/json": { schema: CompletionRequest } } },
    },
    responses: {
      200: {
        description: "The completion, priced, with timing",
        headers: RATE_HEADERS,
        content: {
          "application/json": {
            schema: okEnvelopeSchema(CompletionData).meta({ id: "CompletionEnvelope" }),
          },
        },
      },
      ...failureResponses(COMPLETION_FAILURES),
    },
  });

  registry.registerPath({
    method: "post",
    path: "/v1/chat/completions",
    summary: "Create a chat completion (OpenAI-compatible)",
    description:
      "The OpenAI Chat Completions shape: messages are rendered into the model's prompt " +
      "template. With `stream: true` the answer is `text/event-stream` of " +
      "`chat.completion.chunk` objects ending in `data: [DONE]`; " +
      "`stream_options.include_usage` adds the usage chunk. Errors use OpenAI's error object.",
    tags: ["Compatibility"],
    security: [{ apiKey: [] }],
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: OpenAIChatCompletionRequest } },
      },
    },
    responses: {
      200: {
        description: "The chat completion (or its SSE stream with `stream: true`)",
        headers: RATE_HEADERS,
        content: {
          "application/json": { schema: OpenAIChatCompletion },
          "text/event-stream": { schema: { type: "string" } },
        },
      },
      ...vendorFailures(OpenAIErrorResponse, "OpenAI", (e) => renderOpenAIError(e).status),
    },
  });

  registry.registerPath({
    method: "post",
    path: "/v1/messages",
    summary: "Create a message (Anthropic-compatible)",
    description:
      "The Anthropic Messages shape (`x-api-key` or Bearer auth). With `stream: true` the answer " +
      "is Anthropic's named SSE events (`message_start` … `message_stop`). Errors use " +
      "Anthropic's error object with `request_id`.",
    tags: ["Compatibility"],
    security: [{ apiKey: [] }],
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: AnthropicMessagesRequest } },
      },
    },
    responses: {
      200: {
        description: "The message (or its SSE stream with `stream: true`)",
        headers: RATE_HEADERS,
        content: {
          "application/json": { schema: AnthropicMessage },
          "text/event-stream": { schema: { type: "string" } },
        },
      },
      ...vendorFailures(AnthropicErrorResponse, "Anthropic", (e) => renderAnthropicError(e).status),
    },
  });

  registry.registerPath({
    method: "post",
    path: "/v1/messages/count_tokens",
    summary: "Count a message's input tokens (Anthropic-compatible)",
    description:
      "The prompt a Messages request would send, rendered with the model's template, counted " +
      "with the tokenizer that prices it. `max_tokens` is not needed. Nothing runs on a router " +
      "and no limit or balance is spent. Errors use Anthropic's error object.",
    tags: ["Compatibility"],
    security: [{ apiKey: [] }],
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: AnthropicCountTokensBody } },
      },
    },
    responses: {
      200: {
        description: "The input token count",
        content: { "application/json": { schema: AnthropicTokenCount } },
      },
      ...vendorFailures(AnthropicErrorResponse, "Anthropic", (e) => renderAnthropicError(e).status),
    },
  });

  registry.registerPath({
    method: "get",
    path: "/v1/usage",
    summary: "The caller's own usage, limits, weekly allowance and balance",
    tags: ["Public"],
    security: [{ apiKey: [] }],
    responses: {
      200: {
        description: "Usage report (Portal envelope)",
        headers: RATE_HEADERS,
        content: {
          "application/json": {
            schema: okEnvelopeSchema(UsageReport).meta({ id: "UsageEnvelope" }),
          },
        },
      },
      ...failureResponses(AUTH_FAILURES),
    },
  });

  registry.registerPath({
    method: "get",
    path: "/v1/requests/{request_id}",
    summary: "One of your requests as recorded: status, tokens, cost, timings",
    description:
      "Look a request up by the id its answer carried (`request_id`, `X-Request-Id`): any key " +
      "of the org may read the org's requests. Records are written in batches, so a request " +
      "appears a second or two after its answer; the HTTP status and overhead come from the " +
      "request log, kept `REQUEST_LOG_RETENTION_DAYS` days. A stream's or a cancelled request's " +
      "final cost can be read here.",
    tags: ["Public"],
    security: [{ apiKey: [] }],
    request: {
      params: z.object({ request_id: z.string().describe("A request id, `req_…`") }),
    },
    responses: {
      200: {
        description: "The request's record (Portal envelope)",
        headers: RATE_HEADERS,
        content: {
          "application/json": {
            schema: okEnvelopeSchema(RequestRecord).meta({ id: "RequestRecordEnvelope" }),
          },
        },
      },
      ...failureResponses([...AUTH_FAILURES, "invalid_request", "not_found"]),
    },
  });

  registry.registerPath({
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics (text exposition format)",
    description:
      "Requests, latency and overhead histograms, tokens, limit refusals, usage queue depth and " +
      "per-target health. With METRICS_TOKEN set it needs `Authorization: Bearer <METRICS_TOKEN>`.",
    tags: ["Operations"],
    responses: {
      200: {
        description: "The metrics",
        content: { "text/plain": { schema: { type: "string" } } },
      },
      ...failureResponses(["unauthorized"]),
    },
  });

  for (const [path, summary] of [
    ["/livez", "Liveness: the process is up (no dependencies checked)"],
    [
      "/readyz",
      "Readiness: migrated and not draining (503 otherwise); 200 `degraded` when the database went away after the replica was ready",
    ],
  ] as const) {
    registry.registerPath({
      method: "get",
      path,
      summary,
      tags: ["Operations"],
      responses: {
        200: { description: "Live / ready" },
        503: {
          description: "Not ready (draining or a dependency is down)",
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    });
  }
}
