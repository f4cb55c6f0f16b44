import { formatMicrosUsd, UsageQuery } from "@portal/contracts";
import { getOrgDetail } from "../../services/admin/orgs.js";
import { dailyUsage, weeklyAllowance } from "../../services/portal/usage.js";
import { type CommandGroup, defined, requireStr, str, table, validate } from "../command.js";

/** `portal usage --org ORG`: an org's daily usage by model and key, and its weekly allowance. */
export const usageCommands: CommandGroup = {
  name: "usage",
  summary: "show an org's usage (per day, model and key) and its weekly allowance",
  commands: [
    {
      name: "",
      summary: "show an org's usage and allowance",
      options: {
        org: { type: "string", value: "ORG", description: "org id or slug", required: true },
        days: { type: "string", value: "N", description: "UTC days back, 1–90 (default 30)" },
      },
      details:
        "Reads the usage_daily rollup the usage writer maintains (the same numbers as the console). Requests still queued in a running gateway (flushed every USAGE_FLUSH_INTERVAL_MS) appear once written.",
      async run(ctx, input) {
        const { days } = validate(UsageQuery, defined({ days: str(input, "days") }));
        const db = await ctx.db();
        const orgId = await ctx.resolveOrg(requireStr(input, "org"));
        const detail = await getOrgDetail(db, orgId);
        const to = new Date();
        const from = new Date(
          Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - (days - 1)),
        );
        const [rows, allowance] = await Promise.all([
          dailyUsage(db, orgId, from, to),
          weeklyAllowance(db, orgId, detail.org.plan.weekly_request_allowance, to),
        ]);
        const totals = rows.reduce(
          (t, r) => ({
            requests: t.requests + r.requests,
            failed: t.failed + r.failed,
            prompt_tokens: t.prompt_tokens + r.prompt_tokens,
            completion_tokens: t.completion_tokens + r.completion_tokens,
            cost_micros: t.cost_micros + BigInt(r.cost_micros),
          }),
          { requests: 0, failed: 0, prompt_tokens: 0, completion_tokens: 0, cost_micros: 0n },
        );
        const keyNames = new Map(detail.keys.map((k) => [k.id, k.name]));
        const json = {
          org: { id: detail.org.id, slug: detail.org.slug, name: detail.org.name },
          plan: detail.org.plan,
          from: from.toISOString(),
          to: to.toISOString(),
          days: rows,
          totals: { ...totals, cost_micros: totals.cost_micros.toString() },
          allowance,
        };
        const text = [
          `Usage of ${detail.org.name} (${detail.org.slug}, plan ${detail.org.plan.slug}), ${json.from.slice(0, 10)} … ${json.to.slice(0, 10)}:`,
          table(
            rows.map((r) => ({
              ...r,
              key: keyNames.get(r.api_key_id) ?? r.api_key_id,
              cost_usd: formatMicrosUsd(BigInt(r.cost_micros)),
            })),
            [
              "day",
              "model",
              "key",
              "requests",
              "failed",
              "prompt_tokens",
              "completion_tokens",
              "cost_usd",
            ],
          ),
          `Total: ${totals.requests} requests (${totals.failed} failed), ${totals.prompt_tokens + totals.completion_tokens} tokens, ${formatMicrosUsd(totals.cost_micros)} USD.`,
          allowance.limit === null
            ? "Weekly allowance: none (not limited by the plan)."
            : `Weekly allowance: ${allowance.used} of ${allowance.limit} requests used; resets ${allowance.resets_at}.`,
        ].join("\n");
        return { json, text };
      },
    },
  ],
};
