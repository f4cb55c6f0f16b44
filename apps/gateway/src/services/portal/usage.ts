import type { AllowanceView, UsageDay } from "@portal/contracts";
import { and, asc, type Database, eq, gte, lte, usageDaily } from "@portal/db";
import { isoWeekStart } from "../limits/admission.js";
import { recordedRequestsSince } from "../limits/period-seed.js";

const DAY_MS = 86_400_000;

/**
 * Daily usage of one org by model and key for the UTC days `from`..`to` (inclusive). The one
 * place portal charts read usage: it reads the `usage_daily` rollup, which the usage writer
 * maintains in the same transaction as each `usage_events` insert, so it is never behind.
 */
export async function dailyUsage(
  db: Database,
  orgId: string,
  from: Date,
  to: Date,
): Promise<UsageDay[]> {
  const rows = await db
    .select()
    .from(usageDaily)
    .where(
      and(
        eq(usageDaily.orgId, orgId),
        gte(usageDaily.day, from.toISOString().slice(0, 10)),
        lte(usageDaily.day, to.toISOString().slice(0, 10)),
      ),
    )
    .orderBy(asc(usageDaily.day), asc(usageDaily.modelAlias), asc(usageDaily.apiKeyId));
  return rows.map((r) => ({
    day: r.day,
    model: r.modelAlias,
    api_key_id: r.apiKeyId,
    requests: r.requests,
    failed: r.failedRequests,
    prompt_tokens: Number(r.promptTokens),
    completion_tokens: Number(r.completionTokens),
    cost_micros: r.costMicros.toString(),
  }));
}

/**
 * The weekly request allowance over the same window enforcement uses (ISO week, Monday 00:00
 * UTC): recorded requests this week against the plan's allowance.
 */
export async function weeklyAllowance(
  db: Database,
  orgId: string,
  limit: number | null,
  now = new Date(),
): Promise<AllowanceView> {
  const start = isoWeekStart(now.getTime());
  return {
    limit,
    used: await recordedRequestsSince(db, orgId, start),
    resets_at: new Date(start + 7 * DAY_MS).toISOString(),
    window: "week",
  };
}
