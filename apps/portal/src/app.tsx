import type { MembershipView, MeResponse } from "@portal/contracts";
import { useCallback, useEffect, useState } from "react";
import { AdminApp } from "./admin/admin-app.js";
import { api, loadMe, setCsrfToken, setUnauthorizedHandler } from "./api.js";
import { BillingPage } from "./pages/billing.js";
import { DocsPage } from "./pages/docs.js";
import { GetStartedPage } from "./pages/get-started.js";
import { KeysPage } from "./pages/keys.js";
import { PlaygroundPage } from "./pages/playground.js";
import { ProfilePage } from "./pages/profile.js";
import { SignInPage } from "./pages/sign-in.js";
import { UsagePage } from "./pages/usage.js";
import { Link, useRouter } from "./router.js";
import { ErrorText } from "./ui.js";

/** What every signed-in page gets, including a user who belongs to no organization yet. */
export interface AccountSession {
  me: MeResponse;
  /** The selected organization, or null when the user is a member of none. */
  membership: MembershipView | null;
  /** Reload the user and memberships (after profile or org changes). */
  refresh(): Promise<void>;
  /** Make this org the selected one (remembered in this browser). */
  selectOrg(orgId: string): void;
  /** A key created in this tab, kept in memory only, offered in the playground. */
  lastKey: string | null;
  setLastKey(key: string | null): void;
}

/** The session of an organization page: there is a selected organization. */
export interface Session extends AccountSession {
  membership: MembershipView;
}

const NAV = [
  ["/portal/keys", "API keys"],
  ["/portal/usage", "Usage"],
  ["/portal/billing", "Billing"],
  ["/portal/docs", "Docs"],
  ["/portal/playground", "Playground"],
  ["/portal/profile", "Profile"],
] as const;

/** Without an organization only these make sense; any other path shows the get-started screen. */
const NO_ORG_NAV = [
  ["/portal/keys", "Get started"],
  ["/portal/profile", "Profile"],
] as const;

const ORG_STORAGE = "portal.org";

export function App() {
  const { path, navigate } = useRouter();
  const [me, setMe] = useState<MeResponse | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [orgId, setOrgId] = useState<string | null>(() => localStorage.getItem(ORG_STORAGE));
  const [lastKey, setLastKey] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setMe(await loadMe());
    } catch (err) {
      setLoadError(err);
    }
  }, []);

  const selectOrg = useCallback((id: string) => {
    localStorage.setItem(ORG_STORAGE, id);
    setOrgId(id);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => setMe(null));
    void refresh();
  }, [refresh]);

  if (loadError) return <ErrorText error={loadError} />;
  if (me === undefined) return <p className="loading">Loading…</p>;
  if (me === null) {
    return (
      <SignInPage
        onSignedIn={(next) => {
          setCsrfToken(next.csrf_token);
          setMe(next);
          if (!path.startsWith("/portal/") && !path.startsWith("/admin")) navigate("/portal/keys");
          else if (path === "/portal" || path === "/portal/") navigate("/portal/keys");
        }}
      />
    );
  }

  const membership = me.memberships.find((m) => m.org.id === orgId) ?? me.memberships[0];
  const account: AccountSession = {
    me,
    membership: membership ?? null,
    refresh,
    selectOrg,
    lastKey,
    setLastKey,
  };
  const signOut = async () => {
    await api("POST", "/portal/api/auth/sign-out").catch(() => {});
    setCsrfToken(null);
    setLastKey(null);
    setMe(null);
    navigate("/portal");
  };
  const isAdmin = path === "/admin" || path.startsWith("/admin/");

  return (
    <div className="shell">
      <header className="topbar">
        <Link href="/portal/keys" className="brand">
          Portal
        </Link>
        {isAdmin ? (
          <span className="muted">Operator console</span>
        ) : (
          me.memberships.length > 1 && (
            <select
              aria-label="Organization"
              value={membership?.org.id}
              onChange={(e) => selectOrg(e.target.value)}
            >
              {me.memberships.map((m) => (
                <option key={m.org.id} value={m.org.id}>
                  {m.org.name}
                </option>
              ))}
            </select>
          )
        )}
        <span className="spacer" />
        {me.user.is_operator &&
          (isAdmin ? (
            <Link href="/portal/keys">Customer console</Link>
          ) : (
            <Link href="/admin">Operator</Link>
          ))}
        <span className="muted">{me.user.email}</span>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      {isAdmin ? (
        me.user.is_operator ? (
          <AdminApp selfId={me.user.id} />
        ) : (
          <main className="content">
            <p>This page does not exist.</p>
          </main>
        )
      ) : (
        <div className="layout">
          <nav className="sidenav" aria-label="Portal">
            {(membership ? NAV : NO_ORG_NAV).map(([href, label]) => (
              <Link key={href} href={href}>
                {label}
              </Link>
            ))}
          </nav>
          <main className="content">
            {membership ? (
              <PortalPage path={path} session={{ ...account, membership }} />
            ) : path.startsWith("/portal/profile") ? (
              <ProfilePage session={account} />
            ) : (
              <GetStartedPage session={account} />
            )}
          </main>
        </div>
      )}
    </div>
  );
}

function PortalPage({ path, session }: { path: string; session: Session }) {
  if (path.startsWith("/portal/usage")) return <UsagePage session={session} />;
  if (path.startsWith("/portal/billing")) return <BillingPage session={session} />;
  if (path.startsWith("/portal/docs")) return <DocsPage session={session} />;
  if (path.startsWith("/portal/playground")) return <PlaygroundPage session={session} />;
  if (path.startsWith("/portal/profile")) return <ProfilePage session={session} />;
  return <KeysPage session={session} />;
}
