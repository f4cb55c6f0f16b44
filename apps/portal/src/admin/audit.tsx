import { type FormEvent, useEffect, useState } from "react";
import { api, formatDate } from "../api.js";
import { Card, ErrorText, useAction } from "../ui.js";

interface Entry {
  id: string;
  org_id: string | null;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
  created_at: string;
}

/** The audit log, newest first, optionally for one org. */
export function AuditPage() {
  const [org, setOrg] = useState("");
  const [entries, setEntries] = useState<Entry[]>([]);
  const [more, setMore] = useState(false);
  const { busy, error, run } = useAction();
  const load = async (before?: string) => {
    const params = new URLSearchParams({ limit: "50" });
    if (org.trim()) params.set("org_id", org.trim());
    if (before) params.set("before", before);
    const page = (await api<{ data: Entry[] }>("GET", `/admin/api/audit?${params}`)).data;
    setEntries((cur) => (before ? [...cur, ...page] : page));
    setMore(page.length === 50);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void run(() => load());
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => load());
  };
  return (
    <>
      <h1>Audit log</h1>
      <form className="inline-form" onSubmit={submit}>
        <input
          placeholder="org_… (optional)"
          value={org}
          onChange={(e) => setOrg(e.target.value)}
          aria-label="Organization id"
        />
        <button type="submit" disabled={busy}>
          Filter
        </button>
      </form>
      <ErrorText error={error} />
      <Card>
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((a) => (
              <tr key={a.id}>
                <td>{formatDate(a.created_at)}</td>
                <td>
                  {a.actor_kind}
                  <div className="hint">{a.actor_id}</div>
                </td>
                <td>
                  <code>{a.action}</code>
                </td>
                <td>
                  {a.target_type}
                  <div className="hint">{a.target_id}</div>
                </td>
                <td>
                  <code className="details">{JSON.stringify(a.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {more && (
          <button
            type="button"
            className="secondary"
            onClick={() => void run(() => load(entries.at(-1)?.id))}
          >
            Older entries
          </button>
        )}
      </Card>
    </>
  );
}
