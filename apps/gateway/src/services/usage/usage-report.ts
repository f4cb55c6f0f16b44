import { formatMicrosUsd, type UsageReport, type UsageTotals } from "@portal/contracts";
import { and, eq, gte, sql, usageDaily } from "@portal/db";
import type { KeyRecord } from "../key-store.js";
import { peekLimits } from "../limits/admission.js";
import type { Services } from "../services.js";

const DAY = 86_400_000;

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The caller's own limits (current windows, without counting), allowance, balance and usage. */
export async function usageReport(services: Services, key: KeyRecord): Promise<UsageReport> {
  const now = Date.now();
  const states = await peekLimits(services.limiter, key, now);
  const weekly = states.find((s) => s.scope === "org_weekly_allowance");
  const balance = key.billingMode === "prepaid" ? await services.balance.snapshot(key.orgId) : null;

  const today = utcDay(now);
  const weekAgo = utcDay(now - 6 * DAY);
  const monthStart = `${today.slice(0, 8)}01`;
  const from = weekAgo < monthStart ? weekAgo : monthStart;
  const rows = await services.db
    .select({
      day: usageDaily.day,
      requests: sql<number>`sum(${usageDaily.requests})::int`,
      failed: sql<number>`sum(${usageDaily.failedRequests})::int`,
      prompt: sql<number>`sum(${usageDaily.promptTokens})::bigint`,
      completion: sql<number>`sum(${usageDaily.completionTokens})::bigint`,
      cost: sql<string>`sum(${usageDaily.costMicros})::text`,
    })
    .from(usageDaily)
    .where(and(eq(usageDaily.orgId, key.orgId), gte(usageDaily.day, from)))
    .groupBy(usageDaily.day);
  const total = (pred: (day: string) => boolean): UsageTotals => {
    let requests = 0;
    let failed = 0;
    let prompt = 0;
    let completion = 0;
    let cost = 0n;
    for (const r of rows) {
      if (!pred(r.day)) continue;
      requests += Number(r.requests);
      failed += Number(r.failed);
      prompt += Number(r.prompt);
      completion += Number(r.completion);
      cost += BigInt(r.cost);
    }
    return {
      requests,
      failed_requests: failed,
      prompt_tokens: prompt,
      completion_tokens: completion,
      cost: { amount: formatMicrosUsd(cost), currency: "USD" },
    };
  };

  return {
    object: "usage",
    org_id: key.orgId,
    key_id: key.keyId,
    plan: key.planSlug,
    billing_mode: key.billingMode,
    limits: states.map((s) => ({
      scope: s.scope,
      limit: s.limit,
      used: s.used,
      remaining: s.remaining,
      reset: Math.ceil(s.resetAtMs / 1000),
    })),
    weekly_allowance: weekly
      ? {
          limit: weekly.limit,
          used: weekly.used,
          remaining: weekly.remaining,
          reset_at: new Date(weekly.resetAtMs).toISOString(),
        }
      : null,
    balance: balance
      ? {
          available: formatMicrosUsd(balance.available),
          reserved: formatMicrosUsd(balance.reserved),
          currency: "USD",
        }
      : null,
    usage: {
      today: total((d) => d === today),
      last_7_days: total((d) => d >= weekAgo),
      month_to_date: total((d) => d >= monthStart),
    },
  };
}
