import type { MemberRole, MembershipView } from "@portal/contracts";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, formatDate } from "../api.js";
import type { AccountSession } from "../app.js";
import { Link } from "../router.js";
import { Card, CopyButton, ErrorText, useAction } from "../ui.js";

interface Member {
  id: string;
  user_id: string;
  email: string;
  name: string | null;
  role: MemberRole;
}
interface Invitation {
  id: string;
  email: string;
  role: MemberRole;
  expires_at: string;
}

/** Profile: name, password, organizations, members and invitations (also without an org). */
export function ProfilePage({ session }: { session: AccountSession }) {
  const { me } = session;
  const [name, setName] = useState(me.user.name ?? "");
  const profile = useAction();
  const [saved, setSaved] = useState(false);
  const saveName = (e: FormEvent) => {
    e.preventDefault();
    void profile.run(async () => {
      await api("PATCH", "/portal/api/me", { name });
      await session.refresh();
      setSaved(true);
    });
  };
  return (
    <>
      <h1>Profile</h1>
      <Card title="Account">
        <form className="stack" onSubmit={saveName}>
          <label>
            Email
            <input value={me.user.email} disabled />
          </label>
          <label>
            Name
            <input
              value={name}
              onChange={(e) => {
                setSaved(false);
                setName(e.target.value);
              }}
              required
              maxLength={100}
            />
          </label>
          <ErrorText error={profile.error} />
          <button type="submit" disabled={profile.busy}>
            Save
          </button>
          {saved && <span className="hint">Saved.</span>}
        </form>
      </Card>
      {me.user.has_password && <PasswordCard />}
      {session.membership ? (
        <OrgCard session={session} membership={session.membership} />
      ) : (
        <Card title="Organization">
          <p className="muted">
            You are not a member of any organization yet.{" "}
            <Link href="/portal/keys">Create one</Link> or join one with an invitation code below.
          </p>
        </Card>
      )}
      <AcceptInvitation session={session} />
    </>
  );
}

function PasswordCard() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api("POST", "/portal/api/me/password", {
        current_password: current,
        new_password: next,
      });
      setCurrent("");
      setNext("");
      setDone(true);
    });
  };
  return (
    <Card title="Password">
      <form className="stack" onSubmit={submit}>
        <label>
          Current password
          <input
            type="password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
            required
            autoComplete="current-password"
          />
        </label>
        <label>
          New password (10+ characters)
          <input
            type="password"
            minLength={10}
            value={next}
            onChange={(e) => setNext(e.target.value)}
            required
            autoComplete="new-password"
          />
        </label>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          Change password
        </button>
        {done && (
          <span className="hint">Password changed; your other sessions were signed out.</span>
        )}
      </form>
    </Card>
  );
}

function OrgCard({ session, membership }: { session: AccountSession; membership: MembershipView }) {
  const { org, role } = membership;
  const manage = role === "owner" || role === "admin";
  const [members, setMembers] = useState<Member[]>([]);
  const [invites, setInvites] = useState<Invitation[]>([]);
  const [email, setEmail] = useState("");
  const [inviteRole, setInviteRole] = useState<MemberRole>("member");
  const [token, setToken] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const base = `/portal/api/orgs/${org.id}`;
  const reload = useCallback(async () => {
    setMembers((await api<{ data: Member[] }>("GET", `${base}/members`)).data);
    if (manage) setInvites((await api<{ data: Invitation[] }>("GET", `${base}/invitations`)).data);
  }, [base, manage]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: run is a fresh closure each render
  useEffect(() => {
    void run(reload);
  }, [reload]);
  const invite = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const res = await api<{ token: string }>("POST", `${base}/invitations`, {
        email,
        role: inviteRole,
      });
      setToken(res.token);
      setEmail("");
      await reload();
    });
  };
  return (
    <Card title={`Organization: ${org.name}`}>
      <p className="muted">
        Your role: {role}. Plan: {org.plan.name}.
      </p>
      <table>
        <thead>
          <tr>
            <th>Member</th>
            <th>Role</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.id}>
              <td>
                {m.name ? `${m.name} · ` : ""}
                {m.email}
              </td>
              <td>
                {role === "owner" && m.user_id !== session.me.user.id ? (
                  <select
                    aria-label={`Role of ${m.email}`}
                    value={m.role}
                    onChange={(e) =>
                      void run(async () => {
                        await api("PATCH", `${base}/members/${m.id}`, { role: e.target.value });
                        await reload();
                      })
                    }
                  >
                    <option value="owner">owner</option>
                    <option value="admin">admin</option>
                    <option value="member">member</option>
                  </select>
                ) : (
                  m.role
                )}
              </td>
              <td className="actions">
                {manage && m.user_id !== session.me.user.id && (
                  <button
                    type="button"
                    className="danger"
                    onClick={() =>
                      void run(async () => {
                        await api("DELETE", `${base}/members/${m.id}`);
                        await reload();
                      })
                    }
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {manage && (
        <>
          <h3>Invite someone</h3>
          <form className="inline-form" onSubmit={invite}>
            <input
              type="email"
              required
              placeholder="email@example.com"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-label="Invite email"
            />
            <select
              value={inviteRole}
              onChange={(e) => setInviteRole(e.target.value as MemberRole)}
              aria-label="Invite role"
            >
              <option value="member">member</option>
              <option value="admin">admin</option>
              {role === "owner" && <option value="owner">owner</option>}
            </select>
            <button type="submit" disabled={busy}>
              Invite
            </button>
          </form>
          {token && (
            <div className="notice">
              <p>
                Portal does not send email yet. Give this invitation code to the person; they paste
                it on their Profile page after signing in with that email. It is shown once.
              </p>
              <div className="secret-row">
                <code className="secret">{token}</code>
                <CopyButton text={token} />
              </div>
            </div>
          )}
          {invites.length > 0 && (
            <ul className="plain">
              {invites.map((i) => (
                <li key={i.id}>
                  {i.email} as {i.role}, expires {formatDate(i.expires_at)}{" "}
                  <button
                    type="button"
                    className="link"
                    onClick={() =>
                      void run(async () => {
                        await api("DELETE", `${base}/invitations/${i.id}`);
                        await reload();
                      })
                    }
                  >
                    withdraw
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <ErrorText error={error} />
    </Card>
  );
}

/** Paste an invitation code; on success the joined org becomes the selected one. */
export function AcceptInvitation({
  session,
  onJoined,
}: {
  session: AccountSession;
  onJoined?: (joined: MembershipView) => void;
}) {
  const [token, setToken] = useState("");
  const [joined, setJoined] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const res = await api<MembershipView>("POST", "/portal/api/me/invitations/accept", {
        token: token.trim(),
      });
      setJoined(res.org.name);
      setToken("");
      session.selectOrg(res.org.id);
      await session.refresh();
      onJoined?.(res);
    });
  };
  return (
    <Card title="Join an organization">
      <form className="inline-form" onSubmit={submit}>
        <input
          placeholder="Invitation code (inv_…)"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-label="Invitation code"
          required
        />
        <button type="submit" disabled={busy}>
          Join
        </button>
      </form>
      <ErrorText error={error} />
      {joined && <p className="hint">You joined {joined}; it is now the selected organization.</p>}
    </Card>
  );
}
