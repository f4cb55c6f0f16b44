import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api.js";
import { Badge, Card, ErrorText, useAction } from "../ui.js";

type State = "active" | "draining" | "disabled";
interface Target {
  id: string;
  url: string;
  session_id: number;
  weight: number;
  state: State;
  /** This gateway's live view: health checks and recent request outcomes. */
  health: "healthy" | "unhealthy" | null;
  health_detail: HealthDetail | null;
}
interface HealthDetail {
  state: "healthy" | "unhealthy";
  consecutive_failures: number;
  circuit_open_until: string | null;
  last_check: { ok: boolean; at: string; reason: string | null } | null;
}
interface Pool {
  id: string;
  name: string;
  state: State;
  aliases: string[];
  targets: Target[];
}
interface Health {
  pools: Array<{ name: string; healthy: number; total: number }>;
}

const TONE = { active: "ok", draining: "warn", disabled: "muted" } as const;
/** How often the page refreshes health while it is open. */
const LIVE_REFRESH_MS = 5_000;

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

/**
 * Pools and their router targets: add, weight, drain, disable, remove, and live health (this
 * gateway instance's active checks and request outcomes, refreshed every few seconds).
 */
export function PoolsPage() {
  const [pools, setPools] = useState<Pool[] | null>(null);
  const [health, setHealth] = useState<Health | null>(null);
  const [name, setName] = useState("");
  const { busy, error, run } = useAction();
  const reload = async () => {
    setPools((await api<{ data: Pool[] }>("GET", "/admin/api/pools")).data);
    // /health reports routable targets per pool as the gateway sees them right now.
    setHealth(await fetch("/health").then((r) => r.json() as Promise<Health>));
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once, then poll
  useEffect(() => {
    void run(reload);
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") reload().catch(() => {});
    }, LIVE_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const deletePool = (p: Pool) =>
    void run(async () => {
      if (!window.confirm(`Delete pool ${p.name} and its ${p.targets.length} targets?`)) return;
      await api("DELETE", `/admin/api/pools/${p.id}`);
      await reload();
    });
  const createPool = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api("POST", "/admin/api/pools", { name });
      setName("");
      await reload();
    });
  };
  return (
    <>
      <h1>Pools</h1>
      <p className="muted">
        Health is this gateway instance's live view (active checks of each router's status and the
        outcome of real requests), refreshed every {LIVE_REFRESH_MS / 1000} s.
      </p>
      <ErrorText error={error} />
      {(pools ?? []).map((p) => {
        const h = health?.pools.find((x) => x.name === p.name);
        return (
          <Card
            key={p.id}
            title={`Pool ${p.name}`}
            actions={
              <div className="toolbar">
                {h && (
                  <span className="muted" data-testid={`pool-health-${p.name}`}>
                    {h.healthy}/{h.total} routable
                  </span>
                )}
                <select
                  aria-label={`State of pool ${p.name}`}
                  value={p.state}
                  onChange={(e) =>
                    void run(async () => {
                      await api("PATCH", `/admin/api/pools/${p.id}`, { state: e.target.value });
                      await reload();
                    })
                  }
                >
                  <option value="active">active</option>
                  <option value="draining">draining</option>
                  <option value="disabled">disabled</option>
                </select>
                {p.aliases.length === 0 && (
                  <button type="button" className="danger" onClick={() => deletePool(p)}>
                    Delete pool
                  </button>
                )}
              </div>
            }
          >
            <p className="muted">Serves: {p.aliases.length ? p.aliases.join(", ") : "no models"}</p>
            <table>
              <thead>
                <tr>
                  <th>Router</th>
                  <th>Session</th>
                  <th>Weight</th>
                  <th>State</th>
                  <th>Health</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {p.targets.map((t) => (
                  <TargetRow key={t.id} t={t} onChanged={() => void run(reload)} />
                ))}
              </tbody>
            </table>
            <AddTarget poolId={p.id} onAdded={() => void run(reload)} />
          </Card>
        );
      })}
      <Card title="Add a pool">
        <form className="inline-form" onSubmit={createPool}>
          <input
            required
            placeholder="pool name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-label="Pool name"
          />
          <button type="submit" disabled={busy}>
            Add pool
          </button>
        </form>
      </Card>
    </>
  );
}

