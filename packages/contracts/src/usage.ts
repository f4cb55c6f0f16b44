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
