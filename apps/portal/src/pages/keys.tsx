import type { ApiKeyView, CreatedKey } from "@portal/contracts";
import { type FormEvent, useEffect, useState } from "react";
import { api, formatDate } from "../api.js";
import type { Session } from "../app.js";
import { Badge, Card, CopyButton, ErrorText, useAction } from "../ui.js";

const STATUS_TONE = {
  active: "ok",
  rolling: "warn",
  revoked: "muted",
  expired: "muted",
  disabled: "bad",
} as const;

function parseLimit(v: string): number | null {
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** Create, list, roll, revoke keys and set per-key limits. */
export function KeysPage({ session }: { session: Session }) {
  const { org, role } = session.membership;
  const canManage = role === "owner" || role === "admin";
  const base = `/portal/api/orgs/${org.id}/keys`;
  const [keys, setKeys] = useState<ApiKeyView[] | null>(null);
  const [revealed, setRevealed] = useState<{
    plaintext: string;
    name: string;
    note: string;
  } | null>(null);
  const [name, setName] = useState("");
  const [editing, setEditing] = useState<string | null>(null);
  const list = useAction();
  const act = useAction();

  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);
  // biome-ignore lint/correctness/useExhaustiveDependencies: list.run is a fresh closure each render; refetch on org change or reload()
  useEffect(() => {
    void list.run(async () => setKeys((await api<{ data: ApiKeyView[] }>("GET", base)).data));
  }, [base, version]);
  // A key revealed for one org must not stay on screen after switching to another.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on org change by design
  useEffect(() => setRevealed(null), [base]);

  const create = (e: FormEvent) => {
    e.preventDefault();
    void act.run(async () => {
      const created = await api<CreatedKey>("POST", base, { name: name.trim() || "default" });
      setRevealed({ plaintext: created.plaintext, name: created.key.name, note: "created" });
      session.setLastKey(created.plaintext);
      setName("");
      reload();
    });
  };
  const roll = (k: ApiKeyView) =>
    act.run(async () => {
      if (!window.confirm(`Roll "${k.name}"? The current key keeps working for 24 hours.`)) return;
      const rolled = await api<CreatedKey>("POST", `${base}/${k.id}/roll`, {
        grace_seconds: 86_400,
      });
      setRevealed({
        plaintext: rolled.plaintext,
        name: rolled.key.name,
        note: "rolled — the old key stops working in 24 hours",
      });
      session.setLastKey(rolled.plaintext);
      reload();
    });
  const revoke = (k: ApiKeyView) =>
    act.run(async () => {
      if (!window.confirm(`Revoke "${k.name}" (${k.masked})? Requests with it fail at once.`))
        return;
      await api("POST", `${base}/${k.id}/revoke`);
      reload();
    });

  return (
    <>
      <h1>API keys</h1>
      <p className="muted">
        Keys authenticate your requests to the Portal API. Send one as{" "}
        <code>Authorization: Bearer cx_live_…</code>.
      </p>
      {revealed && (
        <Card title={`Key ${revealed.note}: ${revealed.name}`}>
          <p>
            <strong>Copy this key now.</strong> It is shown only once; Portal stores only a hash of
            it.
          </p>
          <div className="secret-row">
            <code className="secret" data-testid="new-key">
              {revealed.plaintext}
            </code>
            <CopyButton text={revealed.plaintext} />
          </div>
          <button type="button" className="link" onClick={() => setRevealed(null)}>
            I have stored it — hide
          </button>
        </Card>
      )}
      {canManage ? (
        <Card title="Create a key">
          <form className="inline-form" onSubmit={create}>
            <input
              aria-label="Key name"
              placeholder="Name, e.g. production server"
              value={name}
              maxLength={100}
              onChange={(e) => setName(e.target.value)}
            />
            <button type="submit" disabled={act.busy}>
              Create key
            </button>
          </form>
        </Card>
      ) : (
        <p className="hint">
          Your role ({role}) can see keys; owners and admins create and revoke them.
        </p>
      )}
      <ErrorText error={act.error ?? list.error} />
      <Card title="Your keys">
        {keys === null ? (
          <p className="loading">Loading…</p>
        ) : keys.length === 0 ? (
          <p className="muted">No keys yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Status</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Limits</th>
                {canManage && <th />}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <KeyRow
                  key={k.id}
                  k={k}
                  canManage={canManage}
                  editing={editing === k.id}
                  onEdit={() => setEditing(editing === k.id ? null : k.id)}
                  onRoll={() => void roll(k)}
                  onRevoke={() => void revoke(k)}
                  onSaved={() => {
                    setEditing(null);
                    reload();
                  }}
                  base={base}
                  plan={session.membership.org.plan}
                />
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function KeyRow(props: {
  k: ApiKeyView;
  canManage: boolean;
  editing: boolean;
  base: string;
  plan: Session["membership"]["org"]["plan"];
  onEdit(): void;
  onRoll(): void;
  onRevoke(): void;
  onSaved(): void;
}) {
  const { k, canManage } = props;
  const usable = k.status === "active" || k.status === "rolling";
  const limits = [
    k.rpm_limit !== null ? `${k.rpm_limit} req/min` : null,
    k.tpm_limit !== null ? `${k.tpm_limit} tokens/min` : null,
    k.concurrency_limit !== null ? `${k.concurrency_limit} concurrent` : null,
  ].filter(Boolean);
  return (
    <>
      <tr data-key-id={k.id}>
        <td>{k.name}</td>
        <td>
          <code>{k.masked}</code>
        </td>
        <td>
          <Badge tone={STATUS_TONE[k.status]}>{k.status}</Badge>
          {k.status === "rolling" && <div className="hint">until {formatDate(k.revoked_at)}</div>}
        </td>
        <td>{formatDate(k.created_at)}</td>
        <td>{k.last_used_at ? formatDate(k.last_used_at) : "never"}</td>
        <td>{limits.length ? limits.join(", ") : <span className="muted">plan default</span>}</td>
        {canManage && (
          <td className="actions">
            {usable && (
              <>
                <button type="button" className="secondary" onClick={props.onEdit}>
                  Limits
                </button>
                {k.status === "active" && (
                  <button type="button" className="secondary" onClick={props.onRoll}>
                    Roll
                  </button>
                )}
                <button type="button" className="danger" onClick={props.onRevoke}>
                  Revoke
                </button>
              </>
            )}
          </td>
        )}
      </tr>
      {props.editing && (
        <tr>
          <td colSpan={7}>
            <LimitsForm {...props} />
          </td>
        </tr>
      )}
    </>
  );
}

function LimitsForm(props: {
  k: ApiKeyView;
  base: string;
  plan: Session["membership"]["org"]["plan"];
  onSaved(): void;
}) {
  const { k, plan } = props;
  const [rpm, setRpm] = useState(k.rpm_limit?.toString() ?? "");
  const [tpm, setTpm] = useState(k.tpm_limit?.toString() ?? "");
  const [conc, setConc] = useState(k.concurrency_limit?.toString() ?? "");
  const { busy, error, run } = useAction();
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api("PATCH", `${props.base}/${k.id}`, {
        rpm_limit: parseLimit(rpm),
        tpm_limit: parseLimit(tpm),
        concurrency_limit: parseLimit(conc),
      });
      props.onSaved();
    });
  };
  return (
    <form className="limits" onSubmit={save}>
      <p className="hint">
        Per-key limits can only tighten your plan's ({plan.name}) limits. Leave empty for the plan
        default.
      </p>
      <label>
        Requests / minute (plan: {plan.requests_per_minute_key})
        <input inputMode="numeric" value={rpm} onChange={(e) => setRpm(e.target.value)} />
      </label>
      <label>
        Tokens / minute (plan: {plan.tokens_per_minute_org})
        <input inputMode="numeric" value={tpm} onChange={(e) => setTpm(e.target.value)} />
      </label>
      <label>
        Concurrent requests (plan: {plan.max_concurrent_per_key})
        <input inputMode="numeric" value={conc} onChange={(e) => setConc(e.target.value)} />
      </label>
      <ErrorText error={error} />
      <button type="submit" disabled={busy}>
        Save limits
      </button>
    </form>
  );
}