function TargetRow({ t, onChanged }: { t: Target; onChanged(): void }) {
  const [weight, setWeight] = useState(String(t.weight));
  const { busy, error, run } = useAction();
  const patch = (body: Record<string, unknown>) =>
    void run(async () => {
      await api("PATCH", `/admin/api/targets/${t.id}`, body);
      onChanged();
    });
  return (
    <tr data-target-id={t.id}>
      <td>
        <code>{t.url}</code>
        <ErrorText error={error} />
      </td>
      <td>{t.session_id}</td>
      <td>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            patch({ weight: Number(weight) });
          }}
        >
          <input
            className="narrow"
            inputMode="numeric"
            value={weight}
            onChange={(e) => setWeight(e.target.value)}
            aria-label="Weight"
          />
          <button type="submit" className="secondary" disabled={busy}>
            Set
          </button>
        </form>
      </td>
      <td>
        <Badge tone={TONE[t.state]}>{t.state}</Badge>
      </td>
      <td data-testid={`health-${t.id}`}>
        <HealthCell h={t.health_detail} />
      </td>
      <td className="actions">
        {t.state !== "active" && (
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => patch({ state: "active" })}
          >
            Activate
          </button>
        )}
        {t.state === "active" && (
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => patch({ state: "draining" })}
          >
            Drain
          </button>
        )}
        {t.state !== "disabled" && (
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => patch({ state: "disabled" })}
          >
            Disable
          </button>
        )}
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              await api("POST", `/admin/api/targets/${t.id}/check`);
              onChanged();
            })
          }
        >
          Check now
        </button>
        {t.state !== "active" && (
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() =>
              void run(async () => {
                if (!window.confirm(`Remove ${t.url} (session ${t.session_id}) from the pool?`)) {
                  return;
                }
                await api("DELETE", `/admin/api/targets/${t.id}`);
                onChanged();
              })
            }
          >
            Remove
          </button>
        )}
      </td>
    </tr>
  );
}

function HealthCell({ h }: { h: HealthDetail | null }) {
  if (!h) return <span className="muted">—</span>;
  return (
    <div className="health">
      <Badge tone={h.state === "healthy" ? "ok" : "bad"}>{h.state}</Badge>
      <span className="hint">
        {h.last_check
          ? `check ${h.last_check.ok ? "ok" : `failed (${h.last_check.reason ?? "error"})`} ${ago(h.last_check.at)}`
          : "not checked yet"}
        {h.consecutive_failures > 0 ? ` · ${h.consecutive_failures} failures in a row` : ""}
        {h.circuit_open_until
          ? ` · out of rotation until ${new Date(h.circuit_open_until).toLocaleTimeString()}`
          : ""}
      </span>
    </div>
  );
}

function AddTarget({ poolId, onAdded }: { poolId: string; onAdded(): void }) {
  const [url, setUrl] = useState("");
  const [session, setSession] = useState("0");
  const [key, setKey] = useState("");
  const [weight, setWeight] = useState("1");
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api("POST", `/admin/api/pools/${poolId}/targets`, {
        url,
        session_id: Number(session),
        router_key: key,
        weight: Number(weight),
      });
      setUrl("");
      setKey("");
      onAdded();
    });
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <input
        required
        placeholder="https://router.example:5010"
        value={url}
        onChange={(e) => setUrl(e.target.value)}
        aria-label="Router URL"
      />
      <input
        className="narrow"
        required
        value={session}
        onChange={(e) => setSession(e.target.value)}
        aria-label="Session id"
      />
      <input
        required
        type="password"
        placeholder="router key"
        value={key}
        onChange={(e) => setKey(e.target.value)}
        aria-label="Router key"
        autoComplete="off"
      />
      <input
        className="narrow"
        value={weight}
        onChange={(e) => setWeight(e.target.value)}
        aria-label="Target weight"
      />
      <button type="submit" disabled={busy}>
        Add target
      </button>
      <ErrorText error={error} />
    </form>
  );
}
