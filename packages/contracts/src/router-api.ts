import { z } from "zod";

/**
 * The router node's direct Web2 API (seed documents 000–002). The router is lenient about
 * extra fields, as the public router is; the fields it understands are typed here.
 */

/** A numeric session id, given as a JSON number or a numeric string. */
export const SessionIdInput = z.union([
  z.int().nonnegative(),
  z
    .string()
    .regex(/^\d{1,15}$/, "session_id must be a non-negative integer")
    .transform(Number),
]);

const seconds = z.number().positive().max(86_400);

/** Body of `POST /api/v{1,2,3}/completions[/{session_id}]`. */
export const RouterCompletionRequest = z.object({
  session_id: SessionIdInput.optional(),
  prompt: z.string().min(1, "prompt must not be empty"),
  prompt_type: z.int().min(0).max(9).optional(),
  prompt_template: z.string().max(100_000).optional(),
  stream: z.boolean().optional(),
  timeout: seconds.optional(),
  precommit_timeout: seconds.optional(),
  client_reference: z.string().min(1).max(256).optional(),
  max_tokens: z.int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
  presence_penalty: z.number().min(-2).max(2).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
  max_miners: z.int().min(1).max(64).optional(),
  stop: z.union([z.string(), z.array(z.string())]).optional(),
});
export type RouterCompletionRequest = z.infer<typeof RouterCompletionRequest>;

export const RouterUsage = z.object({
  prompt_tokens: z.int().nonnegative(),
  completion_tokens: z.int().nonnegative(),
  total_tokens: z.int().nonnegative(),
});
export type RouterUsage = z.infer<typeof RouterUsage>;

/** Per-miner evidence the router reports for a task. */
export const MinerEvidence = z.object({
  miner_id: z.string(),
  status: z.string(),
  latency_ms: z.number().nonnegative().nullable(),
  result_hash: z.string().nullable(),
  agreed: z.boolean().nullable(),
});
export type MinerEvidence = z.infer<typeof MinerEvidence>;

/** OpenAI text-completion response of the router, plus task metadata. */
export const RouterCompletionResponse = z.object({
  id: z.string(),
  object: z.literal("text_completion"),
  created: z.int(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        index: z.int().nonnegative(),
        text: z.string(),
        finish_reason: z.string().nullable(),
        logprobs: z.null().optional(),
      }),
    )
    .min(1),
  usage: RouterUsage,
  session_id: z.int().nonnegative(),
  task_id: z.int().nonnegative(),
  client_reference: z.string().nullable().optional(),
  miners: z.array(MinerEvidence).optional(),
  consensus: z
    .object({
      method: z.enum(["single", "majority", "medoid"]),
      agreement: z.number().min(0).max(1),
      replicas: z.int().positive(),
    })
    .optional(),
});
export type RouterCompletionResponse = z.infer<typeof RouterCompletionResponse>;

/** One SSE `data:` frame of a streamed router completion; the last one carries `usage`. */
export const RouterCompletionChunk = z.object({
  id: z.string(),
  object: z.literal("text_completion"),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({ index: z.int(), text: z.string(), finish_reason: z.string().nullable() }),
  ),
  usage: RouterUsage.optional(),
  session_id: z.int().nonnegative().optional(),
  task_id: z.int().nonnegative().optional(),
});
export type RouterCompletionChunk = z.infer<typeof RouterCompletionChunk>;

/** Error codes a router answers with, and their HTTP statuses. */
export const RouterErrorCode = z.enum([
  "unauthorized",
  "invalid_json",
  "invalid_request",
  "missing_session",
  "session_not_found",
  "task_not_found",
  "not_found",
  "no_miners_available",
  "task_timeout",
  "task_failed",
  "internal_error",
  // Added with the delegate/validate/factcheck/trial/x402/privacy route families (issue 4).
  "missing_v3_session_pool",
  "payment_required",
  "invalid_payment",
  "invalid_signature",
  "forbidden",
  "trial_quota_exceeded",
  "realtime_evidence_unavailable",
  "conflict",
  // Delegate v2/v3 web fetch (`web_fetch` config): the router fetched an allowed URL and the
  // upstream failed (connect error, timeout, non-2xx, too large, unsupported content type).
  "web_fetch_failed",
  // A body over the node's limit (ROUTER_MAX_BODY_BYTES), refused before it is read.
  "payload_too_large",
]);
export type RouterErrorCode = z.infer<typeof RouterErrorCode>;

