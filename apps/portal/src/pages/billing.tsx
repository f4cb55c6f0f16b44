import type { BillingResponse, LedgerKind, PlanView } from "@portal/contracts";
import { type FormEvent, useEffect, useState } from "react";
import { api, formatDate, formatUsd } from "../api.js";
import type { Session } from "../app.js";
import { Card, ErrorText, useAction } from "../ui.js";

const MODE_TEXT: Record<PlanView["billing_mode"], string> = {
  free: "Free: a weekly request allowance, nothing is charged.",
  prepaid: "Prepaid: requests draw on a credit balance.",
  postpaid: "Postpaid: usage is metered and invoiced monthly.",
};

const KIND_TEXT: Record<LedgerKind, string> = {
  credit_purchase: "Credit purchase",
  grant: "Grant",
  usage_charge: "Usage",
  refund: "Refund",
  adjustment: "Adjustment",
};

/** Signed micro-USD (decimal string) as dollars: credits plain, charges with a minus sign. */
function signedUsd(micros: string): string {
  const n = BigInt(micros);
  return n < 0n ? `−${formatUsd(-n)}` : formatUsd(n);
}

/** Billing: plan, balance (prepaid), ledger, and buying credits where payments are configured. */
export function BillingPage({ session }: { session: Session }) {
  const { org } = session.membership;
  const [billing, setBilling] = useState<BillingResponse | null>(null);
  const { error, run } = useAction();
  const returned = new URLSearchParams(window.location.search).get("checkout");
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload on org change only
  useEffect(() => {
    void run(async () => setBilling(await api("GET", `/portal/api/orgs/${org.id}/billing`)));
  }, [org.id]);
  return (
    <>
      <h1>Billing</h1>
      {returned === "success" && (
        <p className="notice" role="status">
          Payment received. Credits appear in the ledger as soon as the payment is confirmed.
        </p>
      )}
      {returned === "cancelled" && (
        <p className="muted" role="status">
          Checkout was cancelled; nothing was charged.
        </p>
      )}
      <ErrorText error={error} />
      {billing && (
        <>
          <PlanCard plan={billing.plan} />
          <BalanceCard billing={billing} orgId={org.id} />
          <LedgerCard billing={billing} />
          {session.membership.role !== "member" && <ExportsCard orgId={org.id} />}
        </>
      )}
    </>
  );
}

function PlanCard({ plan }: { plan: PlanView }) {
  return (
    <Card title={`Plan: ${plan.name}`}>
      <p>{MODE_TEXT[plan.billing_mode]}</p>
      <ul className="plain">
        <li>{plan.requests_per_minute_key} requests per minute per key</li>
        <li>{plan.requests_per_minute_org} requests per minute per organization</li>
        <li>{plan.tokens_per_minute_org.toLocaleString()} tokens per minute</li>
        <li>{plan.max_concurrent_per_key} concurrent requests per key</li>
        {plan.weekly_request_allowance !== null && (
          <li>{plan.weekly_request_allowance.toLocaleString()} requests per week</li>
        )}
      </ul>
      <p className="muted">To change plans, contact the Portal operators.</p>
    </Card>
  );
}

function BalanceCard({ billing, orgId }: { billing: BillingResponse; orgId: string }) {
  const { balance } = billing;
  return (
    <Card title="Balance">
      {balance ? (
        <dl className="facts" data-testid="balance">
          <dt>Available</dt>
          <dd data-testid="balance-available">{signedUsd(balance.available_micros)}</dd>
          <dt>Held by requests in flight</dt>
          <dd>{formatUsd(balance.reserved_micros)}</dd>
          <dt>Credits to date</dt>
          <dd>{signedUsd(balance.credits_micros)}</dd>
          <dt>Spent to date</dt>
          <dd>{formatUsd(balance.spent_micros)}</dd>
        </dl>
      ) : (
        <p data-testid="balance-none">
          {billing.plan.billing_mode === "free"
            ? "Your plan is free: there is no balance, and nothing is charged."
            : "Your plan is invoiced for what you use: there is no prepaid balance."}
        </p>
      )}
      {billing.plan.billing_mode === "prepaid" &&
        (billing.credit_purchases.available ? (
          <BuyCredits orgId={orgId} />
        ) : (
          <p className="muted" data-testid="purchases-unavailable">
            Credit purchases are not configured on this installation. Ask the Portal operators to
            add credits to your organization.
          </p>
        ))}
    </Card>
  );
}

