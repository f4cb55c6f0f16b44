import type { PlanView } from "@portal/contracts";
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api.js";
import { Badge, Card, ErrorText, useAction } from "../ui.js";

interface AccessRule {
  id: string;
  plan_id: string | null;
  org_id: string | null;
  allowed: boolean;
}
interface ModelRow {
  id: string;
  alias: string;
  pool_id: string;
  display_name: string;
  prompt_template: string;
  context_length: number;
  default_max_tokens: number;
  max_max_tokens: number;
  input_price_micros: string;
  output_price_micros: string;
  visibility: "public" | "restricted";
  state: "active" | "disabled";
  access: AccessRule[];
}
interface PoolRow {
  id: string;
  name: string;
}

/** Models: create, edit prices/template/limits, access per plan or org. */
export function ModelsPage() {
  const [models, setModels] = useState<ModelRow[] | null>(null);
  const [pools, setPools] = useState<PoolRow[]>([]);
  const [plans, setPlans] = useState<PlanView[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const { error, run } = useAction();
  const reload = async () =>
    setModels((await api<{ data: ModelRow[] }>("GET", "/admin/api/models")).data);
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void run(async () => {
      await reload();
      setPools((await api<{ data: PoolRow[] }>("GET", "/admin/api/pools")).data);
      setPlans((await api<{ data: PlanView[] }>("GET", "/admin/api/plans")).data);
    });
  }, []);
  return (
    <>
      <h1>Models</h1>
      <p className="muted">Prices are micro-USD per million tokens (1,000,000 = $1 per million).</p>
      <ErrorText error={error} />
      <Card title="Models">
        <table>
          <thead>
            <tr>
              <th>Alias</th>
              <th>Pool</th>
              <th>Input / output price</th>
              <th>Max tokens</th>
              <th>Visibility</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {(models ?? []).map((m) => (
              <ModelRowView
                key={m.id}
                m={m}
                pools={pools}
                plans={plans}
                open={open === m.id}
                onToggle={() => setOpen(open === m.id ? null : m.id)}
                onChanged={() => void run(reload)}
              />
            ))}
          </tbody>
        </table>
      </Card>
      <CreateModel pools={pools} onCreated={() => void run(reload)} />
    </>
  );
}

function ModelRowView(props: {
  m: ModelRow;
  pools: PoolRow[];
  plans: PlanView[];
  open: boolean;
  onToggle(): void;
  onChanged(): void;
}) {
  const { m } = props;
  const pool = props.pools.find((p) => p.id === m.pool_id)?.name ?? m.pool_id;
  return (
    <>
      <tr>
        <td>
          <button type="button" className="link" onClick={props.onToggle}>
            {m.alias}
          </button>
          <div className="hint">{m.display_name}</div>
        </td>
        <td>{pool}</td>
        <td>
          {m.input_price_micros} / {m.output_price_micros}
        </td>
        <td>
          {m.default_max_tokens} default, {m.max_max_tokens} max, {m.context_length} context
        </td>
        <td>{m.visibility}</td>
        <td>
          <Badge tone={m.state === "active" ? "ok" : "muted"}>{m.state}</Badge>
        </td>
      </tr>
      {props.open && (
        <tr>
          <td colSpan={6}>
            <EditModel {...props} />
          </td>
        </tr>
      )}
    </>
  );
}

