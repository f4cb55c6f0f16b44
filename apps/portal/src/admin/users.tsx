import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, formatDate } from "../api.js";
import { Badge, Card, ErrorText, useAction } from "../ui.js";

interface AdminUser {
  id: string;
  email: string;
  name: string | null;
  status: "active" | "disabled";
  is_operator: boolean;
  orgs: Array<{ id: string; name: string; role: string }>;
  created_at: string;
}

/** Find users; disable or re-enable console access (ends sessions), grant or revoke operator. */
export function UsersPage({ selfId }: { selfId: string }) {
  const [q, setQ] = useState("");
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const { busy, error, run } = useAction();
  const search = useCallback(
    (query: string) =>
      api<{ data: AdminUser[] }>("GET", `/admin/api/users?q=${encodeURIComponent(query)}`).then(
        (r) => setUsers(r.data),
      ),
    [],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void run(() => search(""));
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => search(q));
  };
  const patch = (u: AdminUser, body: Record<string, unknown>) =>
    void run(async () => {
      await api("PATCH", `/admin/api/users/${u.id}`, body);
      await search(q);
    });
  return (
    <>
      <h1>Users</h1>
      <form className="inline-form" onSubmit={submit}>
        <input
          placeholder="Email, name or id"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          aria-label="Search users"
        />
        <button type="submit">Search</button>
      </form>
      <ErrorText error={error} />
      <Card>
        {users === null ? (
          <p className="loading">Loading…</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>User</th>
                <th>Organizations</th>
                <th>Status</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-user-id={u.id}>
                  <td>
                    {u.email}
                    {u.name ? <span className="muted"> · {u.name}</span> : null}
                    {u.is_operator && (
                      <>
                        {" "}
                        <Badge tone="warn">operator</Badge>
                      </>
                    )}
                  </td>
                  <td>
                    {u.orgs.map((o) => (
                      <div key={o.id}>
                        {o.name} <span className="muted">({o.role})</span>
                      </div>
                    ))}
                  </td>
                  <td>
                    <Badge tone={u.status === "active" ? "ok" : "bad"}>{u.status}</Badge>
                  </td>
                  <td>{formatDate(u.created_at)}</td>
                  <td className="actions">
                    {u.id !== selfId && (
                      <>
                        <button
                          type="button"
                          className={u.status === "active" ? "danger" : "secondary"}
                          disabled={busy}
                          onClick={() =>
                            patch(u, { status: u.status === "active" ? "disabled" : "active" })
                          }
                        >
                          {u.status === "active" ? "Disable" : "Enable"}
                        </button>
                        <button
                          type="button"
                          className="secondary"
                          disabled={busy}
                          onClick={() => patch(u, { is_operator: !u.is_operator })}
                        >
                          {u.is_operator ? "Revoke operator" : "Make operator"}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