/** Opens a hosted checkout for an amount in dollars; credits are booked when payment clears. */
function BuyCredits({ orgId }: { orgId: string }) {
  const [dollars, setDollars] = useState("20");
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      // Dollars and cents parsed as text: money never passes through a float.
      const m = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(dollars.trim());
      if (!m) throw new Error("Enter an amount like 20 or 12.50.");
      const amountCents = Number(m[1]) * 100 + Number((m[2] ?? "0").padEnd(2, "0"));
      const session = await api<{ url: string | null }>(
        "POST",
        `/portal/api/orgs/${orgId}/billing/checkout`,
        { amount_cents: amountCents },
      );
      if (!session.url) throw new Error("The payment provider did not return a checkout page.");
      window.location.assign(session.url);
    });
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label className="inline">
        Amount (USD)
        <input
          className="narrow"
          inputMode="decimal"
          value={dollars}
          onChange={(e) => setDollars(e.target.value)}
          required
        />
      </label>
      <button type="submit" disabled={busy}>
        Buy credits
      </button>
      <ErrorText error={error} />
    </form>
  );
}

function LedgerCard({ billing }: { billing: BillingResponse }) {
  return (
    <Card title="Ledger">
      {billing.ledger.length === 0 ? (
        <p className="muted" data-testid="ledger-empty">
          No entries yet. Credits, grants and hourly usage charges will be listed here.
        </p>
      ) : (
        <table data-testid="ledger">
          <thead>
            <tr>
              <th>When</th>
              <th>Entry</th>
              <th>Reference</th>
              <th className="num">Amount</th>
            </tr>
          </thead>
          <tbody>
            {billing.ledger.map((e) => (
              <tr key={e.id}>
                <td>{formatDate(e.created_at)}</td>
                <td>{KIND_TEXT[e.kind]}</td>
                <td>
                  <code>{e.reference}</code>
                </td>
                <td className="num">{signedUsd(e.amount_micros)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="hint">The most recent 50 entries, newest first. Amounts in USD.</p>
    </Card>
  );
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** Download links: usage and ledger for a period (CSV / JSON Lines), the monthly statement. */
function ExportsCard({ orgId }: { orgId: string }) {
  const today = new Date();
  const [from, setFrom] = useState(
    isoDay(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1))),
  );
  const [to, setTo] = useState(isoDay(today));
  const [month, setMonth] = useState(isoDay(today).slice(0, 7));
  const base = `/portal/api/orgs/${orgId}/billing`;
  const range = `from=${from}&to=${to}`;
  return (
    <Card title="Exports">
      <div className="inline-form">
        <label className="inline">
          From
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="inline">
          To
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
      </div>
      <ul className="plain" data-testid="exports">
        <li>
          Usage events: <a href={`${base}/exports/usage?${range}&format=csv`}>CSV</a> ·{" "}
          <a href={`${base}/exports/usage?${range}&format=jsonl`}>JSON Lines</a>
        </li>
        <li>
          Ledger entries: <a href={`${base}/exports/ledger?${range}&format=csv`}>CSV</a> ·{" "}
          <a href={`${base}/exports/ledger?${range}&format=jsonl`}>JSON Lines</a>
        </li>
      </ul>
      <div className="inline-form">
        <label className="inline">
          Statement for
          <input type="month" value={month} onChange={(e) => setMonth(e.target.value)} />
        </label>
        <a href={`${base}/statement?month=${month}&format=csv`}>CSV</a>
        <a href={`${base}/statement?month=${month}&format=json`}>JSON</a>
      </div>
      <p className="hint">Days are UTC; amounts are integer micro-USD (1 USD = 1,000,000).</p>
    </Card>
  );
}
