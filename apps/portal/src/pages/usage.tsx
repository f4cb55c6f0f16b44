import type { UsageResponse } from "@portal/contracts";
import { useEffect, useMemo, useState } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { api, formatDate, formatUsd } from "../api.js";
import type { Session } from "../app.js";
import { Card, ErrorText, useAction } from "../ui.js";

const COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563"];
type Metric = "requests" | "tokens" | "cost";
type Split = "model" | "key";

interface Row {
  day: string;
  [series: string]: number | string;
}

/** Pivot usage rows into one row per day with one numeric column per series. */
function pivot(usage: UsageResponse, metric: Metric, split: Split) {
  const keyNames = new Map(usage.keys.map((k) => [k.id, `${k.name} (${k.masked})`]));
  const days: string[] = [];
  const start = new Date(usage.from);
  const end = new Date(usage.to);
  for (let d = start; d <= end; d = new Date(d.getTime() + 86_400_000)) {
    days.push(d.toISOString().slice(0, 10));
  }
  const rows = new Map<string, Row>(days.map((day) => [day, { day }]));
  const series = new Set<string>();
  for (const u of usage.days) {
    const name = split === "model" ? u.model : (keyNames.get(u.api_key_id) ?? u.api_key_id);
    series.add(name);
    const row = rows.get(u.day) ?? { day: u.day };
    const value =
      metric === "requests"
        ? u.requests
        : metric === "tokens"
          ? u.prompt_tokens + u.completion_tokens
          : Number(u.cost_micros) / 1_000_000;
    row[name] = (Number(row[name] ?? 0) || 0) + value;
    rows.set(u.day, row);
  }
  return { data: [...rows.values()], series: [...series] };
}

/** Usage: the allowance in plain words, then daily charts by model or key. */
export function UsagePage({ session }: { session: Session }) {
  const { org } = session.membership;
  const [usage, setUsage] = useState<UsageResponse | null>(null);
  const [split, setSplit] = useState<Split>("model");
  const [days, setDays] = useState(30);
  const { error, run } = useAction();

  // biome-ignore lint/correctness/useExhaustiveDependencies: run is a fresh closure each render; reload on org or range change only
  useEffect(() => {
    void run(async () =>
      setUsage(await api<UsageResponse>("GET", `/portal/api/orgs/${org.id}/usage?days=${days}`)),
    );
  }, [org.id, days]);

  const totals = useMemo(() => {
    if (!usage) return null;
    let requests = 0;
    let tokens = 0;
    let cost = 0n;
    for (const u of usage.days) {
      requests += u.requests;
      tokens += u.prompt_tokens + u.completion_tokens;
      cost += BigInt(u.cost_micros);
    }
    return { requests, tokens, cost };
  }, [usage]);

  return (
    <>
      <h1>Usage</h1>
      <ErrorText error={error} />
      {!usage || !totals ? (
        <p className="loading">Loading…</p>
      ) : (
        <>
          <Allowance usage={usage} />
          <Card
            title={`Last ${days} days`}
            actions={
              <div className="toolbar">
                <select
                  aria-label="Range"
                  value={days}
                  onChange={(e) => setDays(Number(e.target.value))}
                >
                  <option value={7}>7 days</option>
                  <option value={30}>30 days</option>
                  <option value={90}>90 days</option>
                </select>
                <select
                  aria-label="Split by"
                  value={split}
                  onChange={(e) => setSplit(e.target.value as Split)}
                >
                  <option value="model">by model</option>
                  <option value="key">by key</option>
                </select>
              </div>
            }
          >
            <div className="stats">
              <div>
                <span className="stat" data-testid="total-requests">
                  {totals.requests.toLocaleString()}
                </span>
                requests
              </div>
              <div>
                <span className="stat">{totals.tokens.toLocaleString()}</span>tokens
              </div>
              <div>
                <span className="stat">{formatUsd(totals.cost)}</span>cost at list price
              </div>
            </div>
            {usage.days.length === 0 && (
              <p className="muted">No requests in this period yet. Create a key and send one.</p>
            )}
          </Card>
          {(["requests", "tokens", "cost"] as const).map((metric) => (
            <UsageChart key={metric} usage={usage} metric={metric} split={split} />
          ))}
        </>
      )}
    </>
  );
}

function Allowance({ usage }: { usage: UsageResponse }) {
  const { allowance, plan } = usage;
  const resets = formatDate(allowance.resets_at);
  if (allowance.limit === null) {
    return (
      <Card title={`${plan.name} plan`}>
        <p>
          No weekly allowance on this plan. Rate limits: {plan.requests_per_minute_key} requests per
          minute per key, {plan.requests_per_minute_org} per organization,{" "}
          {plan.tokens_per_minute_org.toLocaleString()} tokens per minute.
        </p>
        <p className="muted">This week so far: {allowance.used.toLocaleString()} requests.</p>
      </Card>
    );
  }
  const pct = Math.min(100, Math.round((allowance.used / allowance.limit) * 100));
  const tone = pct >= 100 ? "bad" : pct >= 80 ? "warn" : "ok";
  return (
    <Card title={`${plan.name} plan: weekly allowance`}>
      <p className="allowance-line" data-testid="allowance">
        <strong>{allowance.used.toLocaleString()}</strong> of {allowance.limit.toLocaleString()}{" "}
        requests used this week ({pct}%).
      </p>
      <div className={`meter meter-${tone}`} aria-hidden="true">
        <div style={{ width: `${pct}%` }} />
      </div>
      <p>Resets {resets} (Monday 00:00 UTC).</p>
      <p className={tone === "ok" ? "muted" : "warning"}>
        {pct >= 100
          ? "You have reached the limit: requests are refused with HTTP 429 (quota_exceeded) until the reset."
          : "At the limit, requests are refused with HTTP 429 (quota_exceeded) until the weekly reset. Nothing is charged on the Free plan."}
      </p>
    </Card>
  );
}

const TITLES: Record<Metric, string> = {
  requests: "Requests per day",
  tokens: "Tokens per day (prompt + completion)",
  cost: "Cost per day (USD, list price)",
};

function UsageChart({
  usage,
  metric,
  split,
}: {
  usage: UsageResponse;
  metric: Metric;
  split: Split;
}) {
  const { data, series } = useMemo(() => pivot(usage, metric, split), [usage, metric, split]);
  return (
    <Card title={TITLES[metric]}>
      <div className="chart" data-testid={`chart-${metric}`}>
        <ResponsiveContainer width="100%" height={220}>
          <BarChart data={data} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} fontSize={12} />
            <YAxis
              fontSize={12}
              width={metric === "cost" ? 84 : 56}
              allowDecimals={metric === "cost"}
              tickFormatter={(v: number) => (metric === "cost" ? `$${v}` : v.toLocaleString())}
            />
            <Tooltip
              formatter={(v) =>
                metric === "cost" ? `$${Number(v).toFixed(6)}` : Number(v).toLocaleString()
              }
            />
            <Legend />
            {series.map((s, i) => (
              <Bar
                key={s}
                dataKey={s}
                stackId="a"
                fill={COLORS[i % COLORS.length]}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </Card>
  );
}