function EditModel({
  m,
  pools,
  plans,
  onChanged,
}: {
  m: ModelRow;
  pools: PoolRow[];
  plans: PlanView[];
  onChanged(): void;
}) {
  const [form, setForm] = useState({
    display_name: m.display_name,
    pool_id: m.pool_id,
    prompt_template: m.prompt_template,
    context_length: String(m.context_length),
    default_max_tokens: String(m.default_max_tokens),
    max_max_tokens: String(m.max_max_tokens),
    input_price_micros: m.input_price_micros,
    output_price_micros: m.output_price_micros,
    visibility: m.visibility,
    state: m.state,
  });
  const [scope, setScope] = useState<{ kind: "plan" | "org"; id: string; allowed: boolean }>({
    kind: "plan",
    id: plans[0]?.id ?? "",
    allowed: true,
  });
  const { busy, error, run } = useAction();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api("PATCH", `/admin/api/models/${m.id}`, {
        ...form,
        context_length: Number(form.context_length),
        default_max_tokens: Number(form.default_max_tokens),
        max_max_tokens: Number(form.max_max_tokens),
      });
      onChanged();
    });
  };
  const addRule = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api("PUT", `/admin/api/models/${m.id}/access`, {
        [scope.kind === "plan" ? "plan_id" : "org_id"]: scope.id,
        allowed: scope.allowed,
      });
      onChanged();
    });
  };
  const planName = (id: string | null) => plans.find((p) => p.id === id)?.name ?? id;
  return (
    <div className="panel">
      <form className="grid-form" onSubmit={save}>
        <label>
          Display name
          <input value={form.display_name} onChange={set("display_name")} />
        </label>
        <label>
          Pool
          <select value={form.pool_id} onChange={set("pool_id")}>
            {pools.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Input price (µUSD / M tokens)
          <input
            value={form.input_price_micros}
            onChange={set("input_price_micros")}
            inputMode="numeric"
          />
        </label>
        <label>
          Output price (µUSD / M tokens)
          <input
            value={form.output_price_micros}
            onChange={set("output_price_micros")}
            inputMode="numeric"
          />
        </label>
        <label>
          Context length
          <input value={form.context_length} onChange={set("context_length")} inputMode="numeric" />
        </label>
        <label>
          Default max_tokens
          <input
            value={form.default_max_tokens}
            onChange={set("default_max_tokens")}
            inputMode="numeric"
          />
        </label>
        <label>
          Maximum max_tokens
          <input value={form.max_max_tokens} onChange={set("max_max_tokens")} inputMode="numeric" />
        </label>
        <label>
          Visibility
          <select value={form.visibility} onChange={set("visibility")}>
            <option value="public">public (every plan unless denied)</option>
            <option value="restricted">restricted (only where allowed)</option>
          </select>
        </label>
        <label>
          State
          <select value={form.state} onChange={set("state")}>
            <option value="active">active</option>
            <option value="disabled">disabled</option>
          </select>
        </label>
        <label className="wide">
          Prompt template (must contain {"{prompt}"})
          <textarea rows={3} value={form.prompt_template} onChange={set("prompt_template")} />
        </label>
        <button type="submit" disabled={busy}>
          Save model
        </button>
      </form>
      <h3>Access rules</h3>
      <p className="hint">An organization rule overrides its plan's rule.</p>
      <ul className="plain">
        {m.access.map((r) => (
          <li key={r.id}>
            {r.allowed ? "Allow" : "Deny"}{" "}
            {r.plan_id ? `plan ${planName(r.plan_id)}` : `org ${r.org_id}`}{" "}
            <button
              type="button"
              className="link"
              onClick={() =>
                void run(async () => {
                  await api("DELETE", `/admin/api/models/${m.id}/access/${r.id}`);
                  onChanged();
                })
              }
            >
              remove
            </button>
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={addRule}>
        <select
          value={scope.allowed ? "allow" : "deny"}
          onChange={(e) => setScope({ ...scope, allowed: e.target.value === "allow" })}
          aria-label="Allow or deny"
        >
          <option value="allow">Allow</option>
          <option value="deny">Deny</option>
        </select>
        <select
          value={scope.kind}
          onChange={(e) =>
            setScope({
              ...scope,
              kind: e.target.value as "plan" | "org",
              id: e.target.value === "plan" ? (plans[0]?.id ?? "") : "",
            })
          }
          aria-label="Scope"
        >
          <option value="plan">plan</option>
          <option value="org">organization</option>
        </select>
        {scope.kind === "plan" ? (
          <select
            value={scope.id}
            onChange={(e) => setScope({ ...scope, id: e.target.value })}
            aria-label="Plan"
          >
            {plans.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        ) : (
          <input
            placeholder="org_…"
            value={scope.id}
            onChange={(e) => setScope({ ...scope, id: e.target.value })}
            aria-label="Organization id"
            required
          />
        )}
        <button type="submit" disabled={busy}>
          Add rule
        </button>
      </form>
      <ErrorText error={error} />
    </div>
  );
}

function CreateModel({ pools, onCreated }: { pools: PoolRow[]; onCreated(): void }) {
  const empty = {
    alias: "",
    display_name: "",
    pool_id: "",
    context_length: "8192",
    default_max_tokens: "256",
    max_max_tokens: "4096",
    input_price_micros: "1000000",
    output_price_micros: "1000000",
    prompt_template: "{prompt}",
  };
  const [form, setForm] = useState(empty);
  const { busy, error, run } = useAction();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api("POST", "/admin/api/models", {
        ...form,
        pool_id: form.pool_id || pools[0]?.id,
        context_length: Number(form.context_length),
        default_max_tokens: Number(form.default_max_tokens),
        max_max_tokens: Number(form.max_max_tokens),
      });
      setForm(empty);
      onCreated();
    });
  };
  return (
    <Card title="Add a model">
      <form className="grid-form" onSubmit={submit}>
        <label>
          Alias (public name)
          <input required value={form.alias} onChange={set("alias")} placeholder="llama-3-8b" />
        </label>
        <label>
          Display name
          <input required value={form.display_name} onChange={set("display_name")} />
        </label>
        <label>
          Pool
          <select value={form.pool_id || pools[0]?.id || ""} onChange={set("pool_id")}>
            {pools.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Input price (µUSD / M tokens)
          <input value={form.input_price_micros} onChange={set("input_price_micros")} />
        </label>
        <label>
          Output price (µUSD / M tokens)
          <input value={form.output_price_micros} onChange={set("output_price_micros")} />
        </label>
        <label>
          Context length
          <input value={form.context_length} onChange={set("context_length")} />
        </label>
        <label>
          Default max_tokens
          <input value={form.default_max_tokens} onChange={set("default_max_tokens")} />
        </label>
        <label>
          Maximum max_tokens
          <input value={form.max_max_tokens} onChange={set("max_max_tokens")} />
        </label>
        <label className="wide">
          Prompt template
          <textarea rows={2} value={form.prompt_template} onChange={set("prompt_template")} />
        </label>
        <ErrorText error={error} />
        <button type="submit" disabled={busy || pools.length === 0}>
          Add model
        </button>
      </form>
    </Card>
  );
}
