import type { ApiKeyView, OrgView, PlanView } from "@portal/contracts";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, formatDate } from "../api.js";
import { Badge, Card, ErrorText, useAction } from "../ui.js";

type OrgRow = OrgView & { member_count: number; active_key_count: number };
interface OrgDetail {
  org: OrgView;
  members: Array<{ id: string; email: string; role: string }>;
  keys: ApiKeyView[];
}

/** Find orgs; disable/enable them, change plans, disable keys. */
export function OrgsPage() {
  const [q, setQ] = useState("");
  const [orgs, setOrgs] = useState<OrgRow[] | null>(null);
  const [plans, setPlans] = useState<PlanView[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const { error, run } = useAction();
  const search = useCallback(
    (query: string) =>
      api<{ data: OrgRow[] }>("GET", `/admin/api/orgs?q=${encodeURIComponent(query)}`).then((r) =>
        setOrgs(r.data),
      ),
    [],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void run(async () => {
      await search("");
      setPlans((await api<{ data: PlanView[] }>("GET", "/admin/api/plans")).data);
    });
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => search(q));
  };
  return (
    <>
      <h1>Organizations</h1>
      <form className="inline-form" onSubmit={submit}>
        <input
          placeholder="Name, id or member email"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          aria-label="Search organizations"
        />
        <button type="submit">Search</button>
      </form>
      <ErrorText error={error} />
      <Card>
        {orgs === null ? (
          <p className="loading">Loading…</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Organization</th>
                <th>Plan</th>
                <th>Status</th>
                <th>Members</th>
                <th>Active keys</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {orgs.map((o) => (
                <OrgRowView
                  key={o.id}
                  o={o}
                  open={open === o.id}
                  onToggle={() => setOpen(open === o.id ? null : o.id)}
                  plans={plans}
                  onChanged={() => void run(() => search(q))}
                />
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function OrgRowView(props: {
  o: OrgRow;
  open: boolean;
  onToggle(): void;
  plans: PlanView[];
  onChanged(): void;
}) {
  const { o } = props;
  return (
    <>
      <tr data-org-id={o.id}>
        <td>
          <button type="button" className="link" onClick={props.onToggle}>
            {o.name}
          </button>
          <div className="hint">{o.id}</div>
        </td>
        <td>{o.plan.name}</td>
        <td>
          <Badge tone={o.status === "active" ? "ok" : "bad"}>{o.status}</Badge>
          {o.disabled_reason && <div className="hint">{o.disabled_reason}</div>}
        </td>
        <td>{o.member_count}</td>
        <td>{o.active_key_count}</td>
        <td>{formatDate(o.created_at)}</td>
      </tr>
      {props.open && (
        <tr>
          <td colSpan={6}>
            <OrgPanel orgId={o.id} plans={props.plans} onChanged={props.onChanged} />
          </td>
        </tr>
      )}
    </>
  );
}

function OrgPanel({
  orgId,
  plans,
  onChanged,
}: {
  orgId: string;
  plans: PlanView[];
  onChanged(): void;
}) {
  const [detail, setDetail] = useState<OrgDetail | null>(null);
  const [reason, setReason] = useState("");
  const { busy, error, run } = useAction();
  const base = `/admin/api/orgs/${orgId}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: load on open
  useEffect(() => {
    void run(async () => setDetail(await api<OrgDetail>("GET", base)));
  }, [base]);
  const change = (fn: () => Promise<OrgDetail>) =>
    run(async () => {
      setDetail(await fn());
      onChanged();
    });
  if (!detail) return <ErrorText error={error} />;
  const { org } = detail;
  return (
    <div className="panel">
      <div className="row">
        {org.status === "active" ? (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void change(() => api("POST", `${base}/disable`, { reason }));
            }}
          >
            <input
              required
              placeholder="Reason (shown to operators)"
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              aria-label="Disable reason"
            />
            <button type="submit" className="danger" disabled={busy}>
              Disable organization
            </button>
          </form>
        ) : (
          <button
            type="button"
            disabled={busy}
            onClick={() => void change(() => api("POST", `${base}/enable`))}
          >
            Enable organization
          </button>
        )}
        <label className="inline">
          Plan
          <select
            value={org.plan.slug}
            onChange={(e) => void change(() => api("PATCH", base, { plan: e.target.value }))}
            aria-label="Plan"
          >
            {plans.map((p) => (
              <option key={p.id} value={p.slug}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorText error={error} />
      <h3>Members</h3>
      <ul className="plain">
        {detail.members.map((m) => (
          <li key={m.id}>
            {m.email} ({m.role})
          </li>
        ))}
      </ul>
      <h3>Keys</h3>
      {detail.keys.length === 0 ? (
        <p className="muted">No keys.</p>
      ) : (
        <table>
          <tbody>
            {detail.keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.masked}</code>
                </td>
                <td>
                  <Badge
                    tone={k.status === "active" ? "ok" : k.status === "disabled" ? "bad" : "muted"}
                  >
                    {k.status}
                  </Badge>
                </td>
                <td>last used {k.last_used_at ? formatDate(k.last_used_at) : "never"}</td>
                <td className="actions">
                  <button
                    type="button"
                    className={k.disabled ? "secondary" : "danger"}
                    onClick={() =>
                      void run(async () => {
                        await api("POST", `/admin/api/keys/${k.id}/disabled`, {
                          disabled: !k.disabled,
                        });
                        setDetail(await api<OrgDetail>("GET", base));
                      })
                    }
                  >
                    {k.disabled ? "Enable key" : "Disable key"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