export const ROUTER_ERROR_HTTP_STATUS = {
  unauthorized: 401,
  invalid_json: 400,
  invalid_request: 400,
  missing_session: 400,
  session_not_found: 404,
  task_not_found: 404,
  not_found: 404,
  no_miners_available: 503,
  task_timeout: 504,
  task_failed: 502,
  internal_error: 500,
  missing_v3_session_pool: 400,
  payment_required: 402,
  invalid_payment: 400,
  invalid_signature: 401,
  forbidden: 403,
  trial_quota_exceeded: 429,
  realtime_evidence_unavailable: 503,
  conflict: 409,
  web_fetch_failed: 502,
  payload_too_large: 413,
} as const satisfies Record<RouterErrorCode, number>;

export const RouterErrorBody = z.object({
  error: z.object({
    code: RouterErrorCode,
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type RouterErrorBody = z.infer<typeof RouterErrorBody>;

/** `GET /api/v1/status`: what the gateway's health checks read. */
export const RouterStatus = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  uptime_s: z.number().nonnegative(),
  miners: z.object({ connected: z.int().nonnegative(), idle: z.int().nonnegative() }),
  sessions: z.int().nonnegative(),
  tasks: z.object({ active: z.int().nonnegative(), total: z.int().nonnegative() }),
});
export type RouterStatus = z.infer<typeof RouterStatus>;

// ---------------------------------------------------------------------------------------------
// Delegate, validate and factcheck (seed 002). Lenient like the public router: unknown fields are
// accepted and ignored; the fields the router understands are typed.

const v2Timeouts = {
  timeout: seconds.optional(),
  precommit_timeout: seconds.optional(),
  timeout_ms: z.int().positive().max(86_400_000).optional(),
  precommit_timeout_ms: z.int().positive().max(86_400_000).optional(),
};

/** `policy` block of delegate/validate/factcheck v2 requests. */
export const RouterTaskPolicy = z.looseObject({
  tier: z.string().max(64).optional(),
  redundancy: z.int().min(1).max(15).optional(),
  task_redundancy: z.int().min(1).max(15).optional(),
  rules: z.array(z.string().min(1).max(2000)).max(50).optional(),
  ...v2Timeouts,
});
export type RouterTaskPolicy = z.infer<typeof RouterTaskPolicy>;

/** `model_policy` block: generation parameters. */
export const RouterModelPolicy = z.looseObject({
  max_tokens: z.int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
});

/** v3 consensus block: replica tier over predefined session pools. */
export const RouterConsensus = z.looseObject({
  replicas: z.int().optional(),
  session_pool: z.array(SessionIdInput).max(15).optional(),
});

const DelegateInput = z.looseObject({
  kind: z.enum(["text", "json", "url"]).default("text"),
  payload: z.union([z.string().max(1_000_000), z.record(z.string(), z.unknown())]),
});

/** Body of `POST /api/v1/delegate` (prompt-oriented). */
export const RouterDelegateV1Request = z.looseObject({
  session_id: SessionIdInput.optional(),
  task_request_input: z.string().min(1).max(1_000_000),
  task_domain: z.string().max(200).optional(),
  task_type: z.string().max(200).optional(),
  evaluation_mode: z.string().max(200).optional(),
  client_reference: z.string().min(1).max(256).optional(),
  ...v2Timeouts,
  max_tokens: z.int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
});
export type RouterDelegateV1Request = z.infer<typeof RouterDelegateV1Request>;

/** Body of `POST /api/v2/delegate` and `/api/v3/delegate`: `objective` + `input`, or `task_request_input`. */
export const RouterDelegateRequest = z
  .looseObject({
    request_id: z.string().min(1).max(256).optional(),
    session_id: SessionIdInput.optional(),
    objective: z.string().min(1).max(100_000).optional(),
    input: DelegateInput.optional(),
    task_request_input: z.string().min(1).max(1_000_000).optional(),
    execution: z.record(z.string(), z.unknown()).optional(),
    policy: RouterTaskPolicy.optional(),
    model_policy: RouterModelPolicy.optional(),
    tools: z.array(z.unknown()).max(50).optional(),
    workflow: z.unknown().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    fetch_web: z.boolean().optional(),
    consensus: RouterConsensus.optional(),
    replicas: z.int().optional(),
    client_reference: z.string().min(1).max(256).optional(),
  })
  .refine((b) => b.objective !== undefined || b.task_request_input !== undefined, {
    message: "give objective (with input) or task_request_input",
    path: ["objective"],
  });
export type RouterDelegateRequest = z.infer<typeof RouterDelegateRequest>;

/** The claim a validate v2/v3 request checks. */
export const RouterClaim = z.looseObject({
  type: z.string().min(1).max(200),
  description: z.string().max(100_000).optional(),
  output: z.union([z.string().max(1_000_000), z.record(z.string(), z.unknown())]),
});

/** Body of `POST /api/v1/validate` (prompt-oriented). */
export const RouterValidateV1Request = z.looseObject({
  session_id: SessionIdInput.optional(),
  task_request_input: z.string().min(1).max(1_000_000),
  task_result_output: z.string().min(1).max(1_000_000),
  task_domain: z.string().max(200).optional(),
  task_type: z.string().max(200).optional(),
  evaluation_mode: z.string().max(200).optional(),
  rules: z.array(z.string().min(1).max(2000)).max(50).optional(),
  client_reference: z.string().min(1).max(256).optional(),
  ...v2Timeouts,
});
export type RouterValidateV1Request = z.infer<typeof RouterValidateV1Request>;

/** Body of `POST /api/v2/validate` and `/api/v3/validate`. */
export const RouterValidateRequest = z.looseObject({
  request_id: z.string().min(1).max(256).optional(),
  session_id: SessionIdInput.optional(),
  claim: RouterClaim,
  policy: RouterTaskPolicy.optional(),
  rules: z.array(z.string().min(1).max(2000)).max(50).optional(),
  context: z.unknown().optional(),
  actor: z.unknown().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  model_policy: RouterModelPolicy.optional(),
  consensus: RouterConsensus.optional(),
  replicas: z.int().optional(),
  client_reference: z.string().min(1).max(256).optional(),
});
export type RouterValidateRequest = z.infer<typeof RouterValidateRequest>;

/** Verdicts of validate. */
export const ValidateVerdict = z.enum(["VALID", "INVALID", "RETRY", "NEEDS_SPEC"]);
export type ValidateVerdict = z.infer<typeof ValidateVerdict>;

/** One miner run's reading of a validate/factcheck task. */
export const VerdictRun = z.object({
  miner_id: z.string(),
  session_id: z.int().nonnegative().optional(),
  task_id: z.int().nonnegative().optional(),
  verdict: z.string(),
  confidence: z.number().min(0).max(1),
  reasons: z.array(z.string()),
  structured: z.boolean(),
});

/** Response of validate v1/v2/v3. */
export const RouterValidateResponse = z.object({
  object: z.literal("validation"),
  version: z.enum(["v1", "v2", "v3"]),
  request_id: z.string().nullable(),
  verdict: ValidateVerdict,
  confidence: z.number().min(0).max(1),
  reasons: z.array(z.string()),
  advice: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  runs: z.array(VerdictRun).optional(),
});
export type RouterValidateResponse = z.infer<typeof RouterValidateResponse>;

/**
 * One entry of a delegate v2/v3 response's `evidence.web`: a page the router fetched for the
 * request (`input.kind: "url"` → `used_as: "input"`, `fetch_web: true` → `"web_content"`).
 * `bytes` and `sha256` are of the body as received.
 */
export const RouterWebEvidence = z.object({
  url: z.string(),
  final_url: z.string(),
  status: z.int(),
  content_type: z.string(),
  bytes: z.int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  used_as: z.enum(["input", "web_content"]),
});
export type RouterWebEvidence = z.infer<typeof RouterWebEvidence>;

/** Response of delegate v1/v2/v3. */
export const RouterDelegateResponse = z.object({
  object: z.literal("delegation"),
  version: z.enum(["v1", "v2", "v3"]),
  request_id: z.string().nullable(),
  status: z.enum(["completed", "retry"]),
  output: z.unknown(),
  structured: z.boolean(),
  evidence: z.record(z.string(), z.unknown()),
  replicas: z.array(z.record(z.string(), z.unknown())).optional(),
});
export type RouterDelegateResponse = z.infer<typeof RouterDelegateResponse>;

/** Body of `POST /api/v1/factcheck` (alias `/api/v1/fact-check`). */
export const RouterFactcheckRequest = z.looseObject({
  session_id: SessionIdInput.optional(),
  mode: z.enum(["standard", "realtime"]).default("standard"),
  claim: z.union([
    z.string().min(1).max(100_000),
    z.looseObject({
      type: z.string().max(200).optional(),
      statement: z.string().min(1).max(100_000),
    }),
  ]),
  policy: RouterTaskPolicy.optional(),
  client_reference: z.string().min(1).max(256).optional(),
});
export type RouterFactcheckRequest = z.infer<typeof RouterFactcheckRequest>;

/** Verdicts of factcheck. */
export const FactcheckVerdict = z.enum(["TRUE", "FALSE", "UNVERIFIABLE", "RETRY"]);

/** Response of factcheck. */
export const RouterFactcheckResponse = z.object({
  object: z.literal("factcheck"),
  mode: z.enum(["standard", "realtime"]),
  session_id: z.int().nonnegative(),
  statement: z.string(),
  verdict: FactcheckVerdict,
  confidence: z.number().min(0).max(1),
  reasons: z.array(z.string()),
  sources: z.array(z.object({ title: z.string(), url: z.string(), snippet: z.string() })),
  runs: z.array(VerdictRun),
  evidence: z.record(z.string(), z.unknown()),
});
export type RouterFactcheckResponse = z.infer<typeof RouterFactcheckResponse>;
