import type { PlanView } from "@portal/contracts";
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api.js";
import { Card, ErrorText, useAction } from "../ui.js";

const FIELDS = [
  ["requests_per_minute_key", "Requests / min per key"],
  ["requests_per_minute_org", "Requests / min per org"],
  ["tokens_per_minute_org", "Tokens / min per org"],
  ["max_concurrent_per_key", "Concurrent per key"],
  ["weekly_request_allowance", "Weekly allowance (empty = none)"],
] as const;
type Field = (typeof FIELDS)[number][0];

/** Plans and their limits; an edit applies to every org on the plan on every gateway at once. */
export function PlansPage() {
  const [plans, setPlans] = useState<PlanView[] | null>(null);
  const { error, run } = useAction();
  const reload = async () =>
    setPlans((await api<{ data: PlanView[] }>("GET", "/admin/api/plans")).data);
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void run(reload);
  }, []);
  return (
    <>
      <h1>Plans</h1>
      <p className="muted">
        Limits apply to every organization on the plan, on every gateway instance, within a second.
      </p>
      <ErrorText error={error} />
      {(plans ?? []).map((p) => (
        <PlanCard key={`${p.id}-${JSON.stringify(p)}`} plan={p} onSaved={() => void run(reload)} />
      ))}
    </>
  );
}

function PlanCard({ plan, onSaved }: { plan: PlanView; onSaved(): void }) {
  const [name, setName] = useState(plan.name);
  const [values, setValues] = useState<Record<Field, string>>(
    () =>
      Object.fromEntries(
        FIELDS.map(([f]) => [f, plan[f] === null ? "" : String(plan[f])]),
      ) as Record<Field, string>,
  );
  const { busy, error, run } = useAction();
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const body: Record<string, unknown> = { name };
      for (const [f] of FIELDS) {
        const v = values[f].trim();
        body[f] = f === "weekly_request_allowance" && v === "" ? null : Number(v);
      }
      await api("PATCH", `/admin/api/plans/${plan.id}`, body);
      onSaved();
    });
  };
  return (
    <Card title={`${plan.name} (${plan.slug}, ${plan.billing_mode})`}>
      <form className="stack" onSubmit={save} data-plan={plan.slug}>
        <div className="row">
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          {FIELDS.map(([f, label]) => (
            <label key={f}>
              {label}
              <input
                inputMode="numeric"
                value={values[f]}
                onChange={(e) => setValues({ ...values, [f]: e.target.value })}
                aria-label={`${label} of ${plan.slug}`}
              />
            </label>
          ))}
        </div>
        <ErrorText error={error} />
        <div>
          <button type="submit" disabled={busy}>
            Save plan
          </button>
        </div>
      </form>
    </Card>
  );
}
