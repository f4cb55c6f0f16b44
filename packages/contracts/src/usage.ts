import { z } from "zod";

const Money = z.object({ amount: z.string(), currency: z.literal("USD") });

export const LimitWindow = z.object({
  scope: z.enum([
    "key_requests_per_minute",
    "org_requests_per_minute",
    "org_tokens_per_minute",
    "key_tokens_per_minute",
    "key_concurrency",
    "org_weekly_allowance",
  ]),
  limit: z.int(),
  used: z.int(),
  remaining: z.int(),
  /** Epoch seconds when the limit next frees room. */
  reset: z.int(),
});

export const UsageTotals = z.object({
  requests: z.int(),
  failed_requests: z.int(),
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  cost: Money,
});
export type UsageTotals = z.infer<typeof UsageTotals>;

/** `data` of GET /v1/usage: the caller's limits, allowance, balance and recent usage. */
export const UsageReport = z
  .object({
    object: z.literal("usage"),
    org_id: z.string(),
    key_id: z.string(),
    plan: z.string(),
    billing_mode: z.enum(["free", "prepaid", "postpaid"]),
    limits: z.array(LimitWindow),
    weekly_allowance: z
      .object({ limit: z.int(), used: z.int(), remaining: z.int(), reset_at: z.string() })
      .nullable(),
    /** Prepaid orgs only; decimal USD strings (integer micro-USD underneath). */
    balance: z
      .object({ available: z.string(), reserved: z.string(), currency: z.literal("USD") })
      .nullable(),
    /** Org totals from the daily rollups (UTC days); they trail live traffic by a few seconds. */
    usage: z.object({ today: UsageTotals, last_7_days: UsageTotals, month_to_date: UsageTotals }),
  })
  .meta({ id: "UsageReport" });
export type UsageReport = z.infer<typeof UsageReport>;

/**
 * `data` of GET /v1/requests/{request_id}: what the gateway recorded about one of the caller's
 * org's requests (its request log line, and its usage when it reached a router). Records are
 * written in batches, so a request shows up a second or two after its answer.
 */
export const RequestRecord = z
  .object({
    object: z.literal("request"),
    request_id: z.string(),
    created_at: z.string().describe("When the record was written (ISO 8601)"),
    route: z.string(),
    model: z.string().nullable(),
    router_pool: z.string().nullable(),
    api_key_id: z.string().nullable(),
    /** From the request log (kept REQUEST_LOG_RETENTION_DAYS); null once that has expired. */
    http_status: z.int().nullable(),
    status: z.enum(["ok", "failed", "cancelled"]),
    error_code: z.string().nullable(),
    stream: z.boolean().nullable(),
    /** Null when the request never reached a router (refused, or its usage not yet written). */
    usage: z
      .object({
        prompt_tokens: z.int(),
        completion_tokens: z.int(),
        total_tokens: z.int(),
        cost: Money,
      })
      .nullable(),
    timing: z.object({
      latency_ms: z.int().nullable(),
      upstream_ms: z.int().nullable(),
      overhead_ms: z.int().nullable(),
    }),
  })
  .meta({ id: "RequestRecord" });
export type RequestRecord = z.infer<typeof RequestRecord>;
